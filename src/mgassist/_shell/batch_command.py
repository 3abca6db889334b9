"""The ``batch`` command without the argument parser: open the input, assess every record
(in worker processes with ``--jobs``), stream them out as JSON Lines, CSV or Parquet (atomically
to a file when asked), report and return the exit code.

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


def run_batch(source: str, *, output: Path | None, fmt: str, rules_path: Path | None,
              input_format: str = "auto", jobs: int = 1) -> int:
    """Assess every record of ``source`` (a path or ``-``) and write them in ``fmt`` (jsonl,
    csv or parquet); 0 all assessed, 1 some errors, 2 unusable arguments or input. Output is
    written as records are read (streaming), by ``jobs`` worker processes (0: every CPU)."""
    from .batch_jobs import assessed_chunks, cpu_count, keep_out_of_collections
    from .batch_output import OutputFile, OutputFormat
    from .batch_records import (
        BatchInputError,
        Format,
        detect_format,
        jsonl_lines,
        records,
        summary,
    )

    problems = _argument_problems(output=output, fmt=fmt, input_format=input_format, jobs=jobs)
    if problems:
        return report_input_errors(problems, as_json=False)
    out_format = OutputFormat(fmt)
    opened = _open_input(source)
    if isinstance(opened, InputError):
        return report_input_errors([opened], as_json=False)
    stream, size = opened
    try:
        rules = load_or_fail(rules_path, as_json=False)
        keep_out_of_collections()  # the rules and the modules: alive for the whole batch
        chosen = Format(input_format) if input_format != "auto" else \
            detect_format(source, stream.peek(64))
        statuses: Counter[Status] = Counter()
        jobs = jobs or cpu_count()
        lines = jsonl_lines(stream, source) if chosen is Format.JSONL and jobs > 1 else None
        chunks = assessed_chunks(records(stream, chosen, name=source, on_columns=_note),
                                 rules, out_format, jobs, lines=lines)
        progress = _progress(size)
        count = failed = shown = 0
        try:
            with OutputFile(out_format, output) as out:
                for chunk in chunks:
                    out.write(chunk)
                    count += chunk.records
                    failed += chunk.failed
                    statuses.update(chunk.statuses)
                    if progress is not None and count - shown >= _PROGRESS_EVERY:
                        shown = count
                        progress.update(count, stream.tell())
        except BatchInputError as exc:
            return report_input_errors(exc.errors, as_json=False)
        finally:
            chunks.close()  # finish reading (and stop any worker) before the input is closed
            if progress is not None:
                progress.stop()
        sys.stderr.write(summary(records=count, failed=failed, statuses=statuses,
                                 output=output) + "\n")
        return ExitCode.PROBLEMS if failed else ExitCode.OK
    finally:
        if source != "-":
            stream.close()


def _open_input(source: str) -> tuple[Any, int | None] | InputError:
    """The input as a peekable binary stream, with its size when it is a file; or why not."""
    if source == "-":
        stream: Any = sys.stdin.buffer
        if not hasattr(stream, "peek"):  # a test runner's BytesIO: give it a read buffer
            stream = io.BufferedReader(stream)
        return stream, None
    path = Path(source)
    if not path.is_file():
        return InputError("input", source, "is not a readable file",
                          "a .jsonl or .csv file, or - for standard input")
    return path.open("rb"), path.stat().st_size


def _argument_problems(*, output: Path | None, fmt: str, input_format: str, jobs: int
                       ) -> list[InputError]:
    from mgassist._files import check_writable

    from .batch_output import OutputFormat, missing_pyarrow
    from .batch_records import Format

    problems: list[InputError] = []
    if fmt not in {f.value for f in OutputFormat}:
        problems.append(InputError("format", fmt, "is not an output format",
                                   ", ".join(f.value for f in OutputFormat)))
    if input_format != "auto" and input_format not in {f.value for f in Format}:
        problems.append(InputError("input-format", input_format, "is not an input format",
                                   "auto, " + ", ".join(f.value for f in Format)))
    if jobs < 0:
        problems.append(InputError("jobs", str(jobs), "is negative",
                                   "a number of worker processes, or 0 for every CPU"))
    problem = check_writable("output", output) if output is not None else None
    if problem is not None:
        problems.append(problem)
    if fmt == OutputFormat.PARQUET and not problems:
        problem = missing_pyarrow("format")
        if problem is None and output is None and sys.stdout.isatty():
            problem = InputError("format", "parquet", "is binary and standard output is a "
                                 "terminal", "--output FILE, or a pipe")
        if problem is not None:
            problems.append(problem)
    return problems


def _note(columns: Columns) -> None:
    note = columns.note()
    if note is not None:
        sys.stderr.write(note + "\n")
        sys.stderr.flush()


def _progress(size: int | None) -> RecordsProgress | None:
    if size is None or size < _PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        return None
    from .render import RecordsProgress

    return RecordsProgress(size)
