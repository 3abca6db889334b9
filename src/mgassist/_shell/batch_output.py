"""What batch writes: per-record outcomes encoded in the output format, then written.

    outcome(record, rules, memo) -> Assessment | Failure   # one input record, assessed
    encode(fmt, outcomes)        -> Encoded                 # a chunk's bytes (or Arrow batch)
    OutputFile(fmt, output)      -> write(encoded)...       # the destination, atomically

``jsonl`` is the full assessment per record (the JSON contract, with ``line``); ``csv`` and
``parquet`` are the summary row of ``mgassist._core.summary`` (one flat row per record, the
columns in ``COLUMNS`` order; a CSV's empty cell is null). Encoding is pure and runs where the
records are assessed (in a worker with ``--jobs``); only the parent writes.

Parquet needs pyarrow (the ``parquet`` extra); without it the command stops before reading any
record, saying how to install it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, overload

import orjson

from mgassist._core.assessment import Assessment
from mgassist._core.contract import Status
from mgassist._core.engine import evaluate_patient
from mgassist._core.errors import InputError, InputErrors
from mgassist._core.patient import parse_patient
from mgassist._core.summary import COLUMN_NAMES, COLUMNS, decided_row, error_row, summary_row

if TYPE_CHECKING:
    from mgassist._core.ruleset import RuleSet

    from .batch_records import Record

__all__ = ["Decided", "Encoded", "Failure", "OutputFile", "OutputFormat", "arrow_schema", "encode",
           "error_object", "missing_pyarrow", "outcome"]


class OutputFormat(StrEnum):
    """What batch writes."""

    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


@dataclass(frozen=True, slots=True)
class Failure:
    """A record that could not be assessed: its id (as batch reads it) and why."""

    id: str | None
    errors: tuple[InputError, ...]


@dataclass(frozen=True, slots=True)
class Decided:
    """An assessed record as the summary formats show it: its row, and its status."""

    row: dict[str, Any]
    status: Status


@overload
def outcome(record: Record, rules: RuleSet, memo: dict[Any, Any], *,
            summary: Literal[False] = False) -> Assessment | Failure: ...


@overload
def outcome(record: Record, rules: RuleSet, memo: dict[Any, Any], *,
            summary: bool) -> Assessment | Decided | Failure: ...


def outcome(record: Record, rules: RuleSet, memo: dict[Any, Any], *, summary: bool = False
            ) -> Assessment | Decided | Failure:
    """Assess one input record; a record that cannot be assessed is a Failure, never raised.
    ``summary``: only its summary row is wanted (a Decided: no text is filled)."""
    raw = record.raw
    if raw is None:
        assert record.problem is not None
        return Failure(record_id(record.id), (record.problem,))
    try:
        patient = parse_patient(raw, rules, memo=memo)
        if summary:
            row = decided_row(record.line, patient, rules)
            return Decided(row, Status(row["status"]))
        return evaluate_patient(patient, rules)
    except InputErrors as exc:
        return Failure(record_id(raw.get("id")), exc.errors)
    except Exception as exc:  # a bug must not cost the other records; never echo the record
        return Failure(record_id(raw.get("id")), (InputError(
            "record", "", f"could not be assessed: internal error ({type(exc).__name__}); "
            "please report it"),))


def record_id(value: Any) -> str | None:
    """The id of a record that could not be assessed, as its error line shows it."""
    if isinstance(value, str) and not value.strip():
        return None  # blank: not given, as parse_patient reads it (an assessed line: null)
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return None


def error_object(failure: Failure, line: int) -> dict[str, Any]:
    """The JSON error line of a failed record (as a dict)."""
    errors = failure.errors
    return {"id": failure.id, "line": line, "error": errors[0].as_json(),
            "errors": [error.as_json() for error in errors]}


@dataclass(slots=True)
class Encoded:
    """A chunk of outcomes in the output format, with its counts (for the summary)."""

    payload: Any  # bytes (jsonl, csv) or a pyarrow.RecordBatch (parquet)
    records: int
    failed: int
    statuses: Counter[Status] = field(default_factory=Counter)


def encode(fmt: OutputFormat, outcomes: Iterable[tuple[int, Assessment | Decided | Failure]]
           ) -> Encoded:
    """The (line, outcome) pairs of a chunk, in order, in the output format. One pass: each
    outcome is encoded as it comes, so a chunk never holds its assessments all at once (a
    thousand live assessments made the garbage collector rescan them: 3-13 % of a batch's CPU
    time in paired runs)."""
    statuses: Counter[Status] = Counter()
    failed = 0
    pieces: list[Any] = []
    jsonl = fmt is OutputFormat.JSONL
    for line, result in outcomes:
        if isinstance(result, Failure):
            failed += 1
            pieces.append(_json_line(line, result) if jsonl else
                          error_row(line, result.id, result.errors))
            continue
        statuses[result.status] += 1
        pieces.append(_json_line(line, result) if jsonl else
                      result.row if isinstance(result, Decided) else summary_row(line, result))
    if jsonl:
        payload: Any = b"".join(pieces)
    else:
        payload = _csv_rows(pieces) if fmt is OutputFormat.CSV else _arrow_batch(pieces)
    return Encoded(payload, len(pieces), failed, statuses)


def _json_line(line: int, result: Assessment | Decided | Failure) -> bytes:
    if isinstance(result, Failure):
        return orjson.dumps(error_object(result, line)) + b"\n"
    if isinstance(result, Decided):  # pragma: no cover - assess_chunk never asks for one here
        raise TypeError("JSON Lines need the whole assessment, not its summary row")
    return b'{"line":%d,' % line + result.to_json_bytes()[1:] + b"\n"


def _csv_rows(rows: Iterable[dict[str, Any]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([list(row.values()) for row in rows])
    return text.getvalue().encode("utf-8", "surrogateescape")


def csv_header() -> bytes:
    """The summary CSV's first line: the column names."""
    return (",".join(COLUMN_NAMES) + "\n").encode()


