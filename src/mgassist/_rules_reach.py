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

Only pairs of steps are compared (not a step against several earlier ones together). A search
larger than MAX_POINTS combinations (or naming more than MAX_LIST_ITEMS items of one list) is
skipped, and so is every search once the whole rule set has used SEARCH_BUDGET combinations
(the bundled rules use about 27,000), so that validating a large rule set stays quick: "where
detectable". The skipped searches are counted and reported. A rule reported here truly cannot
fire for any patient; one not reported may still be unreachable in a subtler way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ._conditions import (
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
from ._ruleset import RuleSet
from ._trace import detail_id

__all__ = ["MAX_POINTS", "SEARCH_BUDGET", "Reach", "Rule", "Unreachable", "never_fire"]

MAX_POINTS = 50_000  # combinations of one search
SEARCH_BUDGET = 100_000  # combinations of all the searches of a rule set: about 2 s at most
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

    def points(self, conds: Sequence[Condition]) -> Iterator[Facts] | None:
        """The representative facts of ``conds``, paid from the budget; None (and the rule
        counted as skipped, once) when there are too many."""
        found = _points(conds)
        if found is None or found[0] > self.left:
            if self.rule is not None and self.skipped[-1:] != [self.rule]:  # rules in order
                self.skipped.append(self.rule)
            return None
        self.left -= found[0]
        return found[1]

    def never_true(self, conds: Sequence[Condition]) -> bool:
        """True when the search proves that ``all(conds)`` is never true (False if skipped)."""
        both = All(tuple(conds))
        points = self.points(conds)
        if points is None:
            return False
        return not any(evaluate(both, facts) is True for facts in points)

    def implies(self, cond: Condition, other: Condition) -> bool:
        """True when the search proves ``other`` is true wherever ``cond`` is (False if
        skipped)."""
        points = self.points([cond, other])
        if points is None:
            return False
        return all(evaluate(other, facts) is True for facts in points
                   if evaluate(cond, facts) is True)


def _points(conds: Sequence[Condition]) -> tuple[int, Iterator[Facts]] | None:
    """How many representative facts ``conds`` need, and those facts one by one; None when
    there would be more than MAX_POINTS."""
    limits: dict[str, set[float]] = {}
    known: set[str] = set()
    items: dict[str, set[str]] = {}
    choices: dict[str, set[str]] = {}
    for node in (n for c in conds for n in nodes(c)):
        if isinstance(node, Compare):
            limits.setdefault(node.fact, set()).add(node.threshold.canonical)
        elif isinstance(node, Known):
            known.add(node.fact)
        elif isinstance(node, SomeOf):
            items.setdefault(node.fact, set()).update(node.ids)
        elif isinstance(node, In):
            choices.setdefault(node.fact, set()).update(node.ids)
        elif isinstance(node, Empty):  # a list with an item no test names
            items.setdefault(node.fact, set()).add("(another)")
    axes: list[tuple[str, str, list[object]]] = []
    for fact in sorted(limits.keys() | known):
        axes.append(("number", fact, [None, *_values(sorted(limits.get(fact, set())))]))
    for fact in sorted(items):
        if len(items[fact]) > MAX_LIST_ITEMS:
            return None
        ids = sorted(items[fact])
        axes.append(("list", fact, [frozenset(c) for r in range(len(ids) + 1)
                                    for c in itertools.combinations(ids, r)]))
    for fact in sorted(choices):
        axes.append(("single", fact, [None, *sorted(choices[fact]), "(another)"]))
    size = 1
    for axis in axes:
        size *= len(axis[2])
    if size > MAX_POINTS:
        return None
    return size, _combinations(axes)


def _combinations(axes: list[tuple[str, str, list[object]]]) -> Iterator[Facts]:
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

