"""The ``batch`` command without the argument parser: open the input, assess every record,
stream the JSON lines out (atomically to a file when asked), report and return the exit code.

On stderr: a note naming the CSV columns ignored (before any record), a progress bar counting
records (a file over 1 MB, stderr a terminal), and a summary at the end (counts by status)."""

from __future__ import annotations

import io
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgassist._core.errors import InputError

from .commands import load_or_fail, report_input_errors
from .exit_codes import ExitCode

if TYPE_CHECKING:
    from mgassist._core.contract import Status

    from .batch_records import Columns
    from .render import RecordsProgress

__all__ = ["run_batch"]

_PROGRESS_FROM_BYTES = 1024 * 1024  # a progress bar for inputs over 1 MB, when stderr is a terminal
_PROGRESS_EVERY = 2048  # records between progress updates


def run_batch(source: str, *, output: Path | None, fmt: str, rules_path: Path | None) -> int:
    """Assess every record of ``source`` (a path or ``-``); 0 all assessed, 1 some errors,
    2 unusable arguments or input. Output lines are written as records are read (streaming)."""
    from mgassist._core.engine import evaluate_patient
    from mgassist._core.patient import parse_patient
    from mgassist._files import AtomicWriter, check_writable

    from .batch_records import (
        BatchInputError,
        Format,
        assess_lines,
        detect_format,
        records,
        summary,
    )

    accepted_formats = "auto, " + ", ".join(f.value for f in Format)
    if fmt != "auto" and fmt not in {f.value for f in Format}:
        return report_input_errors([InputError("format", fmt, "is not a format",
                                               accepted_formats)], as_json=False)
    problem = check_writable("output", output) if output is not None else None
    if problem is not None:
        return report_input_errors([problem], as_json=False)
    if source == "-":
        stream: Any = sys.stdin.buffer
        if not hasattr(stream, "peek"):  # a test runner's BytesIO: give it a read buffer
            stream = io.BufferedReader(stream)
        size = None
    else:
        path = Path(source)
        if not path.is_file():
            return report_input_errors([InputError(
                "input", source, "is not a readable file",
                "a .jsonl or .csv file, or - for standard input")], as_json=False)
        stream = path.open("rb")
        size = path.stat().st_size
    try:
        rules = load_or_fail(rules_path, as_json=False)
        chosen = Format(fmt) if fmt != "auto" else detect_format(source, stream.peek(64))

        memo: dict[Any, Any] = {}
        statuses: Counter[Status] = Counter()

        def assess(raw: dict[str, Any]) -> bytes:
            assessment = evaluate_patient(parse_patient(raw, rules, memo=memo), rules)
            line = assessment.to_json_bytes()
            statuses[assessment.status] += 1  # counted here: the JSON is never parsed back
            return line

        lines = assess_lines(records(stream, chosen, name=source, on_columns=_note), assess)
        progress = _progress(size)
        count = failed = 0
        try:
            with AtomicWriter(output) if output is not None else _Stdout() as out:
                for line, assessed in lines:
                    out.write(line + b"\n")
                    count += 1
                    failed += not assessed
                    if progress is not None and count % _PROGRESS_EVERY == 0:
                        progress.update(count, stream.tell())
        except BatchInputError as exc:
            return report_input_errors(exc.errors, as_json=False)
        finally:
            lines.close()  # finish reading before the input is closed
            if progress is not None:
                progress.stop()
        sys.stderr.write(summary(records=count, failed=failed, statuses=statuses,
                                 output=output) + "\n")
        return ExitCode.PROBLEMS if failed else ExitCode.OK
    finally:
        if source != "-":
            stream.close()


def _note(columns: Columns) -> None:
    note = columns.note()
    if note is not None:
        sys.stderr.write(note + "\n")
        sys.stderr.flush()


class _Stdout:
    def __enter__(self) -> Any:
        return sys.stdout.buffer

    def __exit__(self, *exc: object) -> None:
        sys.stdout.buffer.flush()


def _progress(size: int | None) -> RecordsProgress | None:
    if size is None or size < _PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        return None
    from .render import RecordsProgress

    return RecordsProgress(size)
