"""Rules that can never fire, found by exhaustive search over representative patients. Pure.

    never_fire(rules) -> list[Unreachable]

Conditions only compare numbers with thresholds, test list membership and single choices, so a
condition's result depends only on which interval between thresholds each number falls in. For
the facts a few conditions mention, the search takes one value in every interval and at every
threshold (and "not given"), every combination of the list items they name, and each choice
they name (plus another, plus none), and evaluates the
conditions with the engine's own ``evaluate`` on every combination. It reports:

* a step, finding, detail, risk factor or monitoring reason whose condition is never true;
* a step that is true only where an earlier step is also true (the earlier one always decides);
* a finding's detail whose condition contradicts its finding's.

Only pairs of steps are compared (not a step against several earlier ones together). Each
combination evaluated is paid from a budget: a search that evaluates more than MAX_POINTS
combinations (or names more than MAX_LIST_ITEMS items of one list) is abandoned, and so is
every search once the whole rule set has evaluated SEARCH_BUDGET combinations, so that
validating a large rule set stays quick: "where detectable". Most searches end early (the
first counterexample settles them), so only what is evaluated is paid for. The abandoned
searches are counted and reported. A rule reported here truly cannot
fire for any patient; one not reported may still be unreachable in a subtler way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mgassist._core.conditions import (
    SINGLE_FACTS,
    All,
    Compare,
    Condition,
    Empty,
    Facts,
    In,
    Known,
    NumberFact,
    SomeOf,
    evaluate,
    nodes,
)
from mgassist._core.ruleset import RuleSet
from mgassist._core.trace import detail_id

__all__ = ["MAX_POINTS", "SEARCH_BUDGET", "Reach", "Rule", "Unreachable", "never_fire"]

MAX_POINTS = 50_000  # combinations evaluated by one search
SEARCH_BUDGET = 250_000  # combinations evaluated by all the searches of a rule set: ~3 s at most
MAX_LIST_ITEMS = 12  # every combination of up to this many items; more: skipped


@dataclass(frozen=True)
class Rule:
    """Which rule: its kind, its id, and its path in its YAML section."""

    kind: str
    id: str
    section: str
    where: tuple[str | int, ...]


@dataclass(frozen=True)
class Unreachable:
    """A rule that can never fire, and why."""

    rule: Rule
    message: str


@dataclass(frozen=True)
class Reach:
    """What the search found: rules that can never fire, and rules it could not search (too
    many combinations, or the budget was spent)."""

    unreachable: list[Unreachable]
    skipped: list[Rule]


def never_fire(rules: RuleSet, *, budget: int | None = None) -> Reach:
    """Every rule the search proves can never fire, within ``budget`` combinations in all
    (default SEARCH_BUDGET)."""
    search = _Search(SEARCH_BUDGET if budget is None else budget)
    out: list[Unreachable] = []
    for i, step in enumerate(rules.steps):
        search.rule = Rule("step", step.id, "steps", (i,))
        if search.never_true([step.when]):
            out.append(Unreachable(search.rule, f"step {step.id} can never fire: its condition "
                                                "is never true"))
            continue
        for earlier in rules.steps[:i]:
            if search.implies(step.when, earlier.when):
                out.append(Unreachable(
                    search.rule,
                    f"step {step.id} can never set the status: whenever its condition is "
                    f"true, the earlier step {earlier.id} is true too and decides first"))
                break
    for fid, rule in rules.findings.items():
        search.rule = Rule("finding", fid, "findings", (fid,))
        if search.never_true([rule.when]):
            out.append(Unreachable(search.rule, f"finding {fid} can never be reported: its "
                                                "condition is never true"))
            continue
        for d, detail in enumerate(rule.details):
            search.rule = Rule("detail", detail_id(fid, d), "findings", (fid, "details", d))
            if detail.when is not None and search.never_true([rule.when, detail.when]):
                out.append(Unreachable(
                    search.rule, f"detail {d} of finding {fid} can never be shown: its "
                                 "condition contradicts the finding's"))
    for r, factor in enumerate(rules.risk_factors):
        search.rule = Rule("risk-factor", factor.id, "risk_factors", (r,))
        if search.never_true([factor.when]):
            out.append(Unreachable(search.rule, f"risk factor {factor.id} can never be "
                                                "present: its condition is never true"))
    for m, reason in enumerate(rules.monitoring.reasons):
        search.rule = Rule("monitoring-reason", reason.label, "monitoring",
                           ("more_often", "reasons", m))
        if search.never_true([reason.when]):
            out.append(Unreachable(search.rule, f"monitoring reason {reason.label!r} can never "
                                                "apply: its condition is never true"))
    return Reach(out, search.skipped)


class _Search:
    """The searches of one rule set, sharing one budget of combinations."""

    def __init__(self, budget: int) -> None:
        self.left = budget
        self.skipped: list[Rule] = []
        self.rule: Rule | None = None  # the rule being searched, reported if skipped
        self.made = 0  # combinations made by the current search

    def paid(self, facts: Iterator[Facts]) -> Iterator[Facts]:
        """``facts``, each paid from the budget as it is made; raises _Exhausted when this
        search (MAX_POINTS) or the rule set's budget runs out."""
        while True:
            if self.made >= MAX_POINTS or self.left <= 0:  # before making one more
                raise _Exhausted
            one = next(facts, None)
            if one is None:
                return
            self.made += 1
            self.left -= 1
            yield one

    def _abandon(self) -> bool:
        if self.rule is not None and self.skipped[-1:] != [self.rule]:  # rules in order
            self.skipped.append(self.rule)
        return False

    def never_true(self, conds: Sequence[Condition]) -> bool:
        """True when the search proves that ``all(conds)`` is never true (False if abandoned)."""
        both = All(tuple(conds))
        self.made = 0
        try:
            axes = _axes(conds)
            return not any(evaluate(both, facts) is True
                           for facts in self.paid(_combinations(axes)))
        except _Exhausted:
            return self._abandon()

    def implies(self, cond: Condition, other: Condition) -> bool:
        """True when the search proves ``other`` is true wherever ``cond`` is (False if
        abandoned). The facts ``cond`` reads are enumerated first, and the others only where
        ``cond`` is true, so a rare ``cond`` costs little."""
        self.made = 0
        try:
            axes = _axes([cond, other])
            own = _facts_of(cond)
            outer = [axis for axis in axes if axis[1] in own]
            inner = [axis for axis in axes if axis[1] not in own]
            for first in self.paid(_combinations(outer)):
                if evaluate(cond, first) is not True:
                    continue
                for rest in self.paid(_combinations(inner)):
                    both = Facts({**first.numbers, **rest.numbers}, {**first.lists, **rest.lists},
                                 {**first.singles, **rest.singles})
                    if evaluate(other, both) is not True:
                        return False
            return True
        except _Exhausted:
            return self._abandon()


