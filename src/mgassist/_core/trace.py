"""The trace behind an assessment (``--explain``): every rule in evaluation order, fired or
not, and why. Computed only when asked, so an assessment without ``--explain`` pays nothing.

    assess_and_trace(patient, rules) -> (Assessment, tuple[RuleTrace, ...])
    trace(patient, rules) -> tuple[RuleTrace, ...]

The trace is an observer of the one decision walk (``walk.decide``): the walk reports each rule
as it meets it, and ``_Recorder`` writes it down with its condition broken down node by node
(each node's result computed by the engine's own ``evaluate``). There is no second walk, so the
trace cannot order or decide anything differently from the assessment it explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .assessment import _SCHEMA_CONFIG, Assessment
from .conditions import (
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
from .engine import evaluate_patient
from .patient import Patient
from .ruleset import RuleSet
from .walk import Kind, WalkEvent, detail_id, monitoring_item_id

__all__ = ["ConditionTrace", "RuleTrace", "assess_and_trace", "detail_id", "monitoring_item_id",
           "plain_number", "trace"]

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


def trace(patient: Patient, rules: RuleSet) -> tuple[RuleTrace, ...]:
    """Every rule in evaluation order, with its result and why."""
    return assess_and_trace(patient, rules)[1]


def assess_and_trace(patient: Patient, rules: RuleSet) -> tuple[Assessment,
                                                                 tuple[RuleTrace, ...]]:
    """The assessment and its trace, from one walk of the rules."""
    recorder = _Recorder(rules)
    assessment = evaluate_patient(patient, rules, observer=recorder)
    return assessment, tuple(recorder.entries)


class _Recorder:
    """The observer that writes the trace: each event of the walk becomes a RuleTrace, with the
    condition it evaluated broken down node by node."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.entries: list[RuleTrace] = []

    def __call__(self, event: WalkEvent) -> None:
        shown = None if event.when is None or event.facts is None else \
            _condition(event.when, event.facts, self.rules)
        self.entries.append(RuleTrace(
            order=len(self.entries) + 1, kind=event.kind, id=event.id,
            evaluated=shown is not None or event.evaluated,
            result=shown.result if shown is not None else event.result,
            fired=event.fired, effect=event.effect, condition=shown))


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

