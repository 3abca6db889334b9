"""The pure core: ``evaluate(patient, rules) -> Assessment``. No I/O, no clock, no environment.

Order of work, as clinical-spec.md "Decision" (revision 2) orders it:
1. renal function (``_renal``): the value the bands use - reported CrCl, or Cockcroft-Gault
   when there is no reported value or when the two differ by more than the rules' limit and
   Cockcroft-Gault is the lower (the safer reading), else eGFR; a bound (eGFR ``>60``) only
   when its whole range falls in one band;
2. facts: every number in canonical units (with the unit entered, for the boundary rule), the
   derived numbers (BMI, albumin-adjusted calcium, the CrCl discrepancy), the vocabulary
   lists, the single choices (indication, sex, the renal method) and the risk factors;
3. the decision walk over those facts (``walk.decide``, the one place that orders the
   rules): risk factors; steps in order, the first true one setting the status; every finding
   whose condition is true (they may test the status); the regimen of the step that decided,
   monitoring for every status that gives or continues magnesium; references numbered by
   first citation;
4. the texts: placeholders filled with the patient's values as entered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from msgspec import Struct
from msgspec.structs import replace as with_changes

from .assessment import (
    Assessment,
    Derived,
    Finding,
    RulesIdentity,
)
from .conditions import (
    Compare,
    Facts,
    NumberFact,
    compare,
    evaluate,
)
from .contract import CrclMethod
from .crcl import CrclEstimate, cockcroft_gault, round_down
from .inputs_used import inputs_used
from .patient import Measured, Patient
from .ruleset import PLACEHOLDER, FindingRule, RuleSet
from .walk import Fired, Observer, Outcome, decide

__all__ = ["DISCLAIMER", "Renal", "decide_patient", "evaluate_patient", "patient_facts"]

DISCLAIMER = (
    "mgassist supports, and does not replace, clinical judgement. Check every recommendation "
    "against the patient and the product label before acting on it."
)
_CG_INPUTS = ("creatinine", "age", "sex", "weight")
_SOURCE_WORDS = {CrclMethod.REPORTED: "reported", CrclMethod.COCKCROFT_GAULT: "Cockcroft-Gault",
                 CrclMethod.EGFR: "eGFR"}


class Renal(Struct, frozen=True):  # a Struct: ~1 ms less start-up than a dataclass
    """Renal function as used: the value the bands use (``crcl``) and where it came from, beside
    every estimate there was (reported CrCl, Cockcroft-Gault, eGFR) and the BMI."""

    crcl: NumberFact | None
    method: CrclMethod | None
    estimate: CrclEstimate | None
    discrepancy_percent: float | None
    missing: tuple[str, ...]
    reported: NumberFact | None = None
    egfr: NumberFact | None = None
    bmi: float | None = None
    notes: tuple[str, ...] = ()


def evaluate_patient(patient: Patient, rules: RuleSet, *,
                     observer: Observer | None = None) -> Assessment:
    """Assess one validated patient against a loaded rule set.

    ``observer``: called with every rule as the walk meets it (``walk``)."""
    renal, numbers, outcome = decide_patient(patient, rules, observer=observer)
    texts = _Texts(rules, numbers, renal, outcome.risk_labels, patient.meds_not_recognised,
                   patient.med_names)
    texts.values.update(patient.lab_texts)  # FHIR input: {old_results}, {lab_range}
    findings = [_finding(f, rules.findings[f.id], texts) for f in outcome.findings]
    step = outcome.step
    derived = _derived(patient, renal, numbers)
    return Assessment(
        id=patient.id,
        status=outcome.status,
        status_reason=texts.render(step.reason, outcome.reason_matched) if step else
        "No decision step applied to these inputs: this is a gap in the rule set. Review "
        "manually; no regimen is given.",
        decided_by=step.id if step else "none",
        findings=findings,
        regimen=outcome.regimen,
        monitoring=outcome.monitoring,
        derived=derived,
        inputs=dict(patient.inputs),
        inputs_used=inputs_used(patient.inputs, derived, rules),
        references=dict(outcome.references),
        rules=RulesIdentity(version=rules.version, sha256=rules.sha256, source=rules.source),
        disclaimer=DISCLAIMER,
    )


def decide_patient(patient: Patient, rules: RuleSet, *, observer: Observer | None = None
                   ) -> tuple[Renal, dict[str, NumberFact], Outcome]:
    """What the rules decide for one patient (renal function, the number facts, the walk's
    outcome), before any text is filled in: ``evaluate_patient`` without the texts, for
    readers that need only the decision (the batch summary row)."""
    renal, numbers, lists, singles = patient_facts(patient, rules)
    cg_cited = renal.method is CrclMethod.COCKCROFT_GAULT or renal.estimate is not None
    return renal, numbers, decide(rules, numbers, lists, singles, cg_cited, observer)


def patient_facts(patient: Patient, rules: RuleSet) -> tuple[
        Renal, dict[str, NumberFact], dict[str, frozenset[str]], dict[str, str | None]]:
    """What the conditions see of a patient: renal function, numbers, lists, single choices
    (shared by the evaluation and its trace, so both see the same facts)."""
    renal = _renal(patient, rules)
    lists = {
        "meds": frozenset(m.value for m in patient.meds),
        "meds_not_recognised": frozenset(patient.meds_not_recognised),
        "conditions": frozenset(c.value for c in patient.conditions),
        "symptoms": frozenset(s.value for s in patient.symptoms),
        "lab_flags": frozenset(patient.lab_flags),
    }
    singles = {
        "indication": patient.indication.value if patient.indication else None,
        "sex": patient.sex.value if patient.sex else None,
        "crcl_method": renal.method.value if renal.method else None,
    }
    return renal, _numbers(patient, rules, renal), lists, singles


def _renal(patient: Patient, rules: RuleSet) -> Renal:
    """The renal value the bands use, chosen as clinical-spec.md revision 2 says."""
    params = rules.cockcroft_gault
    missing = tuple(name for name in _CG_INPUTS if getattr(patient, name) is None)
    bmi = None
    if patient.weight is not None and patient.height is not None:
        # as printed (one decimal, truncated), like the BMI of Cockcroft-Gault's weight rule
        bmi = round_down(patient.weight.canonical / (patient.height.canonical / 100) ** 2, 1)
    estimate = None
    adult = patient.age is not None and evaluate(
        Compare("age", "at_or_above", params.adults_from), Facts(
            {"age": _fact(patient.age, rules, "age")}, {}, {})) is True
    if not missing and adult:
        assert patient.age and patient.sex and patient.weight and patient.creatinine
        estimate = cockcroft_gault(
            age_years=patient.age.canonical, sex=patient.sex,
            weight_kg=patient.weight.canonical, creatinine_mg_dl=patient.creatinine.canonical,
            height_cm=patient.height.canonical if patient.height else None,
            basis=patient.crcl_weight, params=params)
    reported = None if patient.crcl is None else _fact(patient.crcl, rules, "crcl")
    egfr = None if patient.egfr is None else _fact(patient.egfr, rules, "egfr")
    unknown = Renal(None, None, estimate, None, missing, reported, egfr, bmi)
    cg = None if estimate is None else NumberFact(
        estimate.ml_min, f"{estimate.ml_min:.{params.result_decimals}f} mL/min (Cockcroft-Gault)")
    if reported is not None:
        discrepancy = None
        if estimate is not None:
            # in decimals, as both values are printed: 24 and 19.2 differ by exactly 25 %,
            # which binary floats would make 25.000000000000004 % (more than 25 %)
            derived, given = Decimal(repr(estimate.ml_min)), Decimal(repr(reported.canonical))
            smaller = min(derived, given)
            if smaller > 0:
                discrepancy = float(abs(derived - given) / smaller * 100)
        differs = discrepancy is not None and compare(
            NumberFact(discrepancy, ""), "above", params.discrepancy) is True
        if differs and cg is not None and cg.canonical < reported.canonical:
            note = (f"reported creatinine clearance {reported.text} and Cockcroft-Gault "
                    f"{cg.canonical:.{params.result_decimals}f} mL/min differ by more than "
                    f"{params.discrepancy.text}: the lower, Cockcroft-Gault, is used (the "
                    "safer reading)")
            return with_changes(unknown, crcl=cg, method=CrclMethod.COCKCROFT_GAULT,
                           discrepancy_percent=discrepancy, notes=(note,))
        return with_changes(unknown, crcl=replace(reported, text=f"{reported.text} (reported)"),
                       method=CrclMethod.REPORTED, discrepancy_percent=discrepancy)
    if cg is not None:
        return with_changes(unknown, crcl=cg, method=CrclMethod.COCKCROFT_GAULT)
    if egfr is not None:
        as_crcl = NumberFact(egfr.canonical, f"{egfr.text} (eGFR)", bound=egfr.bound)
        spanned = _spanned_limits(as_crcl, rules)
        if spanned:
            note = (f"eGFR {egfr.text} is a bound whose range spans the renal limit "
                    f"{spanned[0]} of the bands: renal function is treated as unknown; give "
                    "the measured eGFR or a creatinine clearance")
            return with_changes(unknown, notes=(note,))
        return with_changes(unknown, crcl=as_crcl, method=CrclMethod.EGFR)
    return unknown


def _spanned_limits(value: NumberFact, rules: RuleSet) -> list[str]:
    """The renal limits of the rules that a bound lies on both sides of (none for a value)."""
    if value.bound is None:
        return []
    return list(dict.fromkeys(c.threshold.text for c in rules.compares()
                              if c.fact == "crcl" and compare(value, "below", c.threshold)
                              is None))


def _numbers(patient: Patient, rules: RuleSet, renal: Renal) -> dict[str, NumberFact]:
    numbers: dict[str, NumberFact] = {}
    for name in rules.quantities:
        value = getattr(patient, name)
        if name != "crcl" and isinstance(value, Measured):
            numbers[name] = _fact(value, rules, name)
    if renal.crcl is not None:
        numbers["crcl"] = renal.crcl
    if renal.discrepancy_percent is not None:
        numbers["crcl_discrepancy"] = NumberFact(renal.discrepancy_percent,
                                                 f"{renal.discrepancy_percent:.0f}%")
    if renal.bmi is not None:
        numbers["bmi"] = NumberFact(renal.bmi, f"{renal.bmi:g} kg/m2")
    if patient.ca is not None and patient.albumin is not None:
        numbers["ca_adjusted"] = _adjusted_calcium(patient.ca, patient.albumin, rules)
    return numbers


def _adjusted_calcium(ca: Measured, albumin: Measured, rules: RuleSet) -> NumberFact:
    """Albumin-adjusted calcium (the rules' adjustment), printed as a lab prints it: in the
    unit calcium was entered in, rounded to that unit's decimals, so the boundary rule reads
    it like any measured value."""
    adjust = rules.calcium_adjustment
    canonical = ca.canonical + adjust.mmol_l_per_g_l * (adjust.reference_g_l - albumin.canonical)
    table = rules.quantities["ca"].table
    printed = Decimal(repr(canonical / table.factors[ca.unit])).quantize(
        Decimal(1).scaleb(-table.decimals[ca.unit]), rounding=ROUND_HALF_UP)
    text = f"{printed} {ca.unit}"
    if ca.unit != table.canonical:
        text += f" ({canonical:.{table.decimals[table.canonical]}f} {table.canonical})"
    text += f" adjusted for albumin {albumin.entered}"
    return NumberFact(canonical, text, ca.unit, printed)


_FACTS: dict[tuple[int, str, int], tuple[RuleSet, Measured, NumberFact]] = {}
# A cache only: clearing it is always safe. Kept small so it fills early in a batch and memory
# stays flat in input size: at 65,536 entries it held ~20 MiB and was still filling at 100,000
# records (peak RSS 1M/100k records 1.14); 8,192 was also ~6 % faster (fewer cache misses).
_FACTS_LIMIT = 8_192


def _fact(value: Measured, rules: RuleSet, name: str) -> NumberFact:
    """``value`` as the conditions see it; remembered per value object (a batch's parse memo
    gives one object to every record that typed the same value)."""
    key = (id(rules), name, id(value))
    hit = _FACTS.get(key)
    if hit is not None and hit[0] is rules and hit[1] is value:  # both kept alive: ids unique
        return hit[2]
    if len(_FACTS) >= _FACTS_LIMIT:
        _FACTS.clear()
    fact = _new_fact(value, rules, name)
    _FACTS[key] = (rules, value, fact)
    return fact


def _new_fact(value: Measured, rules: RuleSet, name: str) -> NumberFact:
    rule = rules.quantities[name]
    table = rule.table
    shown = f"{value.number} {rule.shown_as}" if rule.shown_as else value.entered
    decimals = table.decimals[table.canonical]
    if value.unit != table.canonical:
        shown += f" ({value.canonical:.{decimals}f} {table.canonical})"
    if rule.compare_in_canonical:
        as_printed = Decimal(repr(value.canonical)).quantize(Decimal(1).scaleb(-decimals),
                                                             rounding=ROUND_HALF_UP)
        return NumberFact(value.canonical, shown, table.canonical, as_printed, value.bound)
    return NumberFact(value.canonical, shown, value.unit, value.number, value.bound)


def _finding(fired: Fired, rule: FindingRule, texts: _Texts) -> Finding:
    return Finding(id=fired.id, title=rule.title or rule.id, severity=fired.severity,
                   message=texts.render(fired.message, fired.matched),
                   details=[texts.render(text, matched) for text, matched in fired.details],
                   action=texts.render(rule.action, fired.matched) if rule.action else None,
                   citations=list(fired.citations))


class _Texts:
    """Fills the placeholders of rule texts for one patient."""

    def __init__(self, rules: RuleSet, numbers: Mapping[str, NumberFact], renal: Renal,
                 risk_labels: Sequence[str], not_recognised: Sequence[str],
                 med_names: Sequence[tuple[str, Sequence[str]]] = ()) -> None:
        self.rules = rules
        self.med_names = med_names
        self.numbers = numbers
        self.values = {name: fact.text for name, fact in numbers.items()}
        if renal.reported is not None:
            self.values["crcl_reported"] = renal.reported.text
        if renal.estimate is not None:
            self.values["crcl_derived"] = f"{renal.estimate.ml_min} mL/min"
        if renal.method is not None:
            self.values["crcl_source"] = _SOURCE_WORDS[renal.method]
        self.values["risk_factors"] = "; ".join(risk_labels)
        self.values["meds_not_recognised"] = ", ".join(not_recognised)

    def render(self, text: str, matched: Sequence[str]) -> str:
        labels = [self.rules.vocabulary.label_of(item) for item in dict.fromkeys(matched)]

        def fill(m: re.Match[str]) -> str:
            name, unit = m[1], m[2]
            if name == "matched" and unit:  # {matched|symptoms}: the items of one vocabulary
                return ", ".join(self.matched_of(unit, matched)) or "none"
            if name == "matched":
                return ", ".join(labels) or "none"
            if unit and name in self.numbers:  # {current_dose|mg/day}: in that unit
                table = self.rules.quantities[name].table
                value = self.numbers[name].canonical / table.factors[unit]
                return f"{value:.{table.decimals[unit]}f} {unit}"
            if name in self.values:
                return self.values[name]
            if name in self.rules.thresholds:
                return self.rules.thresholds[name].text
            return "not given"
        return PLACEHOLDER.sub(fill, text)

    def matched_of(self, kind: str, matched: Sequence[str]) -> list[str]:
        """The matched items of vocabulary ``kind``: labels, or for medications the names as
        the clinician typed them."""
        items = [m for m in dict.fromkeys(matched) if m in self.rules.vocabulary.labels[kind]]
        if kind != "meds":
            return [self.rules.vocabulary.label(kind, m) for m in items]
        return list(dict.fromkeys(name for name, classes in self.med_names
                                  if any(c in items for c in classes)))


def _derived(patient: Patient, renal: Renal, numbers: Mapping[str, NumberFact]) -> Derived:
    def canonical(value: Measured | None) -> float | None:
        return None if value is None else round(value.canonical, 4)
    estimate = renal.estimate
    notes = list(estimate.notes) if estimate else []
    notes += renal.notes
    if renal.method is None:
        notes.append("renal function unknown: give creatinine clearance, or creatinine, age, "
                     "sex and weight for Cockcroft-Gault (missing: "
                     f"{', '.join(renal.missing) or 'adult age'}), or an eGFR")
    if patient.ca is not None and patient.albumin is None:
        notes.append("calcium not adjusted for albumin (no albumin given): total calcium used")
    dose = patient.current_dose
    if dose is not None and dose.salt is not None:
        notes.append(f"current dose {dose.entered}: {dose.canonical:.1f} mmol/day of elemental "
                     "magnesium, through the salt's formula mass")
    elif dose is not None and dose.unit != dose.canonical_unit:
        notes.append(f"current dose {dose.entered} read as elemental magnesium "
                     f"({dose.canonical:.1f} mmol/day)")
    adjusted = numbers.get("ca_adjusted")
    cg = None if estimate is None else estimate.ml_min
    return Derived(
        mg_mmol_l=canonical(patient.mg),
        k_mmol_l=canonical(patient.k),
        ca_mmol_l=canonical(patient.ca),
        creatinine_mg_dl=canonical(patient.creatinine),
        crcl_ml_min=None if renal.crcl is None else round(renal.crcl.canonical, 2),
        crcl_method=renal.method,
        crcl_weight_basis=None if estimate is None else estimate.weight_basis,
        bmi=renal.bmi,
        age_years=canonical(patient.age),
        weight_kg=canonical(patient.weight),
        height_cm=canonical(patient.height),
        ideal_body_weight_kg=None if estimate is None or estimate.ideal_kg is None
        else round(estimate.ideal_kg, 1),
        crcl_weight_kg=None if estimate is None else round(estimate.weight_kg, 1),
        crcl_cockcroft_gault_ml_min=cg,
        current_dose_mmol_per_day=canonical(patient.current_dose),
        crcl_comparator=None if renal.crcl is None else renal.crcl.bound,
        crcl_reported_ml_min=canonical(patient.crcl),
        crcl_cg_ml_min=cg,
        egfr_ml_min_173=canonical(patient.egfr),
        egfr_comparator=None if patient.egfr is None else patient.egfr.bound,
        albumin_g_l=canonical(patient.albumin),
        ca_adjusted_mmol_l=None if adjusted is None else round(adjusted.canonical, 4),
        current_dose_mmol_day=canonical(patient.current_dose),
        med_classes=list(patient.meds),
        meds_not_recognised=list(patient.meds_not_recognised),
        notes=notes,
    )
