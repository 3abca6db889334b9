"""FHIR documents for ``assess --fhir`` and ``batch --fhir``: read from a file or stdin (a
UTF-8 BOM is allowed), parsed as JSON, read into a patient record by ``mgassist._fhir``.

    read_document(path) -> object                # raises FhirError (exit 2)
    documents(path) -> Iterator[(line, file, object | FhirError)]   # NDJSON or a folder
    as_of_date(text) -> date                     # --as-of, default today
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson

from mgassist._core.errors import FhirError

__all__ = ["MAX_BYTES", "as_of_date", "documents", "read_document"]

MAX_BYTES = 100_000_000  # one document; a whole-record Bundle of many years fits
_BOM = b"\xef\xbb\xbf"
_ACCEPTED = "a FHIR R4 Bundle or resource as JSON (UTF-8), a file path or - for stdin"


def read_document(path: str) -> object:
    """The parsed JSON of ``path`` (``-``: stdin)."""
    data = _read_bytes(path)
    return parse_json(data, path)


def parse_json(data: bytes, shown: str) -> object:
    """``data`` as JSON (a leading UTF-8 BOM skipped), or FhirError naming ``shown``."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if not data.strip():
        raise FhirError("fhir", shown, "is empty", _ACCEPTED)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FhirError("fhir", shown, f"is not JSON ({exc.msg} at line {exc.lineno}, "
                        f"column {exc.colno})", _ACCEPTED) from None


def _read_bytes(path: str) -> bytes:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        file = Path(path)
        if file.is_dir():
            raise FhirError("fhir", path, "is a folder; assess reads one document (batch "
                            "--fhir reads a folder)", _ACCEPTED)
        try:
            with file.open("rb") as stream:
                data = stream.read(MAX_BYTES + 1)
        except OSError as exc:
            raise FhirError("fhir", path, f"cannot be read ({exc.strerror or exc})",
                            _ACCEPTED) from None
    if len(data) > MAX_BYTES:
        raise FhirError("fhir", path, f"is larger than {MAX_BYTES:,} bytes", _ACCEPTED)
    return data


def documents(path: str) -> Iterator[tuple[int, str | None, object]]:
    """Each document of a batch, as (line number, file name, document): one per line of an
    NDJSON file (or stdin; file name None), or one per ``*.json`` file of a folder, sorted by
    name (numbered from 1). A document that cannot be parsed is yielded as its FhirError, so
    the batch goes on."""
    if path != "-" and Path(path).is_dir():
        for number, file in enumerate(sorted(Path(path).glob("*.json")), start=1):
            try:
                yield number, file.name, read_document(str(file))
            except FhirError as exc:
                yield number, file.name, exc
        return
    data = _read_bytes(path)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, None, parse_json(line, f"line {number}")
        except FhirError as exc:
            yield number, None, exc


def as_of_date(text: str | None) -> datetime.date:
    """``--as-of`` (YYYY-MM-DD), or today when it is not given."""
    if text is None:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise FhirError("as_of", text, "is not a date", "YYYY-MM-DD, such as 2026-11-29") \
            from None
