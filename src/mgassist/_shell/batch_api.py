"""The batch as a library, for other engines (Dask, Spark, Ray, a notebook): records in,
results out, in order, with nothing read or written.

    assess_records(records, rules=...) -> one dict per record: the assessment or the error
    assess_arrow(batches, rules=...)   -> one pyarrow.RecordBatch of summary rows per batch

``assess_records`` gives exactly what a line of ``mgassist batch``'s JSON Lines holds, parsed:
the assessment with its ``line``, or ``{"id", "line", "error", "errors"}``; keys are read as a
JSON Lines record's are (exactly). ``assess_arrow`` gives the summary columns of
``mgassist schema summary``, and reads its columns as ``batch`` reads a CSV's: names in any
case or a synonym (``Magnesium``), other columns ignored, a null or blank cell not given; a
column named ``line`` (integers), when present, gives each record's line number.

Line numbers otherwise count from ``first_line`` (default 1), across all the records or batches
of one call: a caller that splits its input (one call per partition) passes each part's first
line to keep them global. ``rules`` defaults to the bundled rule set, loaded once per process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from mgassist._core.errors import InputError, InputErrors

from .batch_output import Failure, OutputFormat, encode, error_object, outcome
from .batch_records import BatchInputError, Record, _merged, read_header

if TYPE_CHECKING:
    from mgassist._core.ruleset import RuleSet

__all__ = ["assess_arrow", "assess_records"]

_NOT_AN_OBJECT = InputError("record", "", "is not a JSON object", "one JSON object per line")
_BUNDLED: list[RuleSet] = []


def _rules(rules: RuleSet | None) -> RuleSet:
    if rules is not None:
        return rules
    if not _BUNDLED:
        from mgassist._rulebook.cache import load_cached

        _BUNDLED.append(load_cached(None))
    return _BUNDLED[0]


def assess_records(records: Iterable[Mapping[str, Any]], *, rules: RuleSet | None = None,
                   first_line: int = 1) -> Iterator[dict[str, Any]]:
    """Assess each record (a dict of patient fields, as a JSON Lines record), lazily and in
    order: the assessment as a JSON object with ``line`` first, or the error object of a
    record that cannot be assessed (it never raises for one record)."""
    rules = _rules(rules)
    memo: dict[Any, Any] = {}
    for line, raw in enumerate(records, start=first_line):
        record = Record(line, dict(raw)) if isinstance(raw, Mapping) else \
            Record(line, None, _NOT_AN_OBJECT)
        result = outcome(record, rules, memo)
        if isinstance(result, Failure):
            yield error_object(result, line)
        else:
            data: dict[str, Any] = {"line": line, **orjson.loads(result.to_json_bytes())}
            yield data


def assess_arrow(batches: Iterable[Any], *, rules: RuleSet | None = None,
                 first_line: int = 1) -> Iterator[Any]:
    """Assess the rows of each ``pyarrow.RecordBatch`` (or Table), lazily and in order: for
    each batch (of a Table: each of its batches, at least one), a RecordBatch of the summary
    columns (``SUMMARY_COLUMNS``), one row per input row. The function Spark's
    ``mapInArrow`` and Ray's ``map_batches`` call. Raises InputErrors when the columns are
    unusable (as ``batch`` refuses such a CSV header), before any row is assessed."""
    rules = _rules(rules)
    memo: dict[Any, Any] = {}
    next_line = first_line
    for given in batches:
        parts = given.to_batches() if hasattr(given, "to_batches") else [given]
        if not parts:  # a Table without rows may hold no batch: still one (empty) answer
            import pyarrow as pa

            parts = [pa.RecordBatch.from_pylist([], schema=given.schema)]
        for batch in parts:
            rows = list(_rows(batch, next_line))
            next_line += len(rows)
            yield encode(OutputFormat.PARQUET,
                         [(record.line, outcome(record, rules, memo, summary=True))
                          for record in rows]
                         ).payload


def _rows(batch: Any, first_line: int) -> Iterator[Record]:
    names = list(batch.schema.names)
    lines: list[Any] | None = None
    if "line" in names:
        lines = batch.column(names.index("line")).to_pylist()
        names[names.index("line")] = ""  # not a patient field: ignored by read_header
    try:
        columns = read_header([name if name != "" else "\x00line" for name in names])
    except BatchInputError as exc:
        raise InputErrors(exc.errors) from None
    cells = [batch.column(index).to_pylist() for index in range(batch.num_columns)]
    used = columns.used
    for row in range(batch.num_rows):
        line = lines[row] if lines is not None else first_line + row
        values = [_cell(column[row]) for column in cells]
        if columns.merged:
            raw = _merged([str(value) if value is not None else "" for value in values], used)
        else:
            raw = {field: values[index] for index, field in used if values[index] is not None}
        yield Record(line, raw)


def _cell(value: Any) -> Any:
    """A cell as batch reads a CSV's: null or blank is not given; text or a number as is."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value
