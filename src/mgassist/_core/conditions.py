"""Conditions: the structured little language of ``when:`` in the rules, and its evaluation.

A condition is data (see the grammar at the top of rules/decision.yaml), parsed once when the
rules load into the frozen nodes below, and evaluated with three-valued logic: a comparison with
an unknown value is ``None`` (unknown), ``all``/``any``/``not`` propagate unknown (Kleene), and a
rule fires only on ``True``. So a missing magnesium can never make ``{not: {mg: {below: ...}}}``
fire. Nothing is ever ``eval``-ed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any, Literal

from msgspec import Struct, field

__all__ = [
    "All",
    "Any_",
    "Bound",
    "Compare",
    "Condition",
    "ConditionParser",
    "Empty",
    "Facts",
    "In",
    "Is",
    "Known",
    "Not",
    "LIST_FACTS",
    "OP_WORDS",
    "SINGLE_FACTS",
    "NumberFact",
    "SomeOf",
    "Threshold",
    "compare",
    "compiled",
    "evaluate",
    "nodes",
    "operands",
    "test_text",
]

Op = Literal["below", "at_or_below", "above", "at_or_above"]
_OPS: tuple[Op, ...] = ("below", "at_or_below", "above", "at_or_above")
LIST_FACTS = ("meds", "conditions", "symptoms", "risk_factors", "meds_not_recognised",
              "lab_flags")
SINGLE_FACTS = ("indication", "sex", "status", "crcl_method")


class Threshold(Struct, frozen=True):
    """A limit in canonical units, with its value pre-rounded into each unit labs print."""

    id: str
    fact: str
    canonical: float
    text: str
    in_unit: Mapping[str, Decimal] = field(default_factory=dict)
    meaning: str = ""
    cite: tuple[str, ...] = ()


Bound = Literal[">", ">=", "<", "<="]


@dataclass(frozen=True, slots=True)
class NumberFact:
    """A number about the patient: canonical value, and the value and unit as entered.

    ``bound``: the value is only known to lie beyond this one, as labs print a normal eGFR
    (``>60``); a comparison is then true or false only when the whole range agrees."""

    canonical: float
    text: str
    unit: str | None = None
    entered: Decimal | None = None
    bound: Bound | None = None


@dataclass(frozen=True)
class Facts:
    """Everything a condition can look at; a missing key is an unknown value. ``predicates``
    remembers each named predicate's result over these facts (with the ids it matched), so a
    predicate that many rules use is evaluated once per patient and phase (keyed by the
    predicate's body, shared by every reference to it; the walk carries the results that do
    not depend on the phase into the next one)."""

    numbers: Mapping[str, NumberFact]
    lists: Mapping[str, frozenset[str]]
    singles: Mapping[str, str | None]
    predicates: dict[int, tuple[bool | None, tuple[str, ...]]] = dataclass_field(
        default_factory=dict, compare=False, repr=False)


class Compare(Struct, frozen=True):
    """``{fact: {op: threshold}}`` - applies the boundary rule when the unit entered is known."""

    fact: str
    op: Op
    threshold: Threshold


class Known(Struct, frozen=True):
    """``{fact: {known: bool}}``: a number, or a single choice (``indication``), given."""

    fact: str
    expected: bool


class SomeOf(Struct, frozen=True):
    """``{list: {any_of: [...]}}`` or, negated, ``{list: {none_of: [...]}}``."""

    fact: str
    ids: frozenset[str]
    negated: bool = False


class Empty(Struct, frozen=True):
    """``{list: {empty: bool}}``."""

    fact: str
    expected: bool


class In(Struct, frozen=True):
    """``{single: {in: [...]}}``."""

    fact: str
    ids: frozenset[str]


class All(Struct, frozen=True):
    """True when every part is true; unknown when none is false and one is unknown."""

    parts: tuple[Condition, ...]


class Any_(Struct, frozen=True):
    """True when one part is true; unknown when none is true and one is unknown."""

    parts: tuple[Condition, ...]


class Not(Struct, frozen=True):
    """Negation; unknown stays unknown."""

    part: Condition


class Is(Struct, frozen=True):
    """A reference to a named predicate (resolved when the rules load)."""

    name: str
    part: Condition


Condition = Compare | Known | SomeOf | Empty | In | All | Any_ | Not | Is


def evaluate(cond: Condition, facts: Facts, matched: list[str] | None = None) -> bool | None:
    """Evaluate ``cond``; append the vocabulary ids that made list tests true to ``matched``."""
    match cond:
        case Compare(fact, op, threshold):
            return compare(facts.numbers.get(fact), op, threshold)
        case Known(fact, expected):
            given = fact in facts.numbers or facts.singles.get(fact) is not None
            return given == expected
        case SomeOf(fact, ids, negated):
            hits = facts.lists.get(fact, frozenset()) & ids
            if matched is not None and hits and not negated:
                matched.extend(sorted(hits))
            return (not hits) if negated else bool(hits)
        case Empty(fact, expected):
            return (not facts.lists.get(fact)) == expected
        case In(fact, ids):
            value = facts.singles.get(fact)
            return None if value is None else value in ids
        case All(parts):
            result: bool | None = True
            for part in parts:
                outcome = evaluate(part, facts, matched)
                if outcome is False:
                    return False
                if outcome is None:
                    result = None
            return result
        case Any_(parts):
            any_result: bool | None = False
            for part in parts:
                outcome = evaluate(part, facts, matched)
                if outcome is True:
                    any_result = True
                elif outcome is None and any_result is False:
                    any_result = None
            return any_result
        case Not(part):
            outcome = evaluate(part, facts, None)
            return None if outcome is None else not outcome
        case Is(_, part):
            # keyed by the predicate's body, which every reference to it shares (not by its
            # name: facts never outlive the rules they are used with)
            known = facts.predicates.get(id(part))
            if known is None:
                found: list[str] = []
                known = evaluate(part, facts, found), tuple(found)
                facts.predicates[id(part)] = known
            if matched is not None:
                matched.extend(known[1])
            return known[0]
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover - closed union


Evaluator = Callable[[Facts, "list[str] | None"], "bool | None"]
_OPERATOR: Mapping[Op, Callable[[Any, Any], bool]] = {
    "below": operator.lt, "at_or_below": operator.le, "above": operator.gt,
    "at_or_above": operator.ge}
_COMPILED: dict[int, tuple[Condition, Evaluator]] = {}
_COMPILED_LIMIT = 100_000  # nodes; a cache only, so clearing it is always safe


def compiled(cond: Condition) -> Evaluator:
    """``cond`` compiled once into nested closures that give exactly what ``evaluate`` gives
    (same three-valued logic, same matched ids, same predicate memory), without matching the
    node's type at every use. The walk runs these; ``evaluate`` stays the reference (the trace
    breaks a condition down node by node with it; tests check both agree)."""
    hit = _COMPILED.get(id(cond))
    if hit is not None and hit[0] is cond:  # the node is kept alive with it: ids never reused
        return hit[1]
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    fn = _compile(cond)
    _COMPILED[id(cond)] = (cond, fn)
    return fn


def _compile(cond: Condition) -> Evaluator:  # noqa: C901 - one case per node type
    match cond:
        case Compare(fact, op, threshold):
            test = _OPERATOR[op]
            in_unit, canonical = threshold.in_unit, threshold.canonical

            def compare_(facts: Facts, matched: list[str] | None) -> bool | None:
                # compare() inlined for a plain value (the common case): same operands
                value = facts.numbers.get(fact)
                if value is None:
                    return None
                if value.bound is not None:
                    return compare(value, op, threshold)
                if value.unit is not None and value.entered is not None:
                    limit = in_unit.get(value.unit)
                    if limit is not None:
                        return test(value.entered, limit)
                return test(value.canonical, canonical)
            return compare_
        case Known(fact, expected):
            def known(facts: Facts, matched: list[str] | None) -> bool | None:
                return (fact in facts.numbers or facts.singles.get(fact) is not None) == expected
            return known
        case SomeOf(fact, ids, negated):
            def some_of(facts: Facts, matched: list[str] | None) -> bool | None:
                hits = facts.lists.get(fact, frozenset()) & ids
                if matched is not None and hits and not negated:
                    matched.extend(sorted(hits))
                return (not hits) if negated else bool(hits)
            return some_of
        case Empty(fact, expected):
            def empty(facts: Facts, matched: list[str] | None) -> bool | None:
                return (not facts.lists.get(fact)) == expected
            return empty
        case In(fact, ids):
            def in_(facts: Facts, matched: list[str] | None) -> bool | None:
                value = facts.singles.get(fact)
                return None if value is None else value in ids
            return in_
        case All(parts):
            all_parts = tuple(_compile(part) for part in parts)

            def all_(facts: Facts, matched: list[str] | None) -> bool | None:
                result: bool | None = True
                for part in all_parts:
                    outcome = part(facts, matched)
                    if outcome is False:
                        return False
                    if outcome is None:
                        result = None
                return result
            return all_
        case Any_(parts):
            any_parts = tuple(_compile(part) for part in parts)

            def any_(facts: Facts, matched: list[str] | None) -> bool | None:
                result: bool | None = False
                for part in any_parts:
                    outcome = part(facts, matched)
                    if outcome is True:
                        result = True
                    elif outcome is None and result is False:
                        result = None
                return result
            return any_
        case Not(part):
            inner = _compile(part)

            def not_(facts: Facts, matched: list[str] | None) -> bool | None:
                outcome = inner(facts, None)
                return None if outcome is None else not outcome
            return not_
        case Is(_, part):
            named = _compile(part)
            key = id(part)  # as evaluate(): one memory per predicate, however many references

            def is_(facts: Facts, matched: list[str] | None) -> bool | None:
                known = facts.predicates.get(key)
                if known is None:
                    found: list[str] = []
                    known = named(facts, found), tuple(found)
                    facts.predicates[key] = known
                if matched is not None:
                    matched.extend(known[1])
                return known[0]
            return is_
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover - closed union


OP_WORDS: Mapping[str, str] = {"below": "below", "at_or_below": "at or below",
                                "above": "above", "at_or_above": "at or above"}


def test_text(cond: Condition) -> str:
    """What one node tests, in words (``mg below mg-lln``, ``meds any of [ppi]``, ``is low-mg``,
    ``all of``); the parts of all/any/not/is are not included."""
    match cond:
        case Compare(fact, op, threshold):
            return f"{fact} {OP_WORDS[op]} {threshold.id}"
        case Known(fact, expected):
            return f"{fact} is {'' if expected else 'not '}known"
        case SomeOf(fact, ids, negated):
            return f"{fact} {'none' if negated else 'any'} of [{', '.join(sorted(ids))}]"
        case Empty(fact, expected):
            return f"{fact} is {'' if expected else 'not '}empty"
        case In(fact, ids):
            return f"{fact} in [{', '.join(sorted(ids))}]"
        case All():
            return "all of"
        case Any_():
            return "any of"
        case Not():
            return "not"
        case Is(name, _):
            return f"is {name}"
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover - closed union


def nodes(cond: Condition) -> Iterator[Condition]:
    """``cond`` and every condition inside it, depth first (predicates included)."""
    yield cond
    match cond:
        case All(parts) | Any_(parts):
            for part in parts:
                yield from nodes(part)
        case Not(part) | Is(_, part):
            yield from nodes(part)


def operands(value: NumberFact, threshold: Threshold) -> tuple[Decimal | float,
                                                                Decimal | float, str | None]:
    """``(left, right, unit)`` as compared: with the boundary rule, the value as printed and
    the threshold pre-rounded, both in the unit entered; otherwise both canonical (unit None)."""
    if value.unit is not None and value.entered is not None and value.unit in threshold.in_unit:
        return value.entered, threshold.in_unit[value.unit], value.unit
    return value.canonical, threshold.canonical, None


def compare(value: NumberFact | None, op: Op, threshold: Threshold) -> bool | None:
    """``value op threshold``, with the boundary rule; None when the value is unknown, or is a
    bound whose range lies on both sides of the threshold."""
    if value is None:
        return None
    left, right, _ = operands(value, threshold)
    if value.bound is not None:
        return _bounded(value.bound, left, op, right)
    if op == "below":
        return left < right
    if op == "at_or_below":
        return left <= right
    if op == "above":
        return left > right
    return left >= right


def _bounded(bound: Bound, edge: Decimal | float, op: Op, limit: Decimal | float) -> bool | None:
    """``x op limit`` for every x beyond ``edge`` (every x > edge for ``>``...): True when it
    holds for all of them, False when for none, None (unknown) when for some only."""
    open_ = bound in (">", "<")  # the edge itself is not in the range
    if bound in (">", ">="):  # [edge or (edge, infinity): large x always exist
        if op == "below":
            return False if edge >= limit else None
        if op == "at_or_below":
            return False if edge > limit or (edge == limit and open_) else None
        if op == "above":
            return True if edge > limit or (edge == limit and open_) else None
        return True if edge >= limit else None
    # (-infinity, edge] or (-infinity, edge): small x always exist
    if op == "below":
        return True if edge < limit or (edge == limit and open_) else None
    if op == "at_or_below":
        return True if edge <= limit else None
    if op == "above":
        return False if edge <= limit else None
    return False if edge < limit or (edge == limit and open_) else None


Fail = Callable[[tuple[str | int, ...], str], None]


class ConditionParser:
    """Turns ``when:`` data into Condition nodes, reporting problems with their path."""

    def __init__(
        self,
        *,
        number_facts: Mapping[str, str],
        vocabularies: Mapping[str, frozenset[str]],
        resolve_threshold: Callable[[str, str], Threshold | str],
        predicates: Mapping[str, Any],
        fail: Fail,
        allow_status: bool,
        resolved: dict[str, Condition | None] | None = None,
    ) -> None:
        self.number_facts = number_facts
        self.vocabularies = vocabularies
        self.resolve_threshold = resolve_threshold
        self.raw_predicates = predicates
        self.fail = fail
        self.allow_status = allow_status
        # Shared between parsers so each predicate is parsed (and its errors reported) once;
        # None marks a predicate that failed.
        self.resolved: dict[str, Condition | None] = {} if resolved is None else resolved
        self.resolving: list[str] = []

    def parse(self, data: Any, where: tuple[str | int, ...]) -> Condition | None:
        """Parse one condition at ``where``; None (with a reported failure) when invalid."""
        if not isinstance(data, dict) or len(data) != 1:
            self.fail(where, "a condition is a mapping with exactly one key (all, any, not, is, "
                             "or a fact such as mg or meds)")
            return None
        ((key, body),) = data.items()
        here = (*where, key)
        if key in ("all", "any"):
            if not isinstance(body, list) or not body:
                self.fail(here, f"{key} takes a non-empty list of conditions")
                return None
            parts = [self.parse(item, (*here, i)) for i, item in enumerate(body)]
            if any(p is None for p in parts):
                return None
            kept = tuple(p for p in parts if p is not None)
            return All(kept) if key == "all" else Any_(kept)
        if key == "not":
            part = self.parse(body, here)
            return None if part is None else Not(part)
        if key == "is":
            return self.predicate(body, here)
        return self.leaf(key, body, here)

    def predicate(self, name: Any, where: tuple[str | int, ...]) -> Condition | None:
        """Resolve ``{is: name}``, detecting unknown names and cycles."""
        if not isinstance(name, str) or name not in self.raw_predicates:
            self.fail(where, f"unknown predicate {name!r}; defined: "
                             f"{', '.join(sorted(self.raw_predicates)) or 'none'}")
            return None
        if name in self.resolved:
            known = self.resolved[name]
            return None if known is None else Is(name, known)
        if name in self.resolving:
            self.fail(where, f"predicate {name!r} refers to itself "
                             f"({' -> '.join([*self.resolving, name])})")
            return None
        self.resolving.append(name)
        try:
            part = self.parse(self.raw_predicates[name], ("predicates", name))
        finally:
            self.resolving.pop()
        self.resolved[name] = part
        return None if part is None else Is(name, part)

    def leaf(self, fact: str, body: Any, where: tuple[str | int, ...]) -> Condition | None:
        """Parse ``{fact: {operator: operand}}``."""
        if not isinstance(body, dict) or len(body) != 1:
            self.fail(where, f"{fact}: give exactly one test, e.g. {{{fact}: {{below: ...}}}}")
            return None
        ((op, operand),) = body.items()
        here = (*where, op)
        if fact in self.number_facts:
            if op == "known":
                return self._bool(operand, here, lambda b: Known(fact, b))
            if op in _OPS:
                if not isinstance(operand, str | int | float) or isinstance(operand, bool):
                    self.fail(here, f"{fact} {op}: give a threshold id or a value with a unit")
                    return None
                resolved = self.resolve_threshold(fact, str(operand))
                if isinstance(resolved, str):
                    self.fail(here, resolved)
                    return None
                return Compare(fact, op, resolved)
            self.fail(here, f"{fact}: unknown test {op!r}; use one of "
                            f"{', '.join((*_OPS, 'known'))}")
            return None
        if fact in LIST_FACTS:
            if op == "empty":
                return self._bool(operand, here, lambda b: Empty(fact, b))
            if op in ("any_of", "none_of"):
                ids = self._ids(fact, operand, here)
                return None if ids is None else SomeOf(fact, ids, negated=op == "none_of")
            self.fail(here, f"{fact}: unknown test {op!r}; use any_of, none_of or empty")
            return None
        if fact in SINGLE_FACTS:
            if fact == "status" and not self.allow_status:
                self.fail(where, "status can only be tested by findings, after the steps "
                                 "decided it")
                return None
            if op == "known":
                return self._bool(operand, here, lambda b: Known(fact, b))
            if op != "in":
                self.fail(here, f"{fact}: unknown test {op!r}; use in or known")
                return None
            ids = self._ids(fact, operand, here)
            return None if ids is None else In(fact, ids)
        known = sorted([*self.number_facts, *LIST_FACTS, *SINGLE_FACTS, "all", "any", "not",
                        "is"])
        self.fail(where, f"unknown fact {fact!r}; known: {', '.join(known)}")
        return None

    def _bool(self, operand: Any, where: tuple[str | int, ...],
              make: Callable[[bool], Condition]) -> Condition | None:
        if not isinstance(operand, bool):
            self.fail(where, "expected true or false")
            return None
        return make(operand)

    def _ids(self, fact: str, operand: Any, where: tuple[str | int, ...]) -> frozenset[str] | None:
        if not isinstance(operand, list) or not operand:
            self.fail(where, "expected a non-empty list of ids")
            return None
        allowed = self.vocabularies.get(fact, frozenset())
        ok = True
        for i, item in enumerate(operand):
            if not isinstance(item, str) or item not in allowed:
                self.fail((*where, i), f"{fact}: unknown id {item!r}; known: "
                                       f"{', '.join(sorted(allowed))}")
                ok = False
        return frozenset(operand) if ok else None
