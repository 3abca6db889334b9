"""The assessment: what ``evaluate`` returns, and the one source of truth for the JSON output.

Field names are the JSON contract of clinical-spec.md ("Output"); add fields, never rename.
Amounts carry their unit in the field name. ``SCHEMA_VERSION`` changes when the shape does.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ._contract import CrclMethod, DoseBasis, Severity, Status, WeightBasis

__all__ = [
    "SCHEMA_VERSION",
    "Alternative",
    "Assessment",
    "Derived",
    "Finding",
    "Monitoring",
    "ReferenceOut",
    "Regimen",
    "RulesIdentity",
]

SCHEMA_VERSION = "1.0"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Out):
    """A rule that fired."""

    id: str
    severity: Severity
    message: str
    details: list[str] = []
    citations: list[str]


class Alternative(_Out):
    """The better-tolerated salt, as a daily range (elemental and salt amounts)."""

    product: str
    elemental_mg_per_day_min: float
    elemental_mg_per_day_max: float
    elemental_mmol_per_day_min: float
    elemental_mmol_per_day_max: float
    product_mg_per_day_min: float
    product_mg_per_day_max: float
    note: str
    citations: list[str]


class Regimen(_Out):
    """What to give, when, and never above what. Doses are null when the sources give none."""

    product: str
    product_id: str
    dose_basis: DoseBasis
    elemental_mmol_per_day: float | None
    elemental_mg_per_day: float | None
    product_mg_per_day: float | None
    timing: str
    max_product_mg_per_day: float
    max_elemental_mmol_per_day: float
    max_elemental_mg_per_day: float
    max_basis: str | None = None
    note: str | None = None
    alternative: Alternative | None = None
    side_effects: list[str]
    side_effects_advice: str
    citations: list[str]


class Monitoring(_Out):
    """The monitoring plan, with the reasons to monitor this patient more often."""

    schedule: list[str]
    more_often_because: list[str]
    more_often_text: str
    citations: list[str]
    basis_notes: list[str] = []


class Derived(_Out):
    """Values in canonical units, and how creatinine clearance was obtained."""

    mg_mmol_l: float | None = None
    k_mmol_l: float | None = None
    ca_mmol_l: float | None = None
    creatinine_mg_dl: float | None = None
    crcl_ml_min: float | None = None
    crcl_method: CrclMethod | None = None
    crcl_weight_basis: WeightBasis | None = None
    bmi: float | None = None
    age_years: float | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    ideal_body_weight_kg: float | None = None
    crcl_weight_kg: float | None = None
    crcl_cockcroft_gault_ml_min: float | None = None
    current_dose_mmol_per_day: float | None = None
    notes: list[str] = []


class ReferenceOut(_Out):
    """A cited reference, numbered in order of first citation."""

    number: int
    citation: str
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    caveat: str | None = None


class RulesIdentity(_Out):
    """Which rule set produced the assessment."""

    version: str
    sha256: str
    source: str


class Assessment(_Out):
    """The whole answer for one patient."""

    schema_version: str = SCHEMA_VERSION
    id: str | None = None
    status: Status
    status_reason: str
    decided_by: str
    findings: list[Finding]
    regimen: Regimen | None
    monitoring: Monitoring | None
    derived: Derived
    inputs: dict[str, Any]
    references: dict[str, ReferenceOut]
    rules: RulesIdentity
    disclaimer: str
