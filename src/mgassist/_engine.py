"""The pure core: ``evaluate(patient, rules) -> Assessment``. No I/O, no clock, no environment.

Order of work, as clinical-spec.md "Decision" orders it:
1. renal function: reported CrCl, else Cockcroft-Gault when its inputs are complete (adults);
2. facts: every number in canonical units (with the unit entered, for the boundary rule),
   the vocabulary lists, and the risk factors present;
3. steps in order: the first whose condition is true sets the status;
4. findings: every finding whose condition is true (they may test the status);
5. regimen and monitoring for a supplement* status; references numbered by first citation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from ._assessment import (
    Assessment,
    Derived,
    Finding,
    Monitoring,
    ReferenceOut,
    Regimen,
    RulesIdentity,
)
from ._conditions import (
    Compare,
    Facts,
    NumberFact,
    compare,
    evaluate,
)
from ._contract import CrclMethod, Severity, Status
from ._crcl import CrclEstimate, cockcroft_gault
from ._patient import Measured, Patient
from ._regimen import choose_regimen
from ._ruleset import RuleSet, Step

__all__ = ["DISCLAIMER", "DecisionCache", "Renal", "evaluate_patient", "patient_facts"]

DISCLAIMER = (
    "mgassist supports, and does not replace, clinical judgement. Check every recommendation "
    "against the patient and the product label before acting on it."
)
_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_CG_INPUTS = ("creatinine", "age", "sex", "weight")


@dataclass(frozen=True)
class Renal:
    """Renal function as used: CrCl reported or estimated, and the estimate when possible."""

    crcl: NumberFact | None
    method: CrclMethod | None
    estimate: CrclEstimate | None
    discrepancy_percent: float | None
    missing: tuple[str, ...]


def evaluate_patient(patient: Patient, rules: RuleSet, *,
                     cache: DecisionCache | None = None) -> Assessment:
    """Assess one validated patient against a loaded rule set.

    ``cache`` (batch): reuse the rule outcomes of an earlier patient with the same decision
    signature; the answer is identical with or without it (tests/test_batch.py checks)."""
    renal, numbers, lists, singles = patient_facts(patient, rules)
    cg_cited = renal.method is CrclMethod.COCKCROFT_GAULT or renal.estimate is not None
    if cache is None:
        outcome = _outcome(rules, numbers, lists, singles, cg_cited)
    else:
        outcome = cache.outcome(numbers, lists, singles, cg_cited)
    texts = _Texts(rules, numbers, renal, outcome.risk_labels)
    findings = [Finding(id=f.id, severity=f.severity, message=texts.render(f.message, f.matched),
                        details=[texts.render(text, matched) for text, matched in f.details],
                        citations=list(f.citations))
                for f in outcome.findings]
    step = outcome.step
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
        derived=_derived(patient, renal),
        inputs=dict(patient.inputs),
        references=dict(outcome.references),
        rules=RulesIdentity(version=rules.version, sha256=rules.sha256, source=rules.source),
        disclaimer=DISCLAIMER,
    )


def patient_facts(patient: Patient, rules: RuleSet) -> tuple[
        Renal, dict[str, NumberFact], dict[str, frozenset[str]], dict[str, str | None]]:
    """What the conditions see of a patient: renal function, numbers, lists, single choices
    (shared by the evaluation and its trace, so both see the same facts)."""
    renal = _renal(patient, rules)
    lists = {
        "meds": frozenset(m.value for m in patient.meds),
        "conditions": frozenset(c.value for c in patient.conditions),
        "symptoms": frozenset(s.value for s in patient.symptoms),
    }
    singles = {
        "indication": patient.indication.value if patient.indication else None,
        "sex": patient.sex.value if patient.sex else None,
    }
    return renal, _numbers(patient, rules, renal), lists, singles


@dataclass(frozen=True)
class _Fired:
    """A finding that fired, before its texts are filled for the patient."""

    id: str
    severity: Severity
    message: str
    matched: tuple[str, ...]
    details: tuple[tuple[str, tuple[str, ...]], ...]
    citations: tuple[str, ...]


@dataclass(frozen=True)
class _Outcome:
    """What the rules decided, independent of how the patient's values are printed."""

    step: Step | None
    status: Status
    reason_matched: tuple[str, ...]
    risk_labels: tuple[str, ...]
    findings: tuple[_Fired, ...]
    regimen: Regimen | None
    monitoring: Monitoring | None
    references: Mapping[str, ReferenceOut]


