"""The shape of a rule file, as pydantic models: frozen, strict, and no unknown fields.

These models check each file's structure (types, required keys, no typos); the loader then
checks what crosses files (units, dimensions, citations, vocabulary, conditions) and compiles
the result into the objects of ``_core.ruleset``. ``when:`` conditions stay raw data here; the
condition parser reads them with their paths so errors keep their line numbers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, model_validator

from mgassist._core.contract import DoseBasis, MedRole, Severity, Status

__all__ = ["OPTIONAL_SECTIONS", "RuleFile", "SECTIONS"]

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")]
Text = Annotated[str, StringConstraints(min_length=1)]
Cites = Annotated[list[Id], Field(min_length=1)]
# Enums are read from their string value (strict mode would demand enum instances).
StatusId = Annotated[Status, Strict(False)]
SeverityId = Annotated[Severity, Strict(False)]
DoseBasisId = Annotated[DoseBasis, Strict(False)]
MedRoleId = Annotated[MedRole, Strict(False)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class _Sourced(_Spec):
    """Something that needs support: verified citations, or an honest note of its basis."""

    cite: list[Id] = []
    basis: Text | None = None

    @model_validator(mode="after")
    def _supported(self) -> _Sourced:
        if not self.cite and self.basis is None:
            raise ValueError("give cite (reference ids) or, when no verified source states "
                             "it, basis (where the figure comes from)")
        return self


class RangeSpec(_Spec):
    min: Text
    max: Text


class QuantitySpec(_Spec):
    label: Text
    canonical: Text
    molar_mass: Text | None = None
    valence: Annotated[int, Field(ge=1, le=4)] | None = None
    units: Annotated[dict[Text, Annotated[int, Field(ge=0, le=6)]], Field(min_length=1)]
    spellings: dict[Text, Text] = {}
    plain_number: bool = False
    shown_as: Text | None = None
    compare_in: Literal["entered", "canonical"] = "entered"
    bounds: bool = False
    plausible: RangeSpec
    example: Text
    cite: list[Id] = []


class ThresholdSpec(_Spec):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    value: Text
    for_: Annotated[str, Field(alias="for")]
    meaning: Text
    cite: list[Id] = []


class SexValues(_Spec):
    female: Text
    male: Text


class CockcroftGaultSpec(_Spec):
    adults_from: Id
    age_from: Text
    divisor: Text
    female_factor: Annotated[float, Field(gt=0, le=1)]
    ideal_base: SexValues
    ideal_per_inch: Text
    ideal_from_height: Text
    adjusted_fraction: Annotated[float, Field(ge=0, le=1)]
    underweight_below: Text
    overweight_from: Text
    result_decimals: Annotated[int, Field(ge=0, le=3)]
    discrepancy: Id
    cite: Cites


class CalciumAdjustmentSpec(_Spec):
    reference_albumin: Text
    calcium_step: Text
    albumin_step: Text
    cite: Cites


class VocabEntrySpec(_Spec):
    label: Text
    synonyms: list[Text] = []


class MedEntrySpec(VocabEntrySpec):
    role: MedRoleId


class NotClassedSpec(_Sourced):
    """Names that contain a known name but are not that medicine ("magnesium stearate")."""

    names: list[Text]


class VocabularySpec(_Spec):
    meds: dict[Id, MedEntrySpec]
    med_roles: dict[MedRoleId, Text] = {}
    meds_not_classed: list[NotClassedSpec] = []
    conditions: dict[Id, VocabEntrySpec]
    symptoms: dict[Id, VocabEntrySpec]
    indications: dict[Id, VocabEntrySpec]


class StepSpec(_Spec):
    id: Id
    when: Any
    status: StatusId
    finding: Id
    reason: Text
    severity: SeverityId | None = None


class DetailSpec(_Spec):
    text: Text
    when: Any = None
    cite: list[Id] = []


class FindingSpec(_Sourced):
    """A finding cites its sources; one about the input itself (a name not recognised) gives
    ``basis:`` instead, saying so."""

    severity: SeverityId
    title: Text | None = None
    action: Text | None = None
    when: Any
    message: Text
    details: list[DetailSpec] = []


class RiskFactorSpec(_Spec):
    id: Id
    label: Text
    when: Any
    cite: Cites


class SaltSpec(_Sourced):
    label: Text
    formula_mass: Text
    magnesium_per_formula: Annotated[int, Field(ge=1, le=3)]
    names: list[Text] = []


class DoseSpec(_Spec):
    elemental: Text
    cite: Cites


class MaximumSpec(_Sourced):
    product: Text


class StepRegimenSpec(_Spec):
    basis: DoseBasisId
    dose: Id | None = None
    ceiling: Id | None = None
    note: Text | None = None
    cite: list[Id] = []


class CitedText(_Sourced):
    text: Text


class ScheduleItemSpec(_Sourced):
    text: Text
    when: Any = None


class AlternativeSpec(_Spec):
    finding: Id
    salt: Id
    elemental: Annotated[list[Text], Field(min_length=2, max_length=2)]
    note: Text
    cite: Cites


class SideEffectsSpec(_Spec):
    items: Annotated[list[Text], Field(min_length=1)]
    advice: Text
    cite: Cites


class RegimenSpec(_Spec):
    salts: Annotated[dict[Id, SaltSpec], Field(min_length=1)]
    unconvertible: dict[Text, Text] = {}
    elemental_names: list[Text] = []
    product: Id
    doses: dict[Id, DoseSpec]
    maximum: MaximumSpec
    by_step: Annotated[dict[Id, StepRegimenSpec], Field(min_length=1)]
    timing: CitedText
    alternative: AlternativeSpec
    side_effects: SideEffectsSpec


class ReasonSpec(_Spec):
    label: Text
    when: Any


class MoreOftenSpec(_Spec):
    text: Text
    reasons: Annotated[list[ReasonSpec], Field(min_length=1)]
    cite: Cites


class MonitoringSpec(_Spec):
    schedule: Annotated[list[ScheduleItemSpec], Field(min_length=1)]
    more_often: MoreOftenSpec


class ReferenceSpec(_Spec):
    citation: Text
    short: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    doi: Text | None = None
    pmid: Text | None = None
    pmcid: Text | None = None
    url: Text | None = None
    caveat: Text | None = None
    supports: Text


LoincCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,7}-[0-9]$")]
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,18}$")]


class FhirObservationSpec(_Spec):
    codes: Annotated[dict[LoincCode, list[Text]], Field(min_length=1)]
    fresh_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class CodedUnitSpec(_Spec):
    system: Text
    code: Text
    unit: Text


class FhirSpec(_Spec):
    """FHIR input: LOINC codes by field, coded units, RxNorm and SNOMED CT tables."""

    observations: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*$")],
                       FhirObservationSpec]
    coded_units: list[CodedUnitSpec] = []
    rxnorm: dict[Digits, Text] = {}
    snomed: dict[Digits, Id] = {}
    fresh_basis: Text
    sources: Annotated[list[Text], Field(min_length=1)]


class RuleFile(_Spec):
    """One rule file: a version and any of the sections (each section in one file only)."""

    version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    quantities: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*$")],
                     QuantitySpec] | None = None
    vocabulary: VocabularySpec | None = None
    thresholds: dict[Id, ThresholdSpec] | None = None
    cockcroft_gault: CockcroftGaultSpec | None = None
    calcium_adjustment: CalciumAdjustmentSpec | None = None
    predicates: dict[Id, Any] | None = None
    steps: Annotated[list[StepSpec], Field(min_length=1)] | None = None
    findings: dict[Id, FindingSpec] | None = None
    risk_factors: list[RiskFactorSpec] | None = None
    regimen: RegimenSpec | None = None
    monitoring: MonitoringSpec | None = None
    references: dict[Id, ReferenceSpec] | None = None
    fhir: FhirSpec | None = None


SECTIONS: tuple[str, ...] = (
    "quantities", "vocabulary", "thresholds", "cockcroft_gault", "calcium_adjustment",
    "predicates", "steps",
    "findings", "risk_factors", "regimen", "monitoring", "references",
)
"""Every section a rule set must define, each exactly once across its files."""

OPTIONAL_SECTIONS: tuple[str, ...] = ("fhir",)
"""Sections a rule set may define (at most once): without ``fhir`` it reads no FHIR input."""
