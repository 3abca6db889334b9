"""Run test vignettes against a rule set, and measure what they exercise. Pure: no I/O.

    run_case(vignette, rules) -> CaseResult        # pass/fail with the differences
    coverage(results, rules) -> Coverage           # rules exercised, thresholds at their boundary

A rule is *exercised* by a case when it fires there: a step sets the status, a finding is
reported, a conditional detail is shown, a risk factor is present, a reason to monitor more
often applies, a regimen dose basis is chosen. A threshold's *boundary* is exercised by a case
whose value, as compared (after the boundary rule), equals the threshold exactly; the cases
below and above it are counted too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from mgassist._core.assessment import Assessment
from mgassist._core.conditions import operands
from mgassist._core.contract import DoseBasis
from mgassist._core.engine import patient_facts
from mgassist._core.errors import InputErrors
from mgassist._core.patient import parse_patient
from mgassist._core.ruleset import RuleSet
from mgassist._core.trace import assess_and_trace, detail_id, monitoring_item_id

from .vignettes import Vignette

__all__ = ["CaseResult", "Coverage", "CoverageItem", "Difference", "ThresholdBoundary",
           "coverage", "run_case"]


@dataclass(frozen=True)
class Difference:
    """One expectation not met: what, as expected, as got."""

    what: str
    expected: str
    got: str


@dataclass(frozen=True)
class CaseResult:
    """A case's outcome: its differences (none: passed), or the patient's input errors."""

    vignette: Vignette
    differences: tuple[Difference, ...] = ()
    input_errors: tuple[str, ...] = ()
    fired: frozenset[tuple[str, str]] = frozenset()
    sides: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every expectation was met."""
        return not self.differences and not self.input_errors


def run_case(vignette: Vignette, rules: RuleSet) -> CaseResult:
    """Assess the vignette's patient and compare with what it expects."""
    try:
        patient = parse_patient(vignette.patient, rules)
    except InputErrors as exc:
        return CaseResult(vignette, input_errors=tuple(str(e) for e in exc.errors))
    if vignette.lab_flags:
        patient = msgspec.structs.replace(patient, lab_flags=vignette.lab_flags)
    assessment, entries = assess_and_trace(patient, rules)  # one walk, observed
    return CaseResult(vignette, tuple(_differences(vignette, assessment)),
                      fired=frozenset((e.kind, e.id) for e in entries if e.fired),
                      sides=_sides(patient, rules))


def _differences(vignette: Vignette, got: Assessment) -> Iterable[Difference]:
    expect = vignette.expect
    reported = [f.id for f in got.findings]
    listed = ", ".join(reported) or "none"
    if expect.status is not None and got.status is not expect.status:
        yield Difference("status", expect.status.value, got.status.value)
    if expect.decided_by is not None and got.decided_by != expect.decided_by:
        yield Difference("decided_by", expect.decided_by, got.decided_by)
    for fid in expect.findings:
        if fid not in reported:
            yield Difference(f"finding {fid}", "reported", f"not reported (reported: {listed})")
    for fid in expect.not_findings:
        if fid in reported:
            yield Difference(f"finding {fid}", "not reported", "reported")
    if expect.regimen == "none":
        if got.regimen is not None:
            yield Difference("regimen", "none", f"{got.regimen.dose_basis.value} regimen")
    elif isinstance(expect.regimen, Mapping):
        if got.regimen is None:
            yield Difference("regimen", "a regimen", f"none (status {got.status.value})")
            return
        for key, wanted in expect.regimen.items():
            have = getattr(got.regimen, key)
            if not _same(wanted, have):
                yield Difference(f"regimen.{key}", _text(wanted), _text(have))


def _same(wanted: Any, have: Any) -> bool:
    if isinstance(wanted, int | float) and not isinstance(wanted, bool) \
            and isinstance(have, int | float):
        return math.isclose(wanted, have, rel_tol=1e-9, abs_tol=1e-9)
    return bool(wanted == (have.value if hasattr(have, "value") else have))


def _text(value: Any) -> str:
    if value is None:
        return "null"
    return str(value.value if hasattr(value, "value") else value)


