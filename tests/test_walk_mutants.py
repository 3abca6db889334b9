"""Behaviour of the decision walk and the compiled conditions that mutation testing found no
test for (docs/testing.md, "Mutation testing"): comparisons of a bound at and around a limit,
compiled and interpreted conditions agreeing on every kind of value, the walk's events as the
trace and coverage read them, and the citations the walk adds of its own.

Expected values are worked out by hand from the bundled rules (rules/*.yaml) and the
thresholds they name: mg-lln 0.70 mmol/L, crcl-contraindicated 20, crcl-caution-severe 30,
crcl-reduced-dose 60 mL/min.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace

from mgassist import RuleSet, evaluate, load_rules, parse_patient
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
    compiled,
)
from mgassist._core.conditions import evaluate as interpret  # the reference interpreter
from mgassist._core.engine import patient_facts
from mgassist._core.walk import WalkEvent, _lasting, decide
from mgassist._rulebook.source import bundled_rules_path

LLN = Threshold("mg-lln", "mg", 0.70, "0.70 mmol/L",
                in_unit={"mmol/L": Decimal("0.70"), "mg/dL": Decimal("1.7")})
CRCL_60 = Threshold("crcl-reduced-dose", "crcl", 60.0, "60 mL/min",
                    in_unit={"mL/min": Decimal("60")})
OPS = ("below", "at_or_below", "above", "at_or_above")


def _all_ways(value: NumberFact, op: Any, threshold: Threshold) -> list[bool | None]:
    """``value op threshold`` by compare(), by the interpreter and by the compiled closure."""
    cond = Compare(threshold.fact, op, threshold)
    facts = Facts({threshold.fact: value}, {}, {})
    return [compare(value, op, threshold), interpret(cond, facts),
            compiled(cond)(Facts({threshold.fact: value}, {}, {}), None)]


# --- compiled and interpreted conditions agree ----------------------------------------------------

TRUE, FALSE = Empty("meds", True), Empty("meds", False)      # with no meds: true, false
UNKNOWN = Compare("mg", "below", LLN)                        # with no mg: unknown
FEMALE = In("sex", frozenset({"female"}))


def _nothing_known() -> Facts:
    """No number, no meds, the sex not given, and no ``conditions`` list at all."""
    return Facts({}, {"meds": frozenset()}, {"sex": None})


@pytest.mark.parametrize(("cond", "expected"), [
    (TRUE, True), (FALSE, False), (UNKNOWN, None),
    (All((TRUE, TRUE)), True), (All((TRUE, FALSE)), False), (All((TRUE, UNKNOWN)), None),
    (All((UNKNOWN, FALSE)), False),
    (Any_((FALSE, FALSE)), False), (Any_((FALSE, TRUE)), True), (Any_((FALSE, UNKNOWN)), None),
    (Any_((UNKNOWN, TRUE)), True), (Any_((TRUE, UNKNOWN)), True),
    (Not(TRUE), False), (Not(UNKNOWN), None), (Is("p", UNKNOWN), None),
    # a single choice not given is unknown, and so is its negation; "known" says it is not
    (FEMALE, None), (Not(FEMALE), None), (In("indication", frozenset({"x"})), None),
    (Known("sex", False), True), (Known("mg", True), False),
    # a list the facts do not have reads as empty
    (SomeOf("conditions", frozenset({"x"})), False),
    (SomeOf("conditions", frozenset({"x"}), negated=True), True),
    (Empty("conditions", True), True),
])
def test_compiled_conditions_follow_the_same_three_valued_logic(cond: Condition,
                                                                expected: bool | None) -> None:
    # A node of its own: compiled() keeps one closure per node, so a node this module made
    # and compiled once before (in another test, or in the process mutmut forks each mutant
    # from) would never be compiled again here.
    fresh = replace(cond)
    assert compiled(fresh)(_nothing_known(), []) is expected
    assert interpret(fresh, _nothing_known(), []) is expected


def test_compiled_conditions_collect_the_ids_that_matched_through_all_any_and_is() -> None:
    ppi = SomeOf("meds", frozenset({"ppi"}))
    loop = SomeOf("meds", frozenset({"loop-diuretic"}))
    absent = Empty("meds", True)  # false: there are meds
    cases: list[tuple[Condition, list[str]]] = [
        (All((ppi, Empty("meds", False))), ["ppi"]),
        (Any_((absent, ppi)), ["ppi"]),
        (Any_((ppi, loop)), ["ppi", "loop-diuretic"]),     # in the order the parts matched
        (Is("p", Any_((loop,))), ["loop-diuretic"]),
        (Not(ppi), []),                                     # a negation names nothing
        (SomeOf("meds", frozenset({"ppi"}), negated=True), []),
    ]
    for cond, ids in cases:
        mine: list[str] = []
        theirs: list[str] = []
        facts = Facts({}, {"meds": frozenset({"ppi", "loop-diuretic", "statin"})}, {})
        again = Facts(facts.numbers, facts.lists, facts.singles)
        assert compiled(cond)(facts, mine) is interpret(cond, again, theirs)
        assert mine == theirs == ids, cond


def test_a_compiled_predicate_answers_from_the_memory_of_these_facts() -> None:
    predicate = Is("on-a-diuretic", SomeOf("meds", frozenset({"thiazide", "loop-diuretic"})))
    facts = Facts({}, {"meds": frozenset({"ppi", "thiazide"})}, {})
    found: list[str] = []
    assert compiled(predicate)(facts, found) is True and found == ["thiazide"]
    assert facts.predicates == {id(predicate.part): (True, ("thiazide",))}
    # what is remembered is what a second reference gets, ids included
    facts.predicates[id(predicate.part)] = (False, ("remembered",))
    again: list[str] = []
    assert compiled(predicate)(facts, again) is False and again == ["remembered"]
    assert compiled(Not(predicate))(facts, None) is True


# --- comparisons of a bound ---------------------------------------------------------------------

# Each bound's range, with the limit L at its edge: ">" is (L, inf), ">=" is [L, inf),
# "<" is (-inf, L), "<=" is (-inf, L]. A test is True when every x of the range passes it,
# False when none does, unknown (None) when only some do: ">=" includes L itself, so "at or
# below L" holds for x = L only (None), and "above L" for every x but L (None).
AT_THE_LIMIT = {
    ">": (False, False, True, True),
    ">=": (False, None, None, True),
    "<": (True, True, False, False),
    "<=": (None, True, False, None),
}


@pytest.mark.parametrize("bound", list(AT_THE_LIMIT))
def test_a_bound_whose_edge_is_the_limit_is_decided_by_whether_the_edge_is_included(
        bound: Any) -> None:
    edge = NumberFact(60.0, f"{bound}60 mL/min", "mL/min", Decimal("60"), bound)
    for op, expected in zip(OPS, AT_THE_LIMIT[bound], strict=True):
        assert _all_ways(edge, op, CRCL_60) == [expected] * 3, (bound, op)


@pytest.mark.parametrize("bound", [">", ">=", "<", "<="])
def test_a_bound_beyond_the_limit_is_known_only_on_its_own_side(bound: Any) -> None:
    # ">61": every x > 61 is above 60, so below/at_or_below are False, above/at_or_above
    # True; "<61" reaches both sides of 60, so every test is unknown. "59" the other way round.
    above = NumberFact(61.0, f"{bound}61 mL/min", "mL/min", Decimal("61"), bound)
    below = NumberFact(59.0, f"{bound}59 mL/min", "mL/min", Decimal("59"), bound)
    lower_bound = bound in (">", ">=")
    for op in OPS:
        passes_above = op in ("above", "at_or_above")
        assert _all_ways(above, op, CRCL_60) == [passes_above if lower_bound else None] * 3
        assert _all_ways(below, op, CRCL_60) == [None if lower_bound else not passes_above] * 3


def test_a_compiled_comparison_of_a_bound_that_spans_the_limit_is_unknown() -> None:
    # ">45 mL/min" (a value as entered, in the limit's unit): 50 is not below 60, 46 is; the
    # value as printed, 45, is below 60, but a bound is never read as its edge.
    spanning = NumberFact(45.0, ">45 mL/min", "mL/min", Decimal("45"), ">")
    assert _all_ways(spanning, "below", CRCL_60) == [None, None, None]
    assert _all_ways(spanning, "at_or_above", CRCL_60) == [None, None, None]
    # the same without a unit as entered (an eGFR bound read as creatinine clearance)
    bare = NumberFact(45.0, ">45 (eGFR)", bound=">")
    assert _all_ways(bare, "below", CRCL_60) == [None, None, None]


def test_a_value_with_a_unit_but_no_printed_value_compares_canonical_values_compiled_too() -> None:
    # 0.6994 mmol/L canonical is below 0.70; the limit as printed in mg/dL (1.7) is not used
    # without the value as printed.
    no_entry = NumberFact(0.6994, "1.7 mg/dL", "mg/dL", None)
    assert _all_ways(no_entry, "below", LLN) == [True, True, True]
    assert _all_ways(no_entry, "at_or_above", LLN) == [False, False, False]


def test_a_condition_is_compiled_once() -> None:
    cond = Compare("mg", "below", LLN)
    first = compiled(cond)
    assert compiled(cond) is first
    assert compiled(Compare("mg", "below", LLN)) is not first  # another node, its own closure


def test_a_single_choice_known_test_that_is_not_true_or_false_is_reported_at_its_path() -> None:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    parser = ConditionParser(
        number_facts={"mg": "mmol/L"}, vocabularies={"sex": frozenset({"male", "female"})},
        resolve_threshold=lambda fact, text: f"unknown threshold {text!r}", predicates={},
        fail=lambda where, message: problems.append((where, message)), allow_status=False)
    assert parser.parse({"sex": {"known": "yes"}}, ("w",)) is None
    assert problems == [(("w", "sex", "known"), "expected true or false")]
    assert parser.parse({"sex": {"known": False}}, ("w",)) == Known("sex", False)


# --- the walk's events ----------------------------------------------------------------------------

def _events(rules: RuleSet, raw: dict[str, Any]) -> list[WalkEvent]:
    events: list[WalkEvent] = []
    evaluate(parse_patient(raw, rules), rules, observer=events.append)
    return events


def _event(events: list[WalkEvent], kind: str, rid: str) -> WalkEvent:
    found = [e for e in events if e.kind == kind and e.id == rid]
    assert len(found) == 1, (kind, rid, found)
    return found[0]


def test_risk_factor_events_say_present_or_not_present(rules: RuleSet) -> None:
    events = _events(rules, {"mg": "0.6 mmol/L", "crcl": "80 mL/min", "meds": ["furosemide"]})
    loop = _event(events, "risk-factor", "loop-diuretic")
    assert (loop.fired, loop.effect) == (True, "present: listed by {risk_factors}")
    ppi = _event(events, "risk-factor", "ppi")
    assert (ppi.fired, ppi.effect) == (False, "not present")


def test_the_regimen_event_names_the_deciding_step_its_dose_and_its_result(
        rules: RuleSet) -> None:
    # mg 0.6 < 0.70 with CrCl 80 >= 60: step "supplement", the standard start of 12 mmol/day;
    # no ceiling of its own, so the maximum, 1500 mg/day of MgO = 1500 / 40.304 = 37.2 mmol/day.
    given = _event(_events(rules, {"mg": "0.6 mmol/L", "crcl": "80 mL/min"}),
                   "regimen", "standard-start")
    assert (given.fired, given.evaluated, given.result) == (True, True, True)
    assert given.effect == ("step supplement decided: its standard-start regimen "
                            "(12 mmol/day, at most 37.2 mmol/day)")
    # mg 0.8 is not low: step mg-normal, status do-not-supplement, no regimen
    none = _event(_events(rules, {"mg": "0.8 mmol/L", "crcl": "80 mL/min"}), "regimen", "none")
    assert (none.fired, none.evaluated, none.result) == (False, True, False)
    assert none.effect == "no regimen: status do-not-supplement does not give one"


def test_a_regimen_without_a_dose_figure_says_so_in_its_event(rules: RuleSet) -> None:
    # CrCl 45, from 30 to below 60: renal-dose-reduction, a reduced regimen with no dose figure
    # (the sources give none) and the standard start, 12 mmol/day, as its ceiling
    event = _event(_events(rules, {"mg": "0.6 mmol/L", "crcl": "45 mL/min"}), "regimen", "reduced")
    assert event.effect == ("step renal-dose-reduction decided: its reduced regimen "
                            "(no dose figure, at most 12 mmol/day)")


def test_detail_events_say_shown_or_not_shown_with_the_facts_they_were_shown_on(
        rules: RuleSet) -> None:
    # CrCl 15 < 20: renal-contraindication fires whatever magnesium is; its one detail is
    # shown only when magnesium is low (mg 0.6 < 0.70, not 0.8)
    for mg, shown, effect in (("0.6 mmol/L", True, "shown"), ("0.8 mmol/L", False, "not shown")):
        detail = _event(_events(rules, {"mg": mg, "crcl": "15 mL/min"}), "detail",
                        "renal-contraindication.details[0]")
        assert (detail.fired, detail.effect) == (shown, effect), mg
        assert detail.when == rules.findings["renal-contraindication"].details[0].when
        assert detail.facts is not None and "crcl" in detail.facts.numbers


def test_details_of_a_finding_not_reported_are_not_evaluated(rules: RuleSet) -> None:
    # no dialysis, CrCl 80: the dialysis finding does not fire; its detail is not evaluated
    events = _events(rules, {"mg": "0.6 mmol/L", "crcl": "80 mL/min"})
    detail = _event(events, "detail", "dialysis.details[0]")
    assert (detail.fired, detail.effect) == (False,
                                             "not evaluated: its finding is not reported")
    assert detail.when is None and detail.facts is None


def test_without_a_monitoring_plan_each_conditional_line_and_reason_is_not_evaluated(
        rules: RuleSet) -> None:
    # mg 0.8: do-not-supplement gives no plan. Schedule lines 0 and 1 have a condition (the
    # status), line 2 has none and is not an event; the three reasons are events.
    events = _events(rules, {"mg": "0.8 mmol/L", "crcl": "80 mL/min"})
    why = "not evaluated: status do-not-supplement gives no monitoring plan"
    items = [(e.id, e.fired, e.effect) for e in events if e.kind == "monitoring-item"]
    assert items == [("schedule[0]", False, why), ("schedule[1]", False, why)]
    reasons = [(e.id, e.fired, e.effect) for e in events if e.kind == "monitoring-reason"]
    assert reasons == [(label, False, why) for label in (
        "high gastrointestinal losses", "renal impairment", "magnesium-wasting medication")]


def test_reason_events_say_monitor_more_often_or_not_a_reason_here(rules: RuleSet) -> None:
    # CrCl 45 < 60: renal impairment is a reason; no GI losses, no magnesium-wasting medicine
    events = _events(rules, {"mg": "0.6 mmol/L", "crcl": "45 mL/min"})
    reasons = [(e.id, e.fired, e.effect) for e in events if e.kind == "monitoring-reason"]
    assert reasons == [("high gastrointestinal losses", False, "not a reason here"),
                       ("renal impairment", True, "monitor more often"),
                       ("magnesium-wasting medication", False, "not a reason here")]


def test_when_no_step_is_true_the_walk_says_so_and_decides_nothing(rules: RuleSet) -> None:
    # A creatinine clearance known only as ">45 mL/min" spans crcl-reduced-dose (60): the
    # band 30-60 and the band from 60 are both unknown, so no step is true. (The engine turns
    # such an eGFR into "renal function unknown" first; the walk must still be right.)
    _, numbers, lists, singles = patient_facts(
        parse_patient({"mg": "0.6 mmol/L", "crcl": "45 mL/min"}, rules), rules)
    numbers["crcl"] = NumberFact(45.0, ">45 mL/min", bound=">")
    events: list[WalkEvent] = []
    outcome = decide(rules, numbers, lists, singles, False, events.append)
    assert outcome.step is None and outcome.status.value == "insufficient-data"
    assert outcome.regimen is None and outcome.monitoring is None
    steps = [e for e in events if e.kind == "step"]
    assert [e.id for e in steps] == [s.id for s in rules.steps] + ["none"]
    assert not any(e.fired for e in steps[:-1])
    last = steps[-1]
    assert (last.kind, last.id, last.fired, last.effect) == (
        "step", "none", True,
        "no step was true: status insufficient-data (a gap in the rule set)")
    assert decide(rules, numbers, lists, singles, False).status == outcome.status


# --- what the walk cites -------------------------------------------------------------------------

def test_an_adjusted_calcium_cites_the_adjustment(rules: RuleSet) -> None:
    # calcium 2.3 with albumin 40 g/L: adjusted calcium is shown, so its formula is cited
    # (thresholds.yaml calcium_adjustment: payne1973-bmj), whether or not a finding uses it
    base = {"mg": "0.8 mmol/L", "crcl": "80 mL/min", "ca": "2.3 mmol/L"}
    adjusted = evaluate(parse_patient({**base, "albumin": "40 g/L"}, rules), rules)
    assert "payne1973-bmj" in adjusted.references
    total = evaluate(parse_patient(base, rules), rules)
    assert "payne1973-bmj" not in total.references


def _rules_with(tmp_path: Path, file: str, old: str, new: str) -> RuleSet:
    """The bundled rules with one text of one file changed."""
    copy = tmp_path / "rules"
    shutil.copytree(bundled_rules_path(), copy, ignore=shutil.ignore_patterns("tests"))
    path = copy / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return load_rules(copy)


def test_the_alternative_salt_cites_its_own_sources(tmp_path: Path) -> None:
    # The bundled finding cites both sources of the alternative; here it cites one, so the
    # other can only come from the alternative itself.
    rules = _rules_with(tmp_path, "findings.yaml",
                        "cite: [firoz2001-magnesres, schuette1994-jpen]",
                        "cite: [firoz2001-magnesres]")
    assessment = evaluate(parse_patient(
        {"mg": "0.6 mmol/L", "crcl": "80 mL/min", "conditions": ["chronic-diarrhea"]},
        rules), rules)
    assert assessment.regimen is not None and assessment.regimen.alternative is not None
    assert assessment.regimen.alternative.citations == ["schuette1994-jpen",
                                                        "firoz2001-magnesres"]
    assert "schuette1994-jpen" in assessment.references


def test_a_risk_factor_may_test_a_single_choice(tmp_path: Path) -> None:
    rules = _rules_with(tmp_path, "findings.yaml", "\nrisk_factors:\n",
                        "\nrisk_factors:\n  - id: female\n    label: female sex\n"
                        "    when: {sex: {in: [female]}}\n    cite: [pham2014-ijnrd]\n")
    raw = {"mg": "0.6 mmol/L", "crcl": "80 mL/min"}
    female = evaluate(parse_patient({**raw, "sex": "female"}, rules), rules)
    risk = [f for f in female.findings if f.id == "risk-factors-present"]
    assert len(risk) == 1 and "female sex" in risk[0].message
    male = evaluate(parse_patient({**raw, "sex": "male"}, rules), rules)
    assert "risk-factors-present" not in {f.id for f in male.findings}


def test_reference_entries_are_built_once_per_rule_set_and_shared_by_patients(
        rules: RuleSet) -> None:
    # A rule set's first patient is walked by the interpreter's program, the rest by the
    # compiled one (walk._program); walk one first, so that both patients below share the
    # compiled program whatever the session did before (the programs' cache is cleared after
    # 64 rule sets, so the order and number of earlier tests must not matter).
    evaluate(parse_patient({"mg": "0.9 mmol/L"}, rules), rules)
    one = evaluate(parse_patient({"mg": "0.6 mmol/L", "crcl": "80 mL/min"}, rules), rules)
    two = evaluate(parse_patient({"mg": "0.65 mmol/L", "crcl": "90 mL/min"}, rules), rules)
    assert one.references == two.references
    assert all(two.references[rid] is ref for rid, ref in one.references.items())


def _threshold(fact: str) -> Threshold:
    return Threshold(f"{fact}-limit", fact, 1.0, f"1 ({fact})")


def test_a_predicate_lasts_across_the_walks_phases_only_if_it_reads_neither_status_nor_risk(
        ) -> None:
    numbers = Is("numbers", Compare("mg", "below", _threshold("mg")))
    meds = Is("meds", SomeOf("meds", frozenset({"ppi"}), False))
    status = Is("status", In("status", frozenset({"maintain"})))
    risk = Is("risk", Empty("risk_factors", False))
    known_status = Is("known-status", Known("status", True))
    through = Is("through", Any_((numbers, Not(status))))  # a phased predicate, one level down
    both = Is("both", All((numbers, meds)))
    lasting = _lasting([All((both, through)), risk, known_status])
    assert lasting == {id(numbers.part), id(meds.part), id(both.part)}


def test_a_predicate_of_the_risk_factors_is_evaluated_again_once_they_are_known(
        tmp_path: Path) -> None:
    # "has-risk" reads the risk factors: a risk factor evaluates it first, while none is known
    # yet (false), and the finding must see it again once the loop diuretic made one present.
    copy = tmp_path / "rules"
    shutil.copytree(bundled_rules_path(), copy, ignore=shutil.ignore_patterns("tests"))
    for file, old, new in [
            ("decision.yaml", "\npredicates:\n",
             "\npredicates:\n  has-risk: {risk_factors: {empty: false}}\n"),
            ("findings.yaml", "\nrisk_factors:\n",
             "\nrisk_factors:\n  - id: another-risk\n    label: another risk factor\n"
             "    when: {is: has-risk}\n    cite: [pham2014-ijnrd]\n"),
            ("findings.yaml", "    when: {risk_factors: {empty: false}}\n",
             "    when: {is: has-risk}\n")]:
        path = copy / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), encoding="utf-8")
    rules = load_rules(copy)
    raw = {"mg": "0.6 mmol/L", "crcl": "80 mL/min", "meds": ["furosemide"]}
    for _ in range(2):  # the first patient of a rule set is interpreted, the next compiled
        findings = {f.id: f for f in evaluate(parse_patient(raw, rules), rules).findings}
        assert "risk-factors-present" in findings
        assert "loop diuretic" in findings["risk-factors-present"].message
        assert "another risk factor" not in findings["risk-factors-present"].message
