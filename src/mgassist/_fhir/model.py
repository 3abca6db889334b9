"""What the FHIR reader returns: the patient record it built, and where each value came from.

A record in the JSON keys of ``mgassist batch`` (``parse_patient`` reads it), and its
``Sources`` (``mgassist._core.sources``, the JSON output's ``sources``): every resource used
with its code, date and value as read, and every resource of a type mgassist reads that was
not used, with why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mgassist._core.sources import Overridden, Skipped, Source, Sources

__all__ = ["FhirInput", "Overridden", "Skipped", "Source", "Sources"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FhirInput:
    """A FHIR document read: ``record`` for ``parse_patient`` (the keys ``mgassist batch``
    reads), and ``sources``, what each value came from and what was skipped."""

    record: dict[str, Any]
    sources: Sources

    @property
    def skipped(self) -> list[Skipped]:
        """The resources not used, and why (the same as ``sources.skipped``)."""
        return self.sources.skipped

    def overridden_by(self, given: Mapping[str, Any]) -> FhirInput:
        """This input with ``given`` (flags or record keys beside the document) laid over its
        record: each field both give is noted in ``sources.overridden``."""
        replaced = {key for key in given if key in self.record and key != "id"}
        noted = [Overridden(field=key, fhir=_shown(key, self.record[key], self.sources),
                            given=_text(given[key])) for key in given if key in replaced]
        record = {**self.record, **given}
        return FhirInput(record=record, sources=self.sources.with_changes(
            used=[s for s in self.sources.used if s.field not in replaced],
            overridden=[*self.sources.overridden, *noted]))


def _shown(field: str, value: Any, sources: Sources) -> str:
    """The document's value of ``field`` with the resources it came from."""
    where = ", ".join(f"{s.resource_type}/{s.id or '?'}" + (f" {s.date}" if s.date else "")
                      for s in sources.used if s.field == field)
    return _text(value) + (f" ({where})" if where else "")


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)