def _sides(patient: Any, rules: RuleSet) -> dict[str, frozenset[str]]:
    """For each threshold compared, which sides of it this patient's values fall on."""
    _, numbers, _, _ = patient_facts(patient, rules)
    sides: dict[str, set[str]] = {}
    for compare in rules.compares():
        value = numbers.get(compare.fact)
        if value is None:
            continue
        left, right, _ = operands(value, compare.threshold)
        side = "below" if left < right else "at" if left == right else "above"
        sides.setdefault(compare.threshold.id, set()).add(side)
    return {tid: frozenset(s) for tid, s in sides.items()}


@dataclass(frozen=True)
class CoverageItem:
    """A rule and the number of cases in which it fired."""

    kind: str
    id: str
    cases: int


@dataclass(frozen=True)
class ThresholdBoundary:
    """A threshold and the number of cases below, exactly at, and above it (as compared)."""

    id: str
    text: str
    below: int
    at: int
    above: int
    below_possible: bool = True  # False when no accepted value lies below (e.g. a dose of 0)
    above_possible: bool = True

    @property
    def missing(self) -> list[str]:
        """The sides (below, at, above) no case covers, of those a value can be on."""
        return [side for side, n, possible in (("below", self.below, self.below_possible),
                                               ("at", self.at, True),
                                               ("above", self.above, self.above_possible))
                if possible and n == 0]


@dataclass(frozen=True)
class Coverage:
    """What a set of cases exercised; ``uncovered`` lists what none did."""

    rules: tuple[CoverageItem, ...]
    boundaries: tuple[ThresholdBoundary, ...]

    @property
    def uncovered(self) -> list[str]:
        """Rules never fired and thresholds without a case exactly at them and on each side."""
        out = [f"{item.kind} {item.id}" for item in self.rules if item.cases == 0]
        for b in self.boundaries:
            if b.missing:
                out.append(f"threshold {b.id}: no case {' / '.join(b.missing)} it")
        return out


def coverage(results: Sequence[CaseResult], rules: RuleSet) -> Coverage:
    """How many cases exercised each rule, and each threshold's boundary."""
    counts: dict[tuple[str, str], int] = {}
    for result in results:
        for key in result.fired:
            counts[key] = counts.get(key, 0) + 1
    items = [CoverageItem(kind, rid, counts.get((kind, rid), 0))
             for kind, rid in _rule_keys(rules)]
    boundaries: list[ThresholdBoundary] = []
    for compare in rules.compares():
        tid = compare.threshold.id
        if any(b.id == tid for b in boundaries):
            continue
        sides = [r.sides.get(tid, frozenset()) for r in results]
        quantity = rules.quantities.get(compare.fact)  # None: crcl_discrepancy (0 up)
        low = quantity.minimum if quantity else 0.0
        high = quantity.maximum if quantity else float("inf")
        boundaries.append(ThresholdBoundary(
            tid, compare.threshold.text, sum("below" in s for s in sides),
            sum("at" in s for s in sides), sum("above" in s for s in sides),
            below_possible=compare.threshold.canonical > low,
            above_possible=compare.threshold.canonical < high))
    return Coverage(tuple(items), tuple(sorted(boundaries, key=lambda b: b.id)))


def _rule_keys(rules: RuleSet) -> list[tuple[str, str]]:
    """Every rule that can fire, as (kind, id) the way the trace names them."""
    keys = [("step", step.id) for step in rules.steps]
    keys += [("finding", rule.id) for rule in rules.findings.values()]
    keys += [("detail", detail_id(rule.id, i)) for rule in rules.findings.values()
             for i, detail in enumerate(rule.details) if detail.when is not None]
    keys += [("risk-factor", factor.id) for factor in rules.risk_factors]
    keys += [("regimen", basis.value) for basis in DoseBasis]
    keys += [("monitoring-reason", reason.label) for reason in rules.monitoring.reasons]
    keys += [("monitoring-item", monitoring_item_id(i))
             for i, item in enumerate(rules.monitoring.schedule) if item.when is not None]
    return keys

