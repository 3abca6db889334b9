"""A loaded rule set: immutable, fully validated, with every unit already converted.

Only the loader builds these; the engine only reads them. Amounts are plain floats in the
canonical unit the field name says (``..._mmol_per_day``, ``..._kg``), computed through pint
when the rules loaded, so evaluation never touches pint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from msgspec import Struct, field

from .conditions import Compare, Condition, Threshold, nodes
from .contract import DoseBasis, MedRole, Severity, Status
from .fhir_codes import FhirRules
from .medications import MedicationNames
from .units import UnitTable

__all__ = [
    "CockcroftGault",
    "CalciumAdjustment",
    "Detail",
    "Dose",
    "FindingRule",
    "PLACEHOLDER",
    "MonitoringRules",
    "QuantityRule",
    "Reason",
    "Reference",
    "RegimenRules",
    "RiskFactor",
    "RuleSet",
    "Salt",
    "ScheduleItem",
    "Step",
    "StepRegimen",
    "Vocabulary",
    "normalize_term",
]

# A placeholder in a rule text: {name} or {name|unit}. The loader checks each name at load;
# the engine fills them for a patient.
PLACEHOLDER = re.compile(r"\{([^{}|]*)(?:\|([^{}]*))?\}")


def normalize_term(term: str) -> str:
    """How vocabulary terms are matched: case-insensitive, spaces and underscores as hyphens."""
    return re.sub(r"[\s_]+", "-", term.strip().lower())


class QuantityRule(Struct, frozen=True):
    """One input quantity: label, unit table and plausibility limits (canonical units)."""

    id: str
    label: str
    table: UnitTable
    minimum: float
    maximum: float
    minimum_text: str
    maximum_text: str
    example: str
    shown_as: str | None = None
    compare_in_canonical: bool = False
    bounds: bool = False

    @property
    def plausible_text(self) -> str:
        """The plausible range for people, the unit said once: ``0.1 to 5 mmol/L``, ``0 to
        120 years`` (both limits as the rules write them)."""
        low, _, low_unit = self.minimum_text.strip().partition(" ")
        high, _, high_unit = self.maximum_text.strip().partition(" ")
        if not low_unit or low_unit.strip() != high_unit.strip():
            return f"{self.minimum_text} to {self.maximum_text}"
        unit = high_unit.strip()
        if self.shown_as and self.table.lookup(unit) == self.table.canonical:
            unit = self.shown_as
        return f"{low} to {high} {unit}"

    def as_used(self, canonical_value: float) -> str:
        """A canonical value for people: one decimal more than labs print, so a converted
        value shows which side of a limit it is on (``0.617 mmol/L``, ``67 years``)."""
        decimals = self.table.decimals.get(self.table.canonical, 1) + 1
        return f"{canonical_value:.{decimals}f} {self.shown_as or self.table.canonical}"


class Vocabulary(Struct, frozen=True):
    """Labels of every contract id, and every accepted spelling mapped to its id; for
    medications also each class's role, the names as the rules write them, and the word table
    names are read with."""

    labels: Mapping[str, Mapping[str, str]]
    lookup: Mapping[str, Mapping[str, str]]
    roles: Mapping[str, MedRole] = field(default_factory=dict)
    medications: MedicationNames = field(
        default_factory=lambda: MedicationNames({}, 1))
    med_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    role_words: Mapping[str, str] = field(default_factory=dict)  # role -> what it means

    def label(self, kind: str, item: str) -> str:
        """The readable label of ``item`` in vocabulary ``kind`` (the id if it has none)."""
        return self.labels.get(kind, {}).get(item, item)

    def synonyms(self, kind: str, item: str) -> tuple[str, ...]:
        """The other accepted spellings of ``item`` (drug names for a med class, as written in
        the rules), sorted."""
        if kind == "meds" and item in self.med_names:
            return tuple(sorted(self.med_names[item], key=str.lower))
        lookup = self.lookup.get(kind, {})
        return tuple(sorted(k for k, v in lookup.items() if v == item and k != item))

    def label_of(self, item: str) -> str:
        """The label of an id from whichever vocabulary holds it (the id if none does)."""
        for labels in self.labels.values():
            if item in labels:
                return labels[item]
        return item


class CockcroftGault(Struct, frozen=True):
    """Cockcroft-Gault parameters, in years, kg, cm, kg/m2 and mL/min."""

    adults_from: Threshold
    age_from_years: float
    ml_min_per_unit: float
    female_factor: float
    ideal_base_kg: Mapping[str, float]
    ideal_kg_per_inch: float
    ideal_from_height_cm: float
    cm_per_inch: float
    adjusted_fraction: float
    underweight_below_bmi: float
    overweight_from_bmi: float
    result_decimals: int
    discrepancy: Threshold
    cite: tuple[str, ...]


class CalciumAdjustment(Struct, frozen=True):
    """Albumin-adjusted calcium: total + ``mmol_l_per_g_l`` x (``reference_g_l`` - albumin)."""

    reference_g_l: float
    mmol_l_per_g_l: float
    cite: tuple[str, ...]


class Step(Struct, frozen=True):
    """A decision step: the first one whose condition holds sets the status."""

    id: str
    when: Condition
    status: Status
    finding: str
    reason: str
    severity: Severity | None = None


class Detail(Struct, frozen=True):
    """An extra line of a finding, shown when its own condition holds (or always)."""

    text: str
    when: Condition | None
    cite: tuple[str, ...] = ()


class FindingRule(Struct, frozen=True):
    """A finding: reported whenever its condition is true. One whose message names the risk
    factors present (``{risk_factors}``) also cites theirs."""

    id: str
    severity: Severity
    when: Condition
    message: str
    details: tuple[Detail, ...]
    cite: tuple[str, ...]
    title: str = ""  # how reports name it (empty: the rule set gives none; reports use the id)
    action: str | None = None  # a first action for the decision box, if the finding has one

    @property
    def names_risk_factors(self) -> bool:
        """The message names the risk factors present (``{risk_factors}``)."""
        return "{risk_factors}" in self.message


class RiskFactor(Struct, frozen=True):
    """A named risk factor for magnesium deficiency."""

    id: str
    label: str
    when: Condition
    cite: tuple[str, ...]


class Dose(Struct, frozen=True):
    """A daily dose of a salt, in elemental mmol, elemental mg and salt mg."""

    elemental_mmol: float
    elemental_mg: float
    product_mg: float


class StepRegimen(Struct, frozen=True):
    """The regimen a supplement step gives: its dose basis, its dose (None when the sources
    give no figure) and the ceiling it never goes above, each with the dose's id."""

    basis: DoseBasis
    dose_id: str | None
    dose: Dose | None
    ceiling_id: str
    ceiling: Dose
    note: str | None
    cite: tuple[str, ...]


