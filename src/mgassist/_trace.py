"""The trace behind an assessment (``--explain``): every rule in evaluation order, fired or
not, and why. Pure, like the engine, and computed only when asked, so an assessment without
``--explain`` pays nothing for it.

    trace(patient, rules) -> tuple[RuleTrace, ...]

It walks the rules in the engine's order (risk factors, decision steps, findings and their
details, regimen, monitoring reasons) over the same facts (``_engine.patient_facts``). Every
result in it, of a rule or of any part of a condition, is computed by the engine's own
``evaluate`` on that node, so the trace cannot disagree with the decision; tests check that it
names the step and the findings of the assessment for generated patients.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ._assessment import _SCHEMA_CONFIG, Regimen
from ._conditions import (
    All,
    Any_,
    Compare,
    Condition,
    Empty,
    Facts,
    In,
    Is,
    Known,
    Not,
    NumberFact,
    SomeOf,
    Threshold,
    evaluate,
    operands,
    test_text,
)
from ._contract import Status
from ._engine import patient_facts
from ._patient import Patient
from ._regimen import choose_regimen
from ._ruleset import RuleSet, Step

__all__ = ["ConditionTrace", "RuleTrace", "detail_id", "monitoring_item_id", "plain_number",
           "trace"]

Kind = Literal["risk-factor", "step", "finding", "detail", "regimen", "monitoring-reason",
               "monitoring-item"]
_SYMBOL = {"below": "<", "at_or_below": "<=", "above": ">", "at_or_above": ">="}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionTrace:
    """One node of a condition: what it tests, the patient's value, and its result.

    ``result`` is true, false or null (unknown: a value the test needs was not given). For a
    comparison, ``value`` is the patient's value as shown in the report (as entered, with the
    canonical value in brackets when the unit differs), ``canonical`` and ``canonical_unit``
    the value used, ``threshold`` the limit, and ``compared`` the comparison as made (in the
    unit entered, rounded as printed, when the boundary rule applies).
    """

    test: str
    result: bool | None
    value: str | None = None
    canonical: float | None = None
    canonical_unit: str | None = None
    threshold: str | None = None
    compared: str | None = None
    parts: tuple[ConditionTrace, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleTrace:
    """One rule of the rule set, in evaluation order: whether it was evaluated, its result,
    whether it ``fired`` (a step set the status, a finding or detail was reported, a risk
    factor or a reason to monitor applies, a regimen was given), and what that did
    (``effect``); ``condition`` is null when the rule was not evaluated."""

    __pydantic_config__ = _SCHEMA_CONFIG

    order: int
    kind: Kind
    id: str
    evaluated: bool
    result: bool | None
    fired: bool
    effect: str
    condition: ConditionTrace | None = None


def detail_id(finding_id: str, index: int) -> str:
    """How a finding's detail is named in the trace and in coverage: ``id.details[N]``."""
    return f"{finding_id}.details[{index}]"


def trace(patient: Patient, rules: RuleSet) -> tuple[RuleTrace, ...]:
    """Every rule in evaluation order, with its result and why."""
    _, numbers, lists, singles = patient_facts(patient, rules)
    out: list[RuleTrace] = []

    def add(kind: Kind, rid: str, fired: bool, effect: str, cond: Condition | None = None,
            facts: Facts | None = None) -> None:
        result = None if cond is None or facts is None else evaluate(cond, facts)
        shown = None if cond is None or facts is None else _condition(cond, facts, rules)
        out.append(RuleTrace(order=len(out) + 1, kind=kind, id=rid,
                             evaluated=shown is not None, result=result, fired=fired,
                             effect=effect, condition=shown))

    base = Facts(numbers, {**lists, "risk_factors": frozenset()}, singles)
    present = frozenset(f.id for f in rules.risk_factors if evaluate(f.when, base) is True)
    for factor in rules.risk_factors:
        add("risk-factor", factor.id, factor.id in present,
            "present: listed by {risk_factors}" if factor.id in present else "not present",
            factor.when, base)

    facts = Facts(numbers, {**lists, "risk_factors": present}, singles)
    decided_by = None
    for step in rules.steps:
        if decided_by is not None:
            add("step", step.id, False, f"not consulted: step {decided_by.id} set the status first")
            continue
        if evaluate(step.when, facts) is True:
            decided_by = step
            add("step", step.id, True, f"set the status: {step.status.value} (the first true step)",
                step.when, facts)
        else:
            add("step", step.id, False, "not true: the next step is consulted", step.when, facts)
    status = decided_by.status if decided_by else Status.INSUFFICIENT_DATA
    if decided_by is None:
        out.append(RuleTrace(order=len(out) + 1, kind="step", id="none", evaluated=False,
                             result=None, fired=True,
                             effect="no step was true: status insufficient-data (a gap in the "
                             "rule set)"))

    decided = Facts(numbers, facts.lists, {**singles, "status": status.value})
    fired: set[str] = set()
    for rule in rules.findings.values():
        true = evaluate(rule.when, decided) is True
        severity = rule.severity.value
        if decided_by is not None and decided_by.finding == rule.id:
            severity = (decided_by.severity or rule.severity).value
            effect = (f"reported ({severity})" if true else
                      f"reported ({severity}) because step {decided_by.id} set the status, "
                      "though its own condition is not true")
            true = True
        else:
            effect = f"reported ({severity})" if true else "not reported"
        if true:
            fired.add(rule.id)
        add("finding", rule.id, true, effect, rule.when, decided)
        for index, detail in enumerate(rule.details):
            did = detail_id(rule.id, index)
            if not true:
                add("detail", did, False, "not evaluated: its finding is not reported")
            elif detail.when is None:
                add("detail", did, True, "shown (no condition of its own)")
            else:
                shows = evaluate(detail.when, decided) is True
                add("detail", did, shows, "shown" if shows else "not shown", detail.when,
                    decided)

    regimen = choose_regimen(rules.regimen, status=status,
                             step=decided_by.id if decided_by else None, fired=fired)
    out.append(RuleTrace(order=len(out) + 1, kind="regimen",
                         id=regimen.dose_basis.value if regimen else "none", evaluated=True,
                         result=regimen is not None, fired=regimen is not None,
                         effect=_regimen_effect(status, decided_by, regimen)))
    for index, item in enumerate(rules.monitoring.schedule):
        if item.when is None:
            continue
        iid = monitoring_item_id(index)
        if status.gives_monitoring:
            shown = evaluate(item.when, decided) is True
            add("monitoring-item", iid, shown, "shown" if shown else "not shown", item.when,
                decided)
        else:
            add("monitoring-item", iid, False,
                f"not evaluated: status {status.value} gives no monitoring plan")
    for reason in rules.monitoring.reasons:
        if status.gives_monitoring:
            applies = evaluate(reason.when, decided) is True
            add("monitoring-reason", reason.label, applies,
                "monitor more often" if applies else "not a reason here", reason.when, decided)
        else:
            add("monitoring-reason", reason.label, False,
                f"not evaluated: status {status.value} gives no monitoring plan")
    return tuple(out)