class _Exhausted(Exception):
    """A search ran out of combinations (its own limit, or the rule set's budget)."""


Axis = tuple[str, str, list[object]]  # (number | list | single, fact, representative values)


def _facts_of(cond: Condition) -> set[str]:
    """Every fact a condition reads."""
    return {node.fact for node in nodes(cond)
            if isinstance(node, Compare | Known | SomeOf | Empty | In)}


def _axes(conds: Sequence[Condition]) -> list[Axis]:
    """For each fact ``conds`` read, its representative values (raises _Exhausted when a list
    names more than MAX_LIST_ITEMS items)."""
    limits: dict[str, set[float]] = {}
    known: set[str] = set()
    items: dict[str, set[str]] = {}
    choices: dict[str, set[str]] = {}
    for node in (n for c in conds for n in nodes(c)):
        if isinstance(node, Compare):
            limits.setdefault(node.fact, set()).add(node.threshold.canonical)
        elif isinstance(node, Known) and node.fact in SINGLE_FACTS:
            choices.setdefault(node.fact, set())  # given (as another choice) or not
        elif isinstance(node, Known):
            known.add(node.fact)
        elif isinstance(node, SomeOf):
            items.setdefault(node.fact, set()).update(node.ids)
        elif isinstance(node, In):
            choices.setdefault(node.fact, set()).update(node.ids)
        elif isinstance(node, Empty):  # a list with an item no test names
            items.setdefault(node.fact, set()).add("(another)")
    axes: list[Axis] = []
    for fact in sorted(limits.keys() | known):
        axes.append(("number", fact, [None, *_values(sorted(limits.get(fact, set())))]))
    for fact in sorted(items):
        if len(items[fact]) > MAX_LIST_ITEMS:
            raise _Exhausted
        ids = sorted(items[fact])
        axes.append(("list", fact, [frozenset(c) for r in range(len(ids) + 1)
                                    for c in itertools.combinations(ids, r)]))
    for fact in sorted(choices):
        axes.append(("single", fact, [None, *sorted(choices[fact]), "(another)"]))
    return axes


def _combinations(axes: list[Axis]) -> Iterator[Facts]:
    for combo in itertools.product(*(axis[2] for axis in axes)):
        numbers: dict[str, NumberFact] = {}
        lists: dict[str, frozenset[str]] = {}
        singles: dict[str, str | None] = {}
        for (kind, fact, _), value in zip(axes, combo, strict=True):
            if kind == "number" and value is not None:
                assert isinstance(value, float)
                numbers[fact] = NumberFact(value, "")
            elif kind == "list":
                assert isinstance(value, frozenset)
                lists[fact] = value
            elif kind == "single":
                singles[fact] = value if isinstance(value, str) else None
        yield Facts(numbers, lists, singles)


def _values(limits: Sequence[float]) -> Iterator[float]:
    """A value below, at, between and above the limits (1.0 when there are none)."""
    if not limits:
        yield 1.0
        return
    yield limits[0] - max(abs(limits[0]), 1.0)
    for low, high in itertools.pairwise(limits):
        yield low
        yield (low + high) / 2
    yield limits[-1]
    yield limits[-1] + max(abs(limits[-1]), 1.0)