def _outcome(rules: RuleSet, numbers: Mapping[str, NumberFact],
             lists: Mapping[str, frozenset[str]], singles: Mapping[str, str | None],
             cg_cited: bool) -> _Outcome:
    base = Facts(numbers, {**lists, "risk_factors": frozenset()}, singles)
    risk_labels: list[str] = []
    present: set[str] = set()
    for factor in rules.risk_factors:
        matched: list[str] = []
        if evaluate(factor.when, base, matched) is True:
            present.add(factor.id)
            risk_labels.append(_with_matched(factor.label, matched, rules))
    facts = Facts(numbers, {**lists, "risk_factors": frozenset(present)}, singles)

    step = _decide(rules.steps, facts)
    status = step.status if step else Status.INSUFFICIENT_DATA
    decided = Facts(numbers, facts.lists, {**singles, "status": status.value})
    findings = _findings(rules, decided)
    if step is not None and step.finding not in {f.id for f in findings}:
        rule = rules.findings[step.finding]
        findings.append(_Fired(rule.id, rule.severity, rule.message, (), (), rule.cite))
    if step is not None and step.severity is not None:
        # A step may escalate its finding: "Mg unknown" is a warning, but critical when urgent.
        findings = [replace(f, severity=step.severity) if f.id == step.finding
                    else f for f in findings]
    findings.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
    fired = {f.id for f in findings}

    regimen = choose_regimen(rules.regimen, status=status, fired=fired)
    monitoring = _monitoring(rules, decided) if status.gives_regimen else None
    cited = [c for f in findings for c in f.citations]
    if regimen is not None:
        cited += regimen.citations + (regimen.alternative.citations if regimen.alternative
                                      else [])
    if monitoring is not None:
        cited += monitoring.citations
    if cg_cited:
        cited += list(rules.cockcroft_gault.cite)
    return _Outcome(step, status, tuple(_step_matched(step, decided)) if step else (),
                    tuple(risk_labels), tuple(findings), regimen, monitoring,
                    _references(rules, cited))


class DecisionCache:
    """Rule outcomes by decision signature, for assessing many patients (batch).

    The signature holds everything a condition can see: the result of every number comparison
    in the rule set (after the boundary rule), which numbers are known, the vocabulary lists
    and single choices, and whether Cockcroft-Gault is cited. Two patients with the same
    signature get the same outcome from the rules; only the printed values differ.
    """

    def __init__(self, rules: RuleSet, *, limit: int = 4096) -> None:
        self._rules = rules
        self._compares = tuple(rules.compares())
        self._entries: dict[tuple[object, ...], _Outcome] = {}
        self._limit = limit

    def outcome(self, numbers: Mapping[str, NumberFact], lists: Mapping[str, frozenset[str]],
                singles: Mapping[str, str | None], cg_cited: bool) -> _Outcome:
        """The outcome for these facts, computed once per distinct signature."""
        key = (tuple(compare(numbers.get(c.fact), c.op, c.threshold) for c in self._compares),
               frozenset(numbers), tuple(lists.values()), tuple(singles.values()), cg_cited)
        found = self._entries.get(key)
        if found is None:
            if len(self._entries) >= self._limit:  # memory stays bounded on any input
                self._entries.clear()
            found = _outcome(self._rules, numbers, lists, singles, cg_cited)
            self._entries[key] = found
        return found


def _decide(steps: tuple[Step, ...], facts: Facts) -> Step | None:
    for step in steps:
        if evaluate(step.when, facts) is True:
            return step
    return None


def _step_matched(step: Step, facts: Facts) -> list[str]:
    matched: list[str] = []
    evaluate(step.when, facts, matched)
    return matched


def _findings(rules: RuleSet, facts: Facts) -> list[_Fired]:
    out = []
    for rule in rules.findings.values():
        matched: list[str] = []
        if evaluate(rule.when, facts, matched) is not True:
            continue
        details = []
        cites = list(rule.cite)
        for detail in rule.details:
            detail_matched: list[str] = []
            if detail.when is None or evaluate(detail.when, facts, detail_matched) is True:
                details.append((detail.text, tuple(detail_matched)))
                cites += [c for c in detail.cite if c not in cites]
        out.append(_Fired(rule.id, rule.severity, rule.message, tuple(matched), tuple(details),
                          tuple(cites)))
    return out


def _monitoring(rules: RuleSet, facts: Facts) -> Monitoring:
    plan = rules.monitoring
    because = []
    for reason in plan.reasons:
        matched: list[str] = []
        if evaluate(reason.when, facts, matched) is True:
            because.append(_with_matched(reason.label, matched, rules))
    cites = [c for _, item_cites in plan.schedule for c in item_cites]
    return Monitoring(schedule=[text for text, _ in plan.schedule], more_often_because=because,
                      more_often_text=plan.more_often_text,
                      citations=list(dict.fromkeys([*cites, *plan.more_often_cite])),
                      basis_notes=list(plan.schedule_basis))


