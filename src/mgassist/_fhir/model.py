"""What the FHIR reader returns: the patient record it built, and where each value came from.

Plain frozen structs (msgspec), like the rest of the core: a record in the JSON keys of
``mgassist batch`` (``parse_patient`` reads it), every resource used with its code, date and
value as read, and every resource of a type mgassist reads that was not used, with why.
"""

from __future__ import annotations

import datetime
from typing import Any

from msgspec import Struct, structs

__all__ = ["FhirInput", "Overridden", "Skipped", "Source", "Sources"]


class Source(Struct, frozen=True, kw_only=True):
    """One input taken from a resource: the field it fills, the resource, its code, its date
    (as written), the value as read (number and unit, or name) and as put in the record."""

    field: str
    resource_type: str
    id: str | None
    system: str | None
    code: str | None
    date: str | None
    value: str
    used: str
    note: str | None = None
    reference_range: str | None = None
    old: bool = False  # older than the field's freshness window in the rules

    def as_json(self) -> dict[str, Any]:
        """The JSON object of ``sources.used``."""
        return structs.asdict(self)


class Skipped(Struct, frozen=True, kw_only=True):
    """A resource of a type mgassist reads (Patient, Observation, MedicationRequest,
    MedicationStatement, Condition) that was not used, and why."""

    resource_type: str
    id: str | None
    system: str | None = None
    code: str | None = None
    date: str | None = None
    value: str | None = None
    why: str

    def as_json(self) -> dict[str, Any]:
        """The JSON object of ``sources.skipped``."""
        return structs.asdict(self)


class Overridden(Struct, frozen=True, kw_only=True):
    """A field the Bundle gave and a flag (or record key) given beside it replaced."""

    field: str
    fhir: str
    given: str

    def as_json(self) -> dict[str, Any]:
        """The JSON object of ``sources.overridden``."""
        return structs.asdict(self)


class Sources(Struct, frozen=True, kw_only=True):
    """Everything read from one FHIR document: the date ages and freshness are judged at,
    the inputs used, the resources skipped, and the fields given beside the Bundle."""

    as_of: datetime.date
    used: tuple[Source, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    overridden: tuple[Overridden, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The ``sources`` object of the JSON output."""
        return {"as_of": self.as_of.isoformat(),
                "used": [s.as_json() for s in self.used],
                "skipped": [s.as_json() for s in self.skipped],
                "overridden": [o.as_json() for o in self.overridden]}


class FhirInput(Struct, frozen=True, kw_only=True):
    """A FHIR document read: ``record`` for ``parse_patient`` (the keys ``mgassist batch``
    reads), and ``sources``, what each value came from and what was skipped."""

    record: dict[str, Any]
    sources: Sources

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        """The resources not used, and why (the same as ``sources.skipped``)."""
        return self.sources.skipped

    def overridden_by(self, given: dict[str, Any]) -> FhirInput:
        """This input with ``given`` (flags or record keys beside the Bundle) laid over its
        record: each field both give is noted in ``sources.overridden``."""
        noted = tuple(Overridden(field=key, fhir=_text(self.record[key]), given=_text(value))
                      for key, value in given.items() if key in self.record and key != "id")
        record = {**self.record, **given}
        return FhirInput(record=record, sources=structs.replace(
            self.sources, overridden=(*self.sources.overridden, *noted)))


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)
