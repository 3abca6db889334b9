"""Where an assessment's inputs came from, when they were read from a FHIR document: the
``sources`` object of the JSON output (null for flags, a CSV or a JSON record).

Frozen standard-library dataclasses, like the rest of the JSON contract (``assessment.py``):
orjson writes them; ``mgassist schema output`` derives their JSON Schema through pydantic.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

__all__ = ["Overridden", "Skipped", "Source", "Sources"]

# As in assessment.py: every key always present, no other key (read by pydantic only).
_SCHEMA_CONFIG: dict[str, Any] = {"json_schema_serialization_defaults_required": True,
                                  "extra": "forbid"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One input taken from a resource: the field it fills, the resource (type and id), its
    code (system and code), its date as written, the value as read and as put in the record;
    ``note``: what the reader noticed (a bound, a unit that does not fit the code, a date
    taken from the report listing it); ``reference_range``: the lab's range as given, and
    ``range_says`` how it classes the value (null: no range in a readable unit); ``old``:
    older than the field's freshness window in the rules (``fresh_days``), ``age_days`` before
    the assessment date."""

    __pydantic_config__ = _SCHEMA_CONFIG

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
    range_says: Literal["low", "normal", "high"] | None = None
    old: bool = False
    age_days: int | None = None
    fresh_days: int | None = None

    def with_changes(self, **changes: Any) -> Source:
        """A copy with ``changes``."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """A resource of a type mgassist reads (Patient, Observation, MedicationRequest,
    MedicationStatement, Condition) that was not used, and why."""

    __pydantic_config__ = _SCHEMA_CONFIG

    resource_type: str
    id: str | None
    system: str | None = None
    code: str | None = None
    date: str | None = None
    value: str | None = None
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Overridden:
    """A field the document gave that a flag (or record key) given beside it replaced."""

    __pydantic_config__ = _SCHEMA_CONFIG

    field: str
    fhir: str
    given: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Sources:
    """Everything read from one FHIR document: the date ages and freshness are judged at,
    the inputs used, the resources skipped, the fields given beside the document, and how
    many resources of each type were no input at all (an Encounter, an Observation whose code
    mgassist does not read): counted, not listed, so a whole record stays a short answer."""

    __pydantic_config__ = _SCHEMA_CONFIG

    as_of: datetime.date
    used: list[Source] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    overridden: list[Overridden] = field(default_factory=list)
    not_read: dict[str, int] = field(default_factory=dict)  # no input: count by resource type

    def as_json(self) -> dict[str, Any]:
        """The ``sources`` object of the JSON output, as Python values."""
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data

    def with_changes(self, **changes: Any) -> Sources:
        """A copy with ``changes``."""
        return replace(self, **changes)
