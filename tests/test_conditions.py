"""The condition language on its own: three-valued evaluation (Kleene), the boundary rule in
comparisons, the vocabulary ids a list test matched, and the parser's located messages.

Conditions are built by hand here, on a tiny vocabulary, independent of the shipped rules.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mgassist._core.conditions import (
    All,
    Any_,
    Compare,
    Condition,
    ConditionParser,
    Empty,
    Facts,
    In,
    Is,
    Known,
    Not,
    NumberFact,
    SomeOf,
    Threshold,
    compare,
    evaluate,
    nodes,
    operands,
)
from mgassist._core.conditions import test_text as words  # not a test: keep pytest off it

LLN = Threshold("mg-lln", "mg", 0.70, "0.70 mmol/L",
                in_unit={"mmol/L": Decimal("0.70"), "mg/dL": Decimal("1.7")})
TRUE, FALSE = Empty("meds", True), Empty("meds", False)      # with no meds: true, false
UNKNOWN = Compare("mg", "below", LLN)                        # with no mg: unknown


def facts(mg: NumberFact | None = None, meds: tuple[str, ...] = (), sex: str | None = None,
          ) -> Facts:
    return Facts(numbers={"mg": mg} if mg else {}, lists={"meds": frozenset(meds)},
                 singles={"sex": sex})


NONE = facts()


@pytest.mark.parametrize(("cond", "expected"), [
    (TRUE, True), (FALSE, False), (UNKNOWN, None),
    (All((TRUE, TRUE)), True), (All((TRUE, FALSE)), False), (All((TRUE, UNKNOWN)), None),
    (All((UNKNOWN, FALSE)), False), (All((FALSE, UNKNOWN)), False),
    (Any_((FALSE, FALSE)), False), (Any_((FALSE, TRUE)), True), (Any_((FALSE, UNKNOWN)), None),
    (Any_((UNKNOWN, TRUE)), True), (Any_((TRUE, UNKNOWN)), True),
    (Not(TRUE), False), (Not(FALSE), True), (Not(UNKNOWN), None),
    (Is("p", TRUE), True), (Is("p", UNKNOWN), None),
    (Not(All((TRUE, UNKNOWN))), None),
])
def test_three_valued_logic(cond: Condition, expected: bool | None) -> None:
    assert evaluate(cond, NONE) is expected


def test_an_unknown_value_never_makes_a_negation_fire() -> None:
    assert evaluate(Not(UNKNOWN), NONE) is None
    assert evaluate(Known("mg", False), NONE) is True
    assert evaluate(Known("mg", True), NONE) is False


@pytest.mark.parametrize(("typed", "unit", "op", "expected"), [
    ("0.69", "mmol/L", "below", True), ("0.70", "mmol/L", "below", False),
    ("0.70", "mmol/L", "at_or_below", True), ("0.71", "mmol/L", "at_or_below", False),
    ("0.70", "mmol/L", "above", False), ("0.71", "mmol/L", "above", True),
    ("0.70", "mmol/L", "at_or_above", True), ("0.69", "mmol/L", "at_or_above", False),
    # 1.7 mg/dL is 0.6994 mmol/L, yet as printed it is at the limit, not below it
    ("1.7", "mg/dL", "below", False), ("1.7", "mg/dL", "at_or_above", True),
    ("1.6", "mg/dL", "below", True),
])
def test_comparisons_use_the_value_and_limit_as_printed(typed: str, unit: str, op: Any,
                                                        expected: bool) -> None:
    factor = {"mmol/L": 1.0, "mg/dL": 10 / 24.305}[unit]
    value = NumberFact(float(typed) * factor, f"{typed} {unit}", unit, Decimal(typed))
    assert compare(value, op, LLN) is expected
    assert evaluate(Compare("mg", op, LLN), facts(value)) is expected


def test_without_a_printed_limit_for_the_unit_canonical_values_are_compared() -> None:
    entered = NumberFact(0.6994, "2.8 mEq/L?", "mEq/L", Decimal("1.4"))  # no mEq/L limit
    assert operands(entered, LLN) == (0.6994, 0.70, None)
    assert compare(entered, "below", LLN) is True
    computed = NumberFact(0.7, "0.7 (derived)")                            # no unit entered
    assert operands(computed, LLN) == (0.7, 0.70, None)
    assert compare(computed, "below", LLN) is False
    printed = NumberFact(0.6994, "1.7 mg/dL", "mg/dL", Decimal("1.7"))
    assert operands(printed, LLN) == (Decimal("1.7"), Decimal("1.7"), "mg/dL")
    no_entry = NumberFact(0.6994, "1.7 mg/dL", "mg/dL", None)
    assert operands(no_entry, LLN) == (0.6994, 0.70, None)
    assert compare(None, "below", LLN) is None


def test_list_tests_and_the_ids_they_matched() -> None:
    patient = facts(meds=("ppi", "loop-diuretic", "statin"))
    matched: list[str] = []
    some = SomeOf("meds", frozenset({"ppi", "loop-diuretic", "thiazide"}))
    assert evaluate(some, patient, matched) is True
    assert matched == ["loop-diuretic", "ppi"]                   # sorted, only the hits
    none_of = SomeOf("meds", frozenset({"ppi"}), negated=True)
    matched = []
    assert evaluate(none_of, patient, matched) is False
    assert matched == []                                          # a negated test names nothing
    assert evaluate(SomeOf("meds", frozenset({"thiazide"})), patient) is False
    assert evaluate(SomeOf("meds", frozenset({"thiazide"}), negated=True), patient) is True
    assert evaluate(SomeOf("conditions", frozenset({"x"})), patient) is False  # absent: empty
    assert evaluate(Empty("meds", False), patient) is True


def test_matched_ids_pass_through_all_any_and_is_but_not_through_not() -> None:
    patient = facts(meds=("ppi",))
    ppi = SomeOf("meds", frozenset({"ppi"}))
    for cond in (All((ppi, Empty("meds", False))), Any_((FALSE, ppi)),
                 Is("p", ppi)):
        matched: list[str] = []
        assert evaluate(cond, patient, matched) is True
        assert matched == ["ppi"], cond
    matched = []
    assert evaluate(Not(Not(ppi)), patient, matched) is True
    assert matched == []


def test_single_facts() -> None:
    assert evaluate(In("sex", frozenset({"female"})), facts(sex="female")) is True
    assert evaluate(In("sex", frozenset({"female"})), facts(sex="male")) is False
    assert evaluate(In("sex", frozenset({"female"})), NONE) is None


def test_words_and_nodes() -> None:
    cond = All((Compare("mg", "at_or_below", LLN), Not(SomeOf("meds", frozenset({"b", "a"}))),
                Any_((Known("mg", False), Empty("meds", True))),
                Is("p", In("sex", frozenset({"male", "female"})))))
    assert [words(n) for n in nodes(cond)] == [
        "all of", "mg at or below mg-lln", "not", "meds any of [a, b]", "any of",
        "mg is not known", "meds is empty", "is p", "sex in [female, male]"]
    assert words(SomeOf("meds", frozenset({"a"}), negated=True)) == "meds none of [a]"
    assert words(Known("mg", True)) == "mg is known"
    assert words(Empty("meds", False)) == "meds is not empty"


# --- the parser --------------------------------------------------------------------------------

def parser(problems: list[tuple[tuple[str | int, ...], str]], *, allow_status: bool = False,
           predicates: dict[str, Any] | None = None) -> ConditionParser:
    def resolve(fact: str, text: str) -> Threshold | str:
        return LLN if text == "mg-lln" else f"unknown threshold {text!r}"
    return ConditionParser(
        number_facts={"mg": "mmol/L"},
        vocabularies={"meds": frozenset({"ppi", "loop-diuretic"}),
                      "sex": frozenset({"male", "female"}),
                      "status": frozenset({"urgent"})},
        resolve_threshold=resolve, predicates=predicates or {},
        fail=lambda where, message: problems.append((where, message)),
        allow_status=allow_status)


def test_a_valid_condition_parses_into_nodes() -> None:
    problems: list[Any] = []
    data = {"all": [{"mg": {"below": "mg-lln"}}, {"not": {"meds": {"none_of": ["ppi"]}}},
                    {"any": [{"mg": {"known": False}}, {"meds": {"empty": True}}]},
                    {"sex": {"in": ["female"]}}, {"is": "low"}]}
    cond = parser(problems, predicates={"low": {"mg": {"at_or_above": "mg-lln"}}}).parse(
        data, ("steps", 0, "when"))
    assert problems == []
    assert cond == All((Compare("mg", "below", LLN),
                        Not(SomeOf("meds", frozenset({"ppi"}), negated=True)),
                        Any_((Known("mg", False), Empty("meds", True))),
                        In("sex", frozenset({"female"})),
                        Is("low", Compare("mg", "at_or_above", LLN))))


@pytest.mark.parametrize(("data", "where", "message"), [
    ("mg", ("w",), "a condition is a mapping with exactly one key"),
    ({"all": [], }, ("w", "all"), "all takes a non-empty list of conditions"),
    ({"any": {"mg": 1}}, ("w", "any"), "any takes a non-empty list of conditions"),
    ({"mg": {"below": "x"}}, ("w", "mg", "below"), "unknown threshold 'x'"),
    ({"mg": {"below": True}}, ("w", "mg", "below"),
     "mg below: give a threshold id or a value with a unit"),
    ({"mg": {"under": "mg-lln"}}, ("w", "mg", "under"),
     "mg: unknown test 'under'; use one of below, at_or_below, above, at_or_above, known"),
    ({"mg": {"known": "yes"}}, ("w", "mg", "known"), "expected true or false"),
    ({"meds": {"empty": "yes"}}, ("w", "meds", "empty"), "expected true or false"),
    ({"mg": "mg-lln"}, ("w", "mg"), "mg: give exactly one test"),
    ({"meds": {"any_of": []}}, ("w", "meds", "any_of"), "expected a non-empty list of ids"),
    ({"meds": {"any_of": ["ppi", "aspirin"]}}, ("w", "meds", "any_of", 1),
     "meds: unknown id 'aspirin'; known: loop-diuretic, ppi"),
    ({"meds": {"has": ["ppi"]}}, ("w", "meds", "has"),
     "meds: unknown test 'has'; use any_of, none_of or empty"),
    ({"sex": {"any_of": ["male"]}}, ("w", "sex", "any_of"), "sex: unknown test 'any_of'; use in"),
    ({"status": {"in": ["urgent"]}}, ("w", "status"),
     "status can only be tested by findings, after the steps decided it"),
    ({"weight": {"below": "mg-lln"}}, ("w", "weight"), "unknown fact 'weight'; known: all, any, "),
    ({"is": "nope"}, ("w", "is"), "unknown predicate 'nope'; defined: none"),
])
def test_a_bad_condition_is_reported_at_its_path(data: Any, where: tuple[Any, ...],
                                                 message: str) -> None:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    assert parser(problems).parse(data, ("w",)) is None
    assert len(problems) == 1, problems
    assert problems[0][0] == where
    assert problems[0][1].startswith(message), problems[0][1]


def test_status_is_allowed_where_the_steps_have_decided_it() -> None:
    problems: list[Any] = []
    cond = parser(problems, allow_status=True).parse({"status": {"in": ["urgent"]}}, ("w",))
    assert problems == [] and cond == In("status", frozenset({"urgent"}))


def test_a_predicate_cycle_is_named_and_each_predicate_parsed_once() -> None:
    problems: list[Any] = []
    p = parser(problems, predicates={"a": {"is": "b"}, "b": {"is": "a"},
                                     "ok": {"mg": {"known": True}}})
    assert p.parse({"is": "a"}, ("w",)) is None
    assert problems == [(("predicates", "b", "is"),
                         "predicate 'a' refers to itself (a -> b -> a)")]
    assert p.parse({"is": "ok"}, ("x",)) == Is("ok", Known("mg", True))
    assert p.parse({"any": [{"is": "ok"}, {"is": "a"}]}, ("y",)) is None  # known bad: no repeat
    assert len(problems) == 1
    assert p.resolved == {"a": None, "b": None, "ok": Known("mg", True)}


def test_a_predicate_is_evaluated_once_per_facts_and_keeps_what_it_matched() -> None:
    facts = Facts({}, {"meds": frozenset({"ppi", "thiazide"})}, {})
    predicate = Is("on-a-diuretic", SomeOf("meds", frozenset({"thiazide", "loop-diuretic"})))
    first: list[str] = []
    assert evaluate(All((predicate, SomeOf("meds", frozenset({"ppi"})))), facts, first) is True
    assert first == ["thiazide", "ppi"]
    assert facts.predicates == {id(predicate.part): (True, ("thiazide",))}
    # remembered: a second use gives the same answer and the same ids, and "not" still negates
    facts.predicates[id(predicate.part)] = (True, ("remembered",))
    again: list[str] = []
    assert evaluate(predicate, facts, again) is True and again == ["remembered"]
    assert evaluate(Not(predicate), facts) is False
    # other facts (another patient, or the next phase of the walk) start afresh
    fresh = Facts({}, {"meds": frozenset()}, {})
    assert evaluate(predicate, fresh) is False
    assert fresh.predicates == {id(predicate.part): (False, ())}
    # another predicate of the same name (another rule set) is not taken for this one
    other = Is("on-a-diuretic", SomeOf("meds", frozenset({"ppi"})))
    assert evaluate(other, facts) is True and evaluate(Not(other), fresh) is True
