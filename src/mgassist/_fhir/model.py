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

import msgspec

from mgassist._core.contract import LabFlag
from mgassist._core.patient import Patient, parse_patient
from mgassist._core.ruleset import RuleSet
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

    def patient(self, rules: RuleSet) -> Patient:
        """The validated Patient of ``record``, with what the document says of its own results
        (``lab_flags``: a result older than its window; how the magnesium's referenceRange
        classes it) for the findings lab-result-old and lab-range-differs. Raises InputErrors
        as ``parse_patient`` does (a value given beside the document)."""
        patient = parse_patient(self.record, rules)
        flags: list[str] = []
        texts: dict[str, str] = {}
        labels = {name: q.label for name, q in rules.quantities.items()}
        old = [s for s in self.sources.used if s.old]
        if old:
            flags.append(LabFlag.RESULT_OLD.value)
            texts["old_results"] = "; ".join(
                f"{labels.get(s.field, s.field)} {s.value} of {s.date} ({s.age_days} days "
                f"before {self.sources.as_of.isoformat()}; window {s.fresh_days} days)"
                for s in old)
        mg = next((s for s in self.sources.used if s.field == "mg"), None)
        if mg is not None and mg.range_says is not None:
            flags.append(_RANGE_FLAGS[mg.range_says].value)
            texts["lab_range"] = mg.reference_range or ""
        return msgspec.structs.replace(patient, lab_flags=tuple(flags),
                                       lab_texts=tuple(texts.items()))

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


_RANGE_FLAGS = {"low": LabFlag.MG_LAB_LOW, "normal": LabFlag.MG_LAB_NORMAL,
                "high": LabFlag.MG_LAB_HIGH}


def _shown(field: str, value: Any, sources: Sources) -> str:
    """The document's value of ``field`` with the resources it came from."""
    where = ", ".join(f"{s.resource_type}/{s.id or '?'}" + (f" {s.date}" if s.date else "")
                      for s in sources.used if s.field == field)
    return _text(value) + (f" ({where})" if where else "")


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)