def monitoring_item_id(index: int) -> str:
    """How a conditional line of the monitoring schedule is named in the trace and coverage."""
    return f"schedule[{index}]"


def _regimen_effect(status: Status, step: Step | None, regimen: Regimen | None) -> str:
    if regimen is None or step is None:
        return f"no regimen: status {status.value} does not give one"
    dose = "no dose figure" if regimen.elemental_mmol_per_day is None else \
        f"{regimen.elemental_mmol_per_day:g} mmol/day"
    return (f"step {step.id} decided: its {regimen.dose_basis.value} regimen ({dose}, at most "
            f"{regimen.max_elemental_mmol_per_day:g} mmol/day)")


def _condition(cond: Condition, facts: Facts, rules: RuleSet) -> ConditionTrace:
    result = evaluate(cond, facts)
    test = test_text(cond)
    match cond:
        case Compare(fact, op, threshold):
            return _compare(test, op, threshold, facts.numbers.get(fact), result, rules)
        case Known(fact, _):
            value = facts.numbers.get(fact)
            return ConditionTrace(test=test, result=result,
                                  value=value.text if value else "not given")
        case SomeOf(fact, ids, _):
            have = sorted(facts.lists.get(fact, frozenset()))
            hits = sorted(set(have) & ids)
            return ConditionTrace(test=test, result=result, value=", ".join(have) or "none",
                                  compared=f"in both: {', '.join(hits) or 'none'}")
        case Empty(fact, _):
            have = sorted(facts.lists.get(fact, frozenset()))
            return ConditionTrace(test=test, result=result, value=", ".join(have) or "none")
        case In(fact, _):
            single = facts.singles.get(fact)
            return ConditionTrace(test=test, result=result,
                                  value=single if single is not None else "not given")
        case All(parts) | Any_(parts):
            return ConditionTrace(test=test, result=result,
                                  parts=tuple(_condition(p, facts, rules) for p in parts))
        case Not(part) | Is(_, part):
            return ConditionTrace(test=test, result=result,
                                  parts=(_condition(part, facts, rules),))
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover - closed union


def _compare(test: str, op: str, threshold: Threshold, value: NumberFact | None,
             result: bool | None, rules: RuleSet) -> ConditionTrace:
    unit = _canonical_unit(threshold.fact, rules)
    limit = f"{threshold.text}" if threshold.id == threshold.text else \
        f"{threshold.id} = {threshold.text}"
    if value is None:
        return ConditionTrace(test=test, result=result, value="not given", threshold=limit,
                              compared="unknown: the value was not given")
    left, right, entered_unit = operands(value, threshold)
    if entered_unit is None:
        compared = f"{plain_number(left)} {_SYMBOL[op]} {plain_number(right)} {unit}"
    else:
        compared = (f"{plain_number(left)} {_SYMBOL[op]} {plain_number(right)} {entered_unit}, "
                    "as printed (boundary rule)")
    return ConditionTrace(test=test, result=result, value=value.text,
                          canonical=round(value.canonical, 4), canonical_unit=unit,
                          threshold=limit, compared=compared)


def _canonical_unit(fact: str, rules: RuleSet) -> str:
    quantity = rules.quantities.get(fact)
    if quantity is None:
        return "%"  # crcl_discrepancy, the one derived number that is not a quantity
    return quantity.shown_as or quantity.table.canonical


def plain_number(x: Decimal | float) -> str:
    """A number as compared: a Decimal as printed, a float with at most 4 decimals."""
    if isinstance(x, Decimal):
        return str(x)
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return text or "0"

