"""Batch: many patients in (JSON Lines or CSV), one output line or row per record, in order.

    records(stream, fmt)         -> Record per input record (a raw dict, or why it is unusable)
    read_header(cells)           -> Columns: which CSV column feeds which patient field
    summary(...)                 -> the closing lines for stderr (counts, statuses, destination)

(Assessing the records and writing them: ``batch_output``, ``batch_jobs``.) A record that
cannot be assessed gives an error line in its place, and the batch goes on: output lines ==
input records, always. Every output line carries the record's ``line`` (where
it starts in the input) and ``id`` (from the record, or null). Blank lines are not records; an
input with no record at all is unusable. Streaming throughout: memory does not grow with the
input.

JSON keys are the contract and are read exactly (by ``parse_patient``). CSV headers come from
real extracts, so a column name is read loosely: trimmed, in any case, with ``-`` or spaces
for ``_``, or as one of the synonyms in ``COLUMN_SYNONYMS``. Other columns are ignored (and
named once), except one so close to a field's name that it is probably that field misspelt.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import re
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import orjson

from mgassist._core.contract import Status
from mgassist._core.errors import InputError
from mgassist._core.fields import FIELD_BY_NAME, FIELDS
from mgassist._core.patient import split_items

__all__ = ["COLUMN_SYNONYMS", "BatchInputError", "Columns", "Format", "Record", "detect_format",
           "jsonl_lines", "jsonl_record", "read_header", "records", "summary"]


class Format(StrEnum):
    """Input formats."""

    JSONL = "jsonl"
    CSV = "csv"


class BatchInputError(Exception):
    """The input as a whole is unusable (e.g. a repeated CSV column): nothing is assessed."""

    def __init__(self, *errors: InputError) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors: tuple[InputError, ...] = errors


@dataclass(frozen=True, slots=True)
class Record:
    """One input record: its raw fields, or the reason it cannot be read (and then the id
    cell as given, when the record is a CSV row whose id column could still be read)."""

    line: int
    raw: dict[str, Any] | None
    problem: InputError | None = None
    id: str | None = None


# Other names of patient fields found in the headers of real extracts, with what they are read
# as. Only names that cannot mean anything else: not "gender" (not sex), not "gfr" (measured or
# estimated?), not "calcium" with "ionised". Written as people write them; a header matches
# when it equals one after trimming, ignoring case and reading "-", "_" and spaces alike. A
# field's own keys (FIELDS: "mg", "current_dose", "med"...) are matched the same way and are not
# repeated here.
COLUMN_SYNONYMS: dict[str, str] = {
    "patient id": "id",
    "record id": "id",
    "mrn": "id",
    "magnesium": "mg",
    "serum magnesium": "mg",
    "potassium": "k",
    "serum potassium": "k",
    "calcium": "ca",
    "serum calcium": "ca",
    "total calcium": "ca",
    "serum albumin": "albumin",
    "serum creatinine": "creatinine",
    "scr": "creatinine",
    "creatinine clearance": "crcl",
    "body weight": "weight",
    "medications": "meds",
    "medication": "meds",
    "drugs": "meds",
}

_SEPARATORS = re.compile(r"[\s_-]+")


def _normal(name: str) -> str:
    """A column name as matched: trimmed, case-folded, runs of spaces, '-' and '_' as one '_'."""
    return _SEPARATORS.sub("_", name.strip().casefold())


_FIELD_OF_COLUMN = {**{_normal(key): spec.name for spec in FIELDS for key in spec.keys},
                    **{_normal(name): field for name, field in COLUMN_SYNONYMS.items()}}
_NEAR_MISS = 0.8  # difflib ratio from which an unknown column is read as a misspelt field
_LIST_FIELDS = [spec.name for spec in FIELDS if spec.kind == "list"]
_SEVERAL = "one column per field (only " + ", ".join(_LIST_FIELDS[:-1]) + \
    f" and {_LIST_FIELDS[-1]} may take several)"
_SHOWN_CHARS = 40  # of an ignored column's name (a headerless file's first row is a patient)
_SUFFIXES = {".csv": Format.CSV, ".jsonl": Format.JSONL, ".ndjson": Format.JSONL,
             ".json": Format.JSONL}
_BOM = b"\xef\xbb\xbf"
_CSV_ACCEPTED = "a header row of column names, then one row per patient"
_JSONL_ACCEPTED = "one JSON object per line, one line per patient"


def detect_format(name: str, first_bytes: bytes) -> Format:
    """From the file name's suffix, else from the first non-blank byte ('{' means JSON)."""
    for suffix, fmt in _SUFFIXES.items():
        if name.lower().endswith(suffix):
            return fmt
    return Format.JSONL if first_bytes.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{" \
        else Format.CSV


def records(stream: IO[bytes], fmt: Format, *, name: str = "",
            on_columns: Callable[[Columns], None] | None = None) -> Iterator[Record]:
    """The records of a binary input stream, lazily.

    ``name``: the input as the user gave it, for the error of an input without records.
    ``on_columns`` (CSV): called once with how the header was read, just before the first
    record (never for an input that is unusable as a whole).
    Raises BatchInputError (while iterating) when the input as a whole is unusable."""
    return _jsonl(stream, name) if fmt is Format.JSONL else _csv(stream, name, on_columns)


def _jsonl(stream: IO[bytes], name: str) -> Iterator[Record]:
    for number, line in jsonl_lines(stream, name):
        yield jsonl_record(number, line)


def jsonl_lines(stream: IO[bytes], name: str = "") -> Iterator[tuple[int, bytes]]:
    """The (line number, bytes) of each record of a JSON Lines stream, not yet parsed (blank
    lines skipped, a byte order mark removed). Raises BatchInputError (while iterating) when
    there is none."""
    found = False
    for number, line in enumerate(stream, start=1):
        if number == 1 and line.startswith(_BOM):
            line = line[len(_BOM):]  # a byte order mark (some Windows editors write one)
        if not line.strip():
            continue
        found = True
        yield number, line
    if not found:
        raise BatchInputError(InputError("input", name, "has no records: it is empty or holds "
                                         "only blank lines", _JSONL_ACCEPTED))


def jsonl_record(number: int, line: bytes) -> Record:
    """The record of one JSON Lines line (not blank), or why it cannot be read."""
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        problem = "is not valid UTF-8" if "UTF-8" in str(exc) else \
            f"is not valid JSON ({str(exc).split(':')[0]})"
        return Record(number, None, InputError("record", "", problem,
                                               "one JSON object per line"))
    if not isinstance(raw, dict):
        return Record(number, None, InputError("record", "", "is not a JSON object",
                                               "one JSON object per line"))
    return Record(number, raw)


def _csv(stream: IO[bytes], name: str, on_columns: Callable[[Columns], None] | None
         ) -> Iterator[Record]:
    delimiter = _delimiter(stream)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        yield from _csv_rows(csv.reader(text, delimiter=delimiter), name, on_columns)
    finally:
        with contextlib.suppress(ValueError):  # the wrapper must not close the caller's stream
            text.detach()


def _delimiter(stream: IO[bytes]) -> str:
    """``,``; or ``;`` or a tab, when the header line read with commas names no patient field
    but read with that separator does (spreadsheets in many countries save "CSV" with
    semicolons). Decided from the header line alone, before any record is read: the first line
    that holds more than spaces and separators (a spreadsheet's empty first row is saved as
    ``;;;``). A stream that cannot be peeked is read with commas."""
    peek = getattr(stream, "peek", None)
    if peek is None:
        return ","
    lines = peek(_PEEK_BYTES).removeprefix(_BOM).decode("utf-8", "replace").splitlines()
    head = next((line for line in lines if line.strip(_SPACE_AND_SEPARATORS)), "")
    for candidate in (",", ";", "\t"):
        cells = next(csv.reader([head], delimiter=candidate), [])
        if any(_normal(cell) in _FIELD_OF_COLUMN for cell in cells):
            return candidate
    return ","


_PEEK_BYTES = 64 * 1024
_SPACE_AND_SEPARATORS = string.whitespace + ",;"


def _csv_rows(reader: Any, name: str, on_columns: Callable[[Columns], None] | None
              ) -> Iterator[Record]:
    rows = _read_rows(reader)
    for _, header in rows:  # the first row that is not blank
        if isinstance(header, csv.Error):
            raise BatchInputError(InputError("header", "", f"cannot be read as CSV ({header})",
                                             "a first row of column names"))
        if not _blank_row(header):
            break
    else:
        raise BatchInputError(InputError("input", name, "has no records: it is empty or holds "
                                         "only blank lines", _CSV_ACCEPTED))
    columns = read_header(header)
    used, width, id_at = columns.used, columns.width, columns.id_index
    found = False
    for line, row in rows:
        if isinstance(row, csv.Error):
            record = Record(line, None, InputError(
                "record", "", f"cannot be read as CSV ({row})",
                f"CSV cells shorter than {csv.field_size_limit()} characters"))
        elif _blank_row(row):
            continue
        elif len(row) != width:
            record = Record(line, None, InputError(
                "record", "", f"has {len(row)} cells; the header has {width}",
                "one cell per column (quote cells that contain commas)"), _cell(row, id_at))
        elif any(_not_utf8(row[index]) for index, _ in used):
            record = Record(line, None, InputError("record", "", "is not valid UTF-8",
                                                   "UTF-8 text"), _cell(row, id_at))
        elif columns.merged:
            record = Record(line, _merged(row, used))
        else:
            record = Record(line, {field: row[index] for index, field in used
                                   if row[index].strip()})
        if not found:  # the first record: the input is usable, say how its header was read
            found = True
            if on_columns is not None:
                on_columns(columns)
        yield record
    if not found:
        raise BatchInputError(InputError("input", name, "has no records, only a header row",
                                         _CSV_ACCEPTED))


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


def _cell(row: list[str], index: int | None) -> str | None:
    """The cell at ``index`` of a row that cannot be assessed, if it is there and readable."""
    if index is None or index >= len(row) or _not_utf8(row[index]):
        return None
    return row[index]


def _merged(row: list[str], used: tuple[tuple[int, str], ...]) -> dict[str, Any]:
    """A row whose list field has several columns: their items joined, in column order (as
    parse_patient joins a record's "meds" and "med")."""
    raw: dict[str, Any] = {}
    for index, field in used:
        cell = row[index]
        if not cell.strip():
            continue
        before = raw.get(field)
        if before is None:
            raw[field] = cell
        else:
            raw[field] = [*(before if isinstance(before, list) else split_items(before)),
                          *split_items(cell)]
    return raw


@dataclass(frozen=True, slots=True)
class Columns:
    """How a CSV header is read: the field each used column feeds, and the columns ignored."""

    width: int
    used: tuple[tuple[int, str], ...]  # (column index, field name), in column order
    ignored: tuple[tuple[str, str | None], ...]  # (header cell, the field it is close to)
    merged: bool = False  # a list field fed by several columns
    id_index: int | None = None

    def note(self) -> str | None:
        """The line naming the ignored columns, or None when every column is used."""
        if not self.ignored:
            return None
        names = ", ".join(f"{_shortened(cell)!r}" + (f" (did you mean {close!r}?)" if close
                                                      else "") for cell, close in self.ignored)
        count = len(self.ignored)
        what = "column that is not a patient field" if count == 1 else \
            "columns that are not patient fields"
        return f"note: ignored {count} {what}: {names}"


def _shortened(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS - 3] + "..."


def read_header(cells: Sequence[str]) -> Columns:
    """Read a CSV header; BatchInputError with every problem found when it is unusable.

    Unusable: not UTF-8; a column name twice; two columns for one field (but meds,
    conditions and symptoms may take several, joined); an unknown name close to a field's
    (a misspelt ``symptoms`` ignored would assess every patient without their symptoms); no
    column for a patient field other than the id."""
    if any(_not_utf8(cell) for cell in cells):
        raise BatchInputError(InputError("header", "", "is not valid UTF-8", "UTF-8 text"))
    errors: list[InputError] = []
    used: list[tuple[int, str]] = []
    ignored: list[tuple[str, str | None]] = []
    cell_of_name: dict[str, str] = {}
    cell_of_field: dict[str, str] = {}
    merged = False
    for index, raw_cell in enumerate(cells):
        cell, name = raw_cell.strip(), _normal(raw_cell)
        field = _FIELD_OF_COLUMN.get(name)
        if field is None:
            close = _close_field(name)
            if close is not None and close != "id":  # the id is not clinical: ignore it
                errors.append(InputError(
                    "header", cell, "is not a patient field, but too close to one to ignore "
                    f"(did you mean {close!r}?)", f"{_names_of(close)} (in any case), or a "
                    "name not close to any field to have the column ignored"))
            ignored.append((cell, close))
            continue
        if name in cell_of_name:
            first = cell_of_name[name]
            errors.append(InputError("header", cell, "appears twice", "each column once")
                          if first == cell else InputError(
                              "header", "", f"columns {first!r} and {cell!r} have the same "
                              "name", "each column once"))
            continue
        cell_of_name[name] = cell
        if field in cell_of_field:
            if FIELD_BY_NAME[field].kind != "list":
                errors.append(InputError(
                    "header", "", f"columns {cell_of_field[field]!r} and {cell!r} are both "
                    f"the field {field!r}", _SEVERAL))
                continue
            merged = True
        cell_of_field.setdefault(field, cell)
        used.append((index, field))
    if errors:
        raise BatchInputError(*errors)
    if not any(field != "id" for _, field in used):
        other = " other than the id" if used else ""
        raise BatchInputError(InputError(
            "header", "", f"has no column that is a patient field{other} (read from the "
            "first row that is not blank)", _all_names()))
    id_index = next((index for index, field in used if field == "id"), None)
    return Columns(len(cells), tuple(used), tuple(ignored), merged, id_index)


def _close_field(name: str) -> str | None:
    close = difflib.get_close_matches(name, list(_FIELD_OF_COLUMN), n=1, cutoff=_NEAR_MISS) \
        if name else []
    return _FIELD_OF_COLUMN[close[0]] if close else None


def _names_of(field: str) -> str:
    spec = FIELD_BY_NAME[field]
    return ", ".join([*spec.keys, *(name for name, of in COLUMN_SYNONYMS.items()
                                    if of == field)])


def _all_names() -> str:
    return ", ".join(spec.name for spec in FIELDS) + " (in any case, with '-' or ' ' for " \
        "'_'), or a synonym: " + ", ".join(COLUMN_SYNONYMS)


def _not_utf8(text: str) -> bool:
    return not text.isascii() and any("\udc80" <= char <= "\udcff" for char in text)


def summary(*, records: int, failed: int, statuses: Mapping[Status, int],
            output: Path | None) -> str:
    """The closing lines of a batch (for stderr): counts, then the assessed by status."""
    plural = "record" if records == 1 else "records"
    where = str(output) if output is not None else "standard output"
    text = (f"batch: {records} {plural}: {records - failed} assessed, {failed} with errors; "
            f"written to {where}")
    counts = [f"{status.value} {statuses[status]}" for status in Status
              if statuses.get(status)]
    return text + ("\nbatch: by status: " + ", ".join(counts) if counts else "")