class Salt(Struct, frozen=True):
    """A magnesium salt of the product table: how a daily mass of it becomes elemental
    magnesium (through its formula mass, at load), and the names a current dose may give."""

    id: str
    label: str
    formula_mass: str
    elemental_mmol_per_mg: float
    names: tuple[str, ...]


class RegimenRules(Struct, frozen=True):
    """The regimen, with every dose already converted through pint."""

    product_id: str
    product_label: str
    doses: Mapping[str, Dose]
    maximum: Dose
    by_step: Mapping[str, StepRegimen]
    timing: str
    alternative_finding: str
    alternative_label: str
    alternative_low: Dose
    alternative_high: Dose
    alternative_note: str
    side_effects: tuple[str, ...]
    side_effects_advice: str
    cite_doses: Mapping[str, tuple[str, ...]]
    cite_product: tuple[str, ...]
    cite_maximum: tuple[str, ...]
    maximum_basis: str | None
    cite_timing: tuple[str, ...]
    cite_alternative: tuple[str, ...]
    cite_side_effects: tuple[str, ...]


class Reason(Struct, frozen=True):
    """A reason to monitor more often, shown when its condition holds."""

    label: str
    when: Condition


class ScheduleItem(Struct, frozen=True):
    """One line of the monitoring schedule: shown always, or when its condition holds."""

    text: str
    cite: tuple[str, ...]
    basis: str | None
    when: Condition | None


class MonitoringRules(Struct, frozen=True):
    """The monitoring plan printed with every status that gives or continues magnesium."""

    schedule: tuple[ScheduleItem, ...]
    more_often_text: str
    reasons: tuple[Reason, ...]
    more_often_cite: tuple[str, ...]


class Reference(Struct, frozen=True):
    """A verified bibliography entry."""

    id: str
    citation: str
    doi: str | None
    pmid: str | None
    pmcid: str | None
    url: str | None
    caveat: str | None
    supports: str
    short: str | None = None  # the one-line form of brief reports


class RuleSet(Struct, frozen=True):
    """Everything the engine needs, validated; ``sha256`` identifies the exact files."""

    version: str
    sha256: str
    source: str
    quantities: Mapping[str, QuantityRule]
    vocabulary: Vocabulary
    thresholds: Mapping[str, Threshold]
    cockcroft_gault: CockcroftGault
    calcium_adjustment: CalciumAdjustment
    salts: Mapping[str, Salt]
    unconvertible: Mapping[str, str]
    elemental_names: frozenset[str]
    predicates: Mapping[str, Condition]
    steps: tuple[Step, ...]
    findings: Mapping[str, FindingRule]
    risk_factors: tuple[RiskFactor, ...]
    regimen: RegimenRules
    monitoring: MonitoringRules
    references: Mapping[str, Reference]
    fhir: FhirRules | None = None  # rules/fhir.yaml; None: the rule set reads no FHIR input

    def owned_conditions(self) -> Iterator[tuple[str, Condition]]:
        """Every ``when`` of the rule set with what owns it (``step adults-only``): predicates,
        steps, risk factors, findings and their details, and the reasons to monitor more often."""
        yield from ((f"predicate {name}", cond) for name, cond in self.predicates.items())
        yield from ((f"step {step.id}", step.when) for step in self.steps)
        yield from ((f"risk factor {r.id}", r.when) for r in self.risk_factors)
        for rule in self.findings.values():
            yield f"finding {rule.id}", rule.when
            yield from ((f"finding {rule.id}", detail.when) for detail in rule.details
                        if detail.when is not None)
        yield from ((f"monitoring reason {m.label}", m.when) for m in self.monitoring.reasons)
        yield from ((f"monitoring item {i}", item.when)
                    for i, item in enumerate(self.monitoring.schedule) if item.when is not None)

    def conditions(self) -> Iterator[Condition]:
        """Every ``when`` of the rule set (see ``owned_conditions``)."""
        return (cond for _, cond in self.owned_conditions())

    def compares(self) -> Iterator[Compare]:
        """Every distinct number comparison in the rule set (fact, test and threshold)."""
        seen: set[tuple[str, str, str]] = set()
        for root in self.conditions():
            for node in nodes(root):
                if isinstance(node, Compare):
                    key = (node.fact, node.op, node.threshold.id)
                    if key not in seen:
                        seen.add(key)
                        yield node