_ARROW_TYPES = {"string": "string", "int64": "int64", "float64": "float64"}


def arrow_schema() -> Any:
    """The summary columns as a pyarrow schema (pyarrow must be importable)."""
    import pyarrow as pa

    return pa.schema([pa.field(column.name, getattr(pa, _ARROW_TYPES[column.type])())
                      for column in COLUMNS])


def _arrow_batch(rows: Sequence[dict[str, Any]]) -> Any:
    import pyarrow as pa

    schema = arrow_schema()
    columns = [pa.array([row[name] for row in rows], type=schema.field(name).type)
               for name in COLUMN_NAMES]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def missing_pyarrow(what: str) -> InputError | None:
    """Why ``what`` cannot be used here (pyarrow is not installed), or None."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return InputError(what, "parquet", "needs pyarrow, which is not installed",
                          "pip install 'mgassist[parquet]', or --format jsonl or csv")
    return None


ROW_GROUP_ROWS = 64 * 1024  # rows per Parquet row group (at least; whole chunks)


class OutputFile:
    """The destination of a batch (``output``, atomically; or standard output), taking
    Encoded chunks in order. Used as a context manager: on an error or Ctrl-C no file is
    left (see AtomicWriter)."""

    def __init__(self, fmt: OutputFormat, output: Path | None) -> None:
        self._fmt = fmt
        self._output = output
        self._atomic: Any = None
        self._stream: IO[bytes] | None = None
        self._parquet: Any = None
        self._pending: list[Any] = []  # Arrow batches not yet written (Parquet)
        self._pending_rows = 0

    def __enter__(self) -> OutputFile:
        from mgassist._files import AtomicWriter

        if self._output is not None:
            self._atomic = AtomicWriter(self._output)
            self._stream = self._atomic.__enter__()
        else:
            self._stream = sys.stdout.buffer
        if self._fmt is OutputFormat.CSV:
            self._stream.write(csv_header())
        elif self._fmt is OutputFormat.PARQUET:
            import pyarrow.parquet as pq

            self._parquet = pq.ParquetWriter(self._stream, arrow_schema())
        return self

    def write(self, encoded: Encoded) -> None:
        """Write one chunk."""
        assert self._stream is not None
        if self._parquet is not None:
            if encoded.records:
                self._pending.append(encoded.payload)
                self._pending_rows += encoded.records
                if self._pending_rows >= ROW_GROUP_ROWS:
                    self._flush_row_group()
        else:
            self._stream.write(encoded.payload)

    def _flush_row_group(self) -> None:
        """The chunks held so far as one Parquet row group (readers skip by row group: one per
        chunk of 1,024 records would make a large file slow to scan)."""
        if self._pending:
            import pyarrow as pa

            self._parquet.write_table(pa.Table.from_batches(self._pending),
                                      row_group_size=self._pending_rows)
            self._pending, self._pending_rows = [], 0

    def __exit__(self, kind: type[BaseException] | None, *rest: Any) -> None:
        assert self._stream is not None
        try:
            if self._parquet is not None:
                if kind is None:
                    self._flush_row_group()
                    self._parquet.close()  # the footer: a complete file
                else:  # the file is discarded: close the writer before its stream goes
                    with contextlib.suppress(Exception):
                        self._parquet.close()
        finally:
            if self._atomic is not None:
                self._atomic.__exit__(kind, *rest)
            else:
                self._stream.flush()
