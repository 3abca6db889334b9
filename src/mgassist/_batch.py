"""Batch: many patients in (JSON Lines or CSV), one JSON line out per record, in input order.

    records(stream, fmt)        -> Record per input record (a raw dict, or why it is unusable)
    assess_lines(records, rules) -> one output line (bytes) per record

A record that cannot be assessed gives an error line in its place, and the batch goes on:
output lines == input records, always. Every output line carries the record's ``line`` (where
it starts in the input) and ``id`` (from the record, or null). Blank lines are not records.
Streaming throughout: memory does not grow with the input.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any

import orjson

from ._errors import InputError, InputErrors
from ._fields import FIELDS

__all__ = ["BatchInputError", "Format", "Record", "assess_lines", "detect_format", "records"]


class Format(StrEnum):
    """Input formats."""

    JSONL = "jsonl"
    CSV = "csv"


class BatchInputError(Exception):
    """The input as a whole is unusable (e.g. an unknown CSV column): nothing is assessed."""

    def __init__(self, error: InputError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class Record:
    """One input record: its raw fields, or the reason it cannot be read."""

    line: int
    raw: dict[str, Any] | None
    problem: InputError | None = None


_KEYS = {key for spec in FIELDS for key in spec.keys}
_SUFFIXES = {".csv": Format.CSV, ".jsonl": Format.JSONL, ".ndjson": Format.JSONL,
             ".json": Format.JSONL}


_BOM = b"\xef\xbb\xbf"


def detect_format(name: str, first_bytes: bytes) -> Format:
    """From the file name's suffix, else from the first non-blank byte ('{' means JSON)."""
    for suffix, fmt in _SUFFIXES.items():
        if name.lower().endswith(suffix):
            return fmt
    return Format.JSONL if first_bytes.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{" \
        else Format.CSV


def records(stream: IO[bytes], fmt: Format) -> Iterator[Record]:
    """The records of a binary input stream, lazily."""
    return _jsonl(stream) if fmt is Format.JSONL else _csv(stream)


def _jsonl(stream: IO[bytes]) -> Iterator[Record]:
    loads = orjson.loads
    for number, line in enumerate(stream, start=1):
        if number == 1 and line.startswith(_BOM):
            line = line[len(_BOM):]  # a byte order mark (some Windows editors write one)
        if not line.strip():
            continue
        try:
            raw = loads(line)
        except orjson.JSONDecodeError as exc:
            problem = "is not valid UTF-8" if "UTF-8" in str(exc) else \
                f"is not valid JSON ({str(exc).split(':')[0]})"
            yield Record(number, None, InputError("record", "", problem,
                                                  "one JSON object per line"))
            continue
        if not isinstance(raw, dict):
            yield Record(number, None, InputError("record", "", "is not a JSON object",
                                                  "one JSON object per line"))
            continue
        yield Record(number, raw)


def _csv(stream: IO[bytes]) -> Iterator[Record]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        yield from _csv_rows(csv.reader(text))
    finally:
        with contextlib.suppress(ValueError):  # the wrapper must not close the caller's stream
            text.detach()


def _csv_rows(reader: Any) -> Iterator[Record]:
    rows = _read_rows(reader)
    for _, header in rows:  # the first row that is not blank
        if isinstance(header, csv.Error):
            raise BatchInputError(InputError("header", "", f"cannot be read as CSV ({header})",
                                             "a first row of column names"))
        if not _blank_row(header):
            break
    else:
        return
    columns = [name.strip() for name in header]
    _check_header(columns)
    for line, row in rows:
        if isinstance(row, csv.Error):
            yield Record(line, None, InputError(
                "record", "", f"cannot be read as CSV ({row})",
                f"CSV cells shorter than {csv.field_size_limit()} characters"))
            continue
        if _blank_row(row):
            continue
        if len(row) != len(columns):
            yield Record(line, None, InputError(
                "record", "", f"has {len(row)} cells; the header has {len(columns)}",
                "one cell per column (quote cells that contain commas)"))
            continue
        if any(_not_utf8(cell) for cell in row):
            yield Record(line, None, InputError("record", "", "is not valid UTF-8",
                                                "UTF-8 text"))
            continue
        yield Record(line, {name: cell for name, cell in zip(columns, row, strict=True)
                            if cell.strip()})


def _read_rows(reader: Any) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """(first line, cells) of each row, or the csv module's error for a row it cannot read
    (a cell over its field size limit): the reader then goes on from the next line."""
    start = reader.line_num + 1
    while True:
        try:
            row: list[str] | csv.Error = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row = exc
        yield start, row
        start = reader.line_num + 1


def _blank_row(row: list[str]) -> bool:
    return not row or all(not cell.strip() for cell in row)


def _check_header(columns: list[str]) -> None:
    accepted = ", ".join(spec.name for spec in FIELDS)
    if any(_not_utf8(name) for name in columns):
        raise BatchInputError(InputError("header", "", "is not valid UTF-8", "UTF-8 text"))
    seen: set[str] = set()
    for name in columns:
        if name not in _KEYS:
            close = difflib.get_close_matches(name, sorted(_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BatchInputError(InputError("header", name, f"is not a patient field{hint}",
                                             accepted))
        if name in seen:
            raise BatchInputError(InputError("header", name, "appears twice",
                                             "each column once"))
        seen.add(name)


def _not_utf8(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


Assess = Callable[[dict[str, Any]], bytes]


def assess_lines(items: Iterable[Record], assess: Assess
                 ) -> Generator[tuple[bytes, bool], None, None]:
    """One output line per record (without the newline) and whether it was assessed.

    ``assess(raw)`` returns the assessment's JSON object (bytes) or raises InputErrors."""
    for record in items:
        raw = record.raw
        record_id = _record_id(raw)
        if raw is None:
            assert record.problem is not None
            yield _error_line(record_id, record.line, (record.problem,)), False
            continue
        try:
            assessed = assess(raw)
        except InputErrors as exc:
            yield _error_line(record_id, record.line, exc.errors), False
            continue
        except Exception as exc:  # a bug must not cost the other records; never echo the record
            problem = InputError("record", "", f"could not be assessed: internal error "
                                 f"({type(exc).__name__}); please report it")
            yield _error_line(record_id, record.line, (problem,)), False
            continue
        yield b'{"line":%d,' % record.line + assessed[1:], True


def _record_id(raw: dict[str, Any] | None) -> str | None:
    value = raw.get("id") if raw is not None else None
    if isinstance(value, str) and not value.strip():
        return None  # blank: not given, as parse_patient reads it (an assessed line: null)
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return None


def _error_line(record_id: str | None, line: int, errors: tuple[InputError, ...]) -> bytes:
    return orjson.dumps({"id": record_id, "line": line, "error": errors[0].as_json(),
                         "errors": [error.as_json() for error in errors]})
