"""The coded-input tables of a rule set (rules/fhir.yaml), compiled: what the FHIR reader
(``mgassist._fhir``) looks codes up in. Data only; the reading is in ``_fhir``."""

from __future__ import annotations

from collections.abc import Mapping

from msgspec import Struct

__all__ = ["FhirRules", "LoincCode"]


class LoincCode(Struct, frozen=True):
    """A LOINC code mgassist reads: the patient field it fills, and the accepted units of its
    property (a result in another accepted unit is converted by its unit, and noted)."""

    code: str
    field: str
    property_units: tuple[str, ...] = ()


class FhirRules(Struct, frozen=True):
    """Codes by system, each checked at load against the quantities and the vocabulary."""

    loinc: Mapping[str, LoincCode]
    coded_units: Mapping[tuple[str, str], str]  # (system, code) -> an accepted unit symbol
    fresh_days: Mapping[str, int]  # field -> days; a field absent is never flagged
    rxnorm: Mapping[str, str]  # RxCUI -> a medicine name the vocabulary reads as a class
    snomed: Mapping[str, str]  # SNOMED CT concept id -> condition id
    fresh_basis: str = ""
