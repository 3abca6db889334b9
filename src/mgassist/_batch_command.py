"""The ``batch`` command without the argument parser: open the input, assess every record,
stream the JSON lines out (atomically to a file when asked), report and return the exit code."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from ._commands import load_or_report, report_input_errors
from ._errors import InputError

__all__ = ["run_batch"]

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
