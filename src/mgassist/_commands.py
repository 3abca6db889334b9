"""What the commands do, without the argument parser: load the rules, parse the patient,
evaluate, print, and turn failures into messages and exit codes.

Both ``assess`` entry points call ``run_assess``: the typer command, and the quick path of
``_entry`` that parses a plain ``assess`` command line without loading typer (typer builds a
pydantic adapter per option, which alone costs more than the whole assessment).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from ._errors import InputError, InputErrors, RulesErrors
from ._ruleset import RuleSet

__all__ = [
    "EXIT_INPUT",
    "load_or_report",
    "report_input_errors",
    "run_assess",
    "run_batch",
    "show",
]

EXIT_INPUT = 2


def report_input_errors(errors: Sequence[InputError], *, as_json: bool) -> int:
    """Print each error on stderr (and the JSON error object on stdout); return the exit code."""
    sys.stderr.write("".join(f"error: {error}\n" for error in errors))
    if as_json:
        body = {"error": errors[0].as_json(), "errors": [e.as_json() for e in errors]}
        sys.stdout.write(orjson.dumps(body).decode() + "\n")
    return EXIT_INPUT


def load_or_report(path: Path | None, *, as_json: bool) -> RuleSet | int:
    """The rule set (from the cache when valid), or the exit code after reporting why not."""
    from ._rules_cache import load_cached

    try:
        return load_cached(path)
    except RulesErrors as exc:
        sys.stderr.write("".join(f"error: {error}\n" for error in exc.errors))
        if as_json:  # a path from argv may hold undecodable bytes (surrogates): escape them
            errors = [{"field": "rules", "message": str(e).encode("utf-8", "backslashreplace")
                       .decode("utf-8")} for e in exc.errors]
            sys.stdout.write(orjson.dumps({"error": errors[0], "errors": errors}).decode()
                             + "\n")
        return EXIT_INPUT


def run_assess(raw: Mapping[str, Any], *, rules_path: Path | None, as_json: bool,
               explain: bool = False) -> int:
    """Assess one patient given as raw fields (keys as in the spec); return the exit code.

    ``explain``: add the trace of every rule (``_trace``), after the report or as the JSON
    ``explain`` array; without it the trace is never computed."""
    from ._engine import evaluate_patient
    from ._patient import parse_patient

    rules = load_or_report(rules_path, as_json=as_json)
    if isinstance(rules, int):
        return rules
    try:
        patient = parse_patient(raw, rules)
    except InputErrors as exc:
        return report_input_errors(exc.errors, as_json=as_json)
    assessment = evaluate_patient(patient, rules)
    if not explain:
        show(assessment, rules, as_json=as_json)
        return 0
    from ._trace import trace

    entries = trace(patient, rules)
    if as_json:
        data = assessment.to_dict()
        data["explain"] = entries
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    from ._trace_text import trace_lines

    show(assessment, rules, as_json=False)
    sys.stdout.write("\n".join(trace_lines(entries, version=rules.version,
                                           sha256=rules.sha256)) + "\n")
    return 0


def show(assessment: Any, rules: RuleSet, *, as_json: bool) -> None:
    """Print the assessment: the JSON object, or the text report."""
    if as_json:
        sys.stdout.write(assessment.to_json(indent=True) + "\n")
        sys.stdout.flush()
        return
    from ._render import render_report

    render_report(assessment, rules)


_PROGRESS_FROM_BYTES = 1024 * 1024  # a progress bar for inputs over 1 MB, when stderr is a terminal
_PROGRESS_EVERY = 2048  # records between progress updates


def run_batch(source: str, *, output: Path | None, fmt: str, rules_path: Path | None) -> int:
    """Assess every record of ``source`` (a path or ``-``); 0 all assessed, 1 some errors,
    2 unusable arguments. Output lines are written as records are read (streaming)."""
    from ._batch import BatchInputError, Format, assess_lines, detect_format, records
    from ._engine import DecisionCache, evaluate_patient
    from ._files import AtomicWriter, check_writable
    from ._patient import parse_patient

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
        rules = load_or_report(rules_path, as_json=False)
        if isinstance(rules, int):
            return rules
        chosen = Format(fmt) if fmt != "auto" else detect_format(source, stream.peek(64))

        cache = DecisionCache(rules)
        memo: dict[Any, Any] = {}

        def assess(raw: dict[str, Any]) -> bytes:
            patient = parse_patient(raw, rules, memo=memo)
            return evaluate_patient(patient, rules, cache=cache).to_json_bytes()

        lines = assess_lines(records(stream, chosen), assess)
        progress = _progress(stream, size)
        failed = 0
        try:
            with AtomicWriter(output) if output is not None else _Stdout() as out:
                for count, (line, assessed) in enumerate(lines, start=1):
                    out.write(line + b"\n")
                    failed += not assessed
                    if progress is not None and count % _PROGRESS_EVERY == 0:
                        progress(stream.tell())
        except BatchInputError as exc:
            return report_input_errors([exc.error], as_json=False)
        finally:
            lines.close()  # finish reading before the input is closed
            if progress is not None:
                progress(None)
        return 1 if failed else 0
    finally:
        if source != "-":
            stream.close()


class _Stdout:
    def __enter__(self) -> Any:
        return sys.stdout.buffer

    def __exit__(self, *exc: object) -> None:
        sys.stdout.buffer.flush()


def _progress(stream: Any, size: int | None) -> Any:
    if size is None or size < _PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        return None
    from ._render import progress_bar

    return progress_bar(size)