def _renal(patient: Patient, rules: RuleSet) -> Renal:
    params = rules.cockcroft_gault
    missing = tuple(name for name in _CG_INPUTS if getattr(patient, name) is None)
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
    if patient.crcl is not None:
        crcl = _fact(patient.crcl, rules, "crcl")
        discrepancy = None
        if estimate is not None:
            smaller = min(estimate.ml_min, patient.crcl.canonical)
            if smaller > 0:
                discrepancy = abs(estimate.ml_min - patient.crcl.canonical) / smaller * 100
        return Renal(crcl, CrclMethod.REPORTED, estimate, discrepancy, missing)
    if estimate is not None:
        text = f"{estimate.ml_min:.{params.result_decimals}f} mL/min (Cockcroft-Gault)"
        return Renal(NumberFact(estimate.ml_min, text), CrclMethod.COCKCROFT_GAULT, estimate,
                      None, missing)
    return Renal(None, None, None, None, missing)


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
    return numbers


def _fact(value: Measured, rules: RuleSet, name: str) -> NumberFact:
    rule = rules.quantities[name]
    table = rule.table
    shown = f"{value.number} {rule.shown_as}" if rule.shown_as else value.entered
    decimals = table.decimals[table.canonical]
    if value.unit != table.canonical:
        shown += f" ({value.canonical:.{decimals}f} {table.canonical})"
    if rule.compare_in_canonical:
        as_printed = Decimal(repr(value.canonical)).quantize(Decimal(1).scaleb(-decimals),
                                                             rounding=ROUND_HALF_UP)
        return NumberFact(value.canonical, shown, table.canonical, as_printed)
    return NumberFact(value.canonical, shown, value.unit, value.number)


class _Texts:
    """Fills the placeholders of rule texts for one patient."""

    def __init__(self, rules: RuleSet, numbers: Mapping[str, NumberFact], renal: Renal,
                 risk_labels: Sequence[str]) -> None:
        self.rules = rules
        self.values = {name: fact.text for name, fact in numbers.items()}
        if renal.crcl is not None:
            self.values["crcl_reported"] = renal.crcl.text
        if renal.estimate is not None:
            self.values["crcl_derived"] = f"{renal.estimate.ml_min} mL/min"
        self.values["risk_factors"] = "; ".join(risk_labels)

    def render(self, text: str, matched: Sequence[str]) -> str:
        labels = [self.rules.vocabulary.label_of(item) for item in dict.fromkeys(matched)]

        def fill(m: re.Match[str]) -> str:
            name = m[1]
            if name == "matched":
                return ", ".join(labels) or "none"
            if name in self.values:
                return self.values[name]
            if name in self.rules.thresholds:
                return self.rules.thresholds[name].text
            return "not given"
        return _PLACEHOLDER.sub(fill, text)



def _with_matched(label: str, matched: list[str], rules: RuleSet) -> str:
    names = [rules.vocabulary.label_of(m) for m in dict.fromkeys(matched)]
    return f"{label} ({', '.join(names)})" if names and names != [label] else label


def _derived(patient: Patient, renal: Renal) -> Derived:
    def canonical(value: Measured | None) -> float | None:
        return None if value is None else round(value.canonical, 4)
    estimate = renal.estimate
    notes = list(estimate.notes) if estimate else []
    if renal.method is None:
        notes.append("creatinine clearance unknown: Cockcroft-Gault needs creatinine, age, sex "
                     f"and weight (missing: {', '.join(renal.missing) or 'adult age'})")
    return Derived(
        mg_mmol_l=canonical(patient.mg),
        k_mmol_l=canonical(patient.k),
        ca_mmol_l=canonical(patient.ca),
        creatinine_mg_dl=canonical(patient.creatinine),
        crcl_ml_min=None if renal.crcl is None else round(renal.crcl.canonical, 2),
        crcl_method=renal.method,
        crcl_weight_basis=None if estimate is None else estimate.weight_basis,
        bmi=None if estimate is None or estimate.bmi is None else round(estimate.bmi, 1),
        age_years=canonical(patient.age),
        weight_kg=canonical(patient.weight),
        height_cm=canonical(patient.height),
        ideal_body_weight_kg=None if estimate is None or estimate.ideal_kg is None
        else round(estimate.ideal_kg, 1),
        crcl_weight_kg=None if estimate is None else round(estimate.weight_kg, 1),
        crcl_cockcroft_gault_ml_min=None if estimate is None else estimate.ml_min,
        current_dose_mmol_per_day=canonical(patient.current_dose),
        notes=notes,
    )


def _references(rules: RuleSet, cited: list[str]) -> dict[str, ReferenceOut]:
    out = {}
    for number, rid in enumerate(dict.fromkeys(cited), start=1):
        ref = rules.references[rid]
        out[rid] = ReferenceOut(number=number, citation=" ".join(ref.citation.split()),
                                doi=ref.doi, pmid=ref.pmid, pmcid=ref.pmcid, url=ref.url,
                                caveat=ref.caveat)
    return out
