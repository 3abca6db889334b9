"""``batch --fhir``: one assessment line per FHIR document, from an NDJSON file (one Bundle
per line, or - for stdin) or a folder of ``*.json`` Bundle files, in input order.

Each line is the assessment with its ``sources`` and the document's ``line`` (its line in the
NDJSON file, or its number in the folder's name order, with ``file``); a document that cannot
be read or assessed gets an error line, and the others go on (exit 1)."""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mgassist._core.errors import FhirError, InputError, InputErrors

from .commands import load_or_fail, report_input_errors
from .exit_codes import ExitCode

if TYPE_CHECKING:
    from mgassist._core.contract import Status

__all__ = ["run_batch_fhir"]


def run_batch_fhir(source: str, *, output: Path | None, rules_path: Path | None,
                   as_of: str | None) -> int:
    """Assess every FHIR document of ``source``; 0 all assessed, 1 some errors, 2 unusable
    arguments or input."""
    from mgassist._core.engine import evaluate_patient
    from mgassist._fhir import read_fhir
    from mgassist._files import AtomicWriter, check_writable

    from .batch_records import summary
    from .fhir_input import as_of_date, documents

    problem = check_writable("output", output) if output is not None else None
    if problem is not None:
        return report_input_errors([problem], as_json=False)
    if source != "-" and not Path(source).exists():
        return report_input_errors([InputError(
            "input", source, "is not a readable file or folder",
            "an NDJSON file of Bundles (one per line), a folder of Bundle .json files, or - "
            "for standard input")], as_json=False)
    try:
        date = as_of_date(as_of)
    except FhirError as exc:
        return report_input_errors([exc], as_json=False, names={"as_of": "--as-of"})
    rules = load_or_fail(rules_path, as_json=False)
    statuses: Counter[Status] = Counter()
    count = failed = 0
    try:
        with AtomicWriter(output) if output is not None else _Stdout() as out:
            for line, file, document in documents(source):
                head: dict[str, Any] = {"line": line} if file is None else \
                    {"line": line, "file": file}
                count += 1
                try:
                    if isinstance(document, FhirError):
                        raise document
                    found = read_fhir(document, rules, as_of=date)
                    assessment = dataclasses.replace(
                        evaluate_patient(found.patient(rules), rules),
                        sources=found.sources)
                except (FhirError, InputErrors) as exc:
                    errors = exc.errors if isinstance(exc, InputErrors) else (exc,)
                    failed += 1
                    out.write(orjson.dumps({"id": None, **head, "error": errors[0].as_json(),
                                            "errors": [e.as_json() for e in errors]}) + b"\n")
                    continue
                statuses[assessment.status] += 1
                out.write(orjson.dumps(head)[:-1] + b"," + assessment.to_json_bytes()[1:]
                          + b"\n")
    except FhirError as exc:  # the input itself cannot be read (too large, unreadable)
        return report_input_errors([exc], as_json=False, names={"fhir": "INPUT"})
    sys.stderr.write(summary(records=count, failed=failed, statuses=statuses,
                             output=output) + "\n")
    return ExitCode.PROBLEMS if failed else ExitCode.OK


class _Stdout:
    def __enter__(self) -> Any:
        return sys.stdout.buffer

    def __exit__(self, *exc: object) -> None:
        sys.stdout.buffer.flush()
