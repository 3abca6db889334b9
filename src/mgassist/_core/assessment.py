"""The assessment: what ``evaluate`` returns, and the one source of truth for the JSON output.

Field names are the JSON contract of clinical-spec.md ("Output"); add fields, never rename.
Amounts carry their unit in the field name. ``SCHEMA_VERSION`` changes when the shape does.
JSON keys follow the field order below.

These are frozen standard-library dataclasses, not pydantic models: a one-shot ``assess``
must not pay for importing pydantic (it would double the start-up time). orjson serializes
them directly; ``mgassist schema output`` derives the JSON Schema from these same classes
through pydantic, which is imported only there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson

from .contract import CrclMethod, DoseBasis, MedClass, Severity, Status, WeightBasis

if TYPE_CHECKING:  # imported by resolve_annotations: only FHIR input makes one (~5 ms start-up)
    from .sources import Sources

__all__ = [
    "SCHEMA_VERSION",
    "Alternative",
    "Assessment",
    "Derived",
    "Finding",
    "InputUsed",
    "Monitoring",
    "ReferenceOut",
    "Regimen",
    "RulesIdentity",
    "resolve_annotations",
]

SCHEMA_VERSION = "1.5"
# Read by pydantic only when `mgassist schema output` derives the JSON Schema: every key is
# always present in the output (so all are required), and no other key may appear.
_SCHEMA_CONFIG: dict[str, Any] = {"json_schema_serialization_defaults_required": True,
                                  "extra": "forbid"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A rule that fired."""

    __pydantic_config__ = _SCHEMA_CONFIG

    id: str
    title: str
    severity: Severity
    message: str
    details: list[str] = field(default_factory=list)
    action: str | None = None
    citations: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Alternative:
    """The better-tolerated salt, as a daily range (elemental and salt amounts)."""

    __pydantic_config__ = _SCHEMA_CONFIG

    product: str
    elemental_mg_per_day_min: float
    elemental_mg_per_day_max: float
    elemental_mmol_per_day_min: float
    elemental_mmol_per_day_max: float
    product_mg_per_day_min: float
    product_mg_per_day_max: float
    note: str
    citations: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Regimen:
    """What to give, when, and never above what. Doses are null when the sources give none."""

    __pydantic_config__ = _SCHEMA_CONFIG

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


@dataclass(frozen=True, slots=True, kw_only=True)
class Monitoring:
    """The monitoring plan, with the reasons to monitor this patient more often."""

    __pydantic_config__ = _SCHEMA_CONFIG

    schedule: list[str]
    more_often_because: list[str]
    more_often_text: str
    citations: list[str]
    basis_notes: list[str] = field(default_factory=list)


Comparator = Literal[">", ">=", "<", "<="]


@dataclass(frozen=True, slots=True, kw_only=True)
class Derived:
    """Values in canonical units, and how the renal value was obtained.

    ``crcl_ml_min`` is the renal value the bands used and ``crcl_method`` its source
    (reported, cockcroft-gault or egfr); the other estimates stay beside it
    (``crcl_reported_ml_min``, ``crcl_cg_ml_min`` - also ``crcl_cockcroft_gault_ml_min`` as in
    schema 1.0 - and ``egfr_ml_min_173``). A ``..._comparator`` is set when the lab gave a
    bound (eGFR ``>60``): the value is then that bound's edge. ``med_classes`` are the classes
    the medication names were read as; ``meds_not_recognised`` the names that map to none.
    """

    __pydantic_config__ = _SCHEMA_CONFIG

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
    crcl_comparator: Comparator | None = None
    crcl_reported_ml_min: float | None = None
    crcl_cg_ml_min: float | None = None
    egfr_ml_min_173: float | None = None
    egfr_comparator: Comparator | None = None
    albumin_g_l: float | None = None
    ca_adjusted_mmol_l: float | None = None
    current_dose_mmol_day: float | None = None
    med_classes: list[MedClass] = field(default_factory=list)
    meds_not_recognised: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class InputUsed:
    """One row of "inputs as used": a value as entered beside the value the rules used."""

    __pydantic_config__ = _SCHEMA_CONFIG

    field: str
    label: str
    entered: str
    used: str
    citations: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceOut:
    """A cited reference, numbered in order of first citation."""

    __pydantic_config__ = _SCHEMA_CONFIG

    number: int
    citation: str
    short: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    caveat: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RulesIdentity:
    """Which rule set produced the assessment."""

    __pydantic_config__ = _SCHEMA_CONFIG

    version: str
    sha256: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """The whole answer for one patient."""

    __pydantic_config__ = _SCHEMA_CONFIG

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
    inputs_used: list[InputUsed]
    references: dict[str, ReferenceOut]
    rules: RulesIdentity
    disclaimer: str
    sources: Sources | None = None  # read from a FHIR document (1.5): what each value came from

    def to_json(self, *, indent: bool = False) -> str:
        """The JSON contract: one object (``indent``: two spaces, as ``assess --json`` prints)."""
        return self.to_json_bytes(indent=indent).decode()

    def to_json_bytes(self, *, indent: bool = False) -> bytes:
        """As ``to_json``, UTF-8 encoded (what batch writes)."""
        return orjson.dumps(self, option=orjson.OPT_INDENT_2 if indent else 0)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as Python values (enums as their strings)."""
        data: dict[str, Any] = orjson.loads(self.to_json_bytes())
        return data


def resolve_annotations() -> None:
    """Bind the one annotation name start-up leaves unimported (``Sources``), for a reader that
    resolves the classes' annotations: ``mgassist schema output`` (through pydantic)."""
    from . import sources

    globals()["Sources"] = sources.Sources
