"""One decision walk: the trace and coverage are observers of it, never a second walk."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from mgassist import Assessment, RuleSet, parse_patient
from mgassist._core.engine import evaluate_patient
from mgassist._core.trace import assess_and_trace, trace
from mgassist._core.walk import WalkEvent

PATIENTS: list[dict[str, Any]] = [
    {"mg": "0.6 mmol/L", "crcl": "80 mL/min"},
    {"mg": "0.6 mmol/L", "crcl": "25 mL/min", "k": "3.0 mmol/L", "conditions": ["diarrhoea"]},
    {"mg": "0.6 mmol/L", "crcl": "15 mL/min"},
    {"mg": "0.8 mmol/L", "crcl": "80 mL/min"},
    {"mg": "0.6 mmol/L"},
    {"crcl": "80 mL/min", "symptoms": ["seizure"]},
    {"mg": "0.78 mmol/L", "current_dose": "24 mmol/day", "days_on_dose": 90,
     "crcl": "80 mL/min"},
    {"mg": "1.6 mg/dL", "k": "3.2 mmol/L", "creatinine": "106 umol/L", "age": 72,
     "sex": "female", "weight": "154 lb", "height": "1.6 m", "meds": ["furosemide", "omeprazole"]},
    {"mg": "0.3 mmol/L", "crcl": "15 mL/min", "k": "2.4 mmol/L", "symptoms": ["tetany"],
     "conditions": ["dialysis"], "ca": "1.6 mmol/L", "albumin": "30 g/L",
     "meds": ["furosemide", "omeprazole", "digoxin", "Milk of magnesia"]},
]


def _walk(rules: RuleSet, raw: dict[str, Any]) -> tuple[Assessment, list[WalkEvent]]:
    events: list[WalkEvent] = []
    return evaluate_patient(parse_patient(raw, rules), rules, observer=events.append), events


@pytest.mark.parametrize("raw", PATIENTS)
def test_the_observed_walk_is_the_assessment(rules: RuleSet, raw: dict[str, Any]) -> None:
    observed, events = _walk(rules, raw)
    plain = evaluate_patient(parse_patient(raw, rules), rules)
    assert observed.to_json() == plain.to_json()  # watching changes nothing
    fired = {(e.kind, e.id) for e in events if e.fired}
    steps = [e.id for e in events if e.kind == "step" and e.fired]
    assert steps == [plain.decided_by]
    assert {i for k, i in fired if k == "finding"} == {f.id for f in plain.findings}
    regimen = [e for e in events if e.kind == "regimen"]
    assert [(e.id, e.fired) for e in regimen] == [
        (plain.regimen.dose_basis.value, True) if plain.regimen else ("none", False)]
    reasons = {i for k, i in fired if k == "monitoring-reason"}
    shown = plain.monitoring.more_often_because if plain.monitoring else []
    assert len(reasons) == len(shown)
    assert all(any(text.startswith(label) for label in reasons) for text in shown)


@pytest.mark.parametrize("raw", PATIENTS)
def test_the_trace_is_those_events_in_order(rules: RuleSet, raw: dict[str, Any]) -> None:
    _, events = _walk(rules, raw)
    assessment, entries = assess_and_trace(parse_patient(raw, rules), rules)
    assert [(t.kind, t.id, t.fired, t.effect) for t in entries] == \
        [(e.kind, e.id, e.fired, e.effect) for e in events]
    assert [t.order for t in entries] == list(range(1, len(entries) + 1))
    assert assessment.to_json() == _walk(rules, raw)[0].to_json()


def test_the_trace_has_no_walk_of_its_own(rules: RuleSet,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the walk")

    monkeypatch.setattr("mgassist._core.engine.decide", refuse)
    with pytest.raises(RuntimeError, match="the walk"):
        trace(parse_patient(PATIENTS[0], rules), rules)


def test_every_rule_is_met_once_in_the_rules_order(rules: RuleSet) -> None:
    _, events = _walk(rules, PATIENTS[1])

    def ids(kind: str) -> list[str]:
        return [e.id for e in events if e.kind == kind]

    assert ids("risk-factor") == [f.id for f in rules.risk_factors]
    assert ids("step") == [s.id for s in rules.steps]
    assert ids("finding") == list(rules.findings)
    kinds = [e.kind for e in events]
    assert kinds.index("regimen") > max(i for i, k in enumerate(kinds) if k == "finding")


def _conditions_of(rules: RuleSet) -> list[Any]:
    conds = [f.when for f in rules.risk_factors] + [s.when for s in rules.steps]
    for rule in rules.findings.values():
        conds += [rule.when] + [d.when for d in rule.details if d.when is not None]
    conds += [r.when for r in rules.monitoring.reasons]
    conds += [i.when for i in rules.monitoring.schedule if i.when is not None]
    return conds


def test_compiled_conditions_give_what_the_interpreter_gives(rules: RuleSet) -> None:
    """Every condition of the bundled rules, over every vignette's patient and each phase's
    facts: the same result and the same matched ids, compiled or interpreted."""
    from mgassist._authoring.vignettes import load_vignettes, vignette_files
    from mgassist._core.conditions import Facts, compiled, evaluate
    from mgassist._core.engine import patient_facts
    from mgassist._rulebook.source import bundled_rules_path

    conds = _conditions_of(rules)
    vignettes = load_vignettes(vignette_files([bundled_rules_path() / "tests"]), rules)
    checked = 0
    for vignette in vignettes:
        _, numbers, lists, singles = patient_facts(parse_patient(vignette.patient, rules), rules)
        for status in (None, "supplement", "urgent"):
            extra = {} if status is None else {"status": status}
            for cond in conds:
                mine, theirs = [], []  # type: ignore[var-annotated]
                one = Facts(numbers, {**lists, "risk_factors": frozenset({"ppi"})},
                            {**singles, **extra})
                two = Facts(numbers, one.lists, one.singles)
                assert compiled(cond)(one, mine) == evaluate(cond, two, theirs), cond
                assert mine == theirs
                checked += 1
    assert checked > 50_000


def test_the_first_patient_is_interpreted_the_rest_compiled(rules: RuleSet) -> None:
    """A one-shot assess walks with the interpreter (compiling costs more than one walk); a
    batch compiles from its second patient. The assessments are the same either way."""
    from msgspec.structs import replace

    from mgassist._core import walk

    fresh = replace(rules)  # a rule set object the walk has not met yet
    patients = [parse_patient(raw, fresh) for raw in PATIENTS]
    first = [evaluate_patient(p, fresh).to_json() for p in patients[:1]]
    program = walk._PROGRAMS[id(fresh)]
    assert program[0] is fresh and program[2] is False
    assert all(isinstance(test, partial) for _, test in program[1].steps)
    rest = [evaluate_patient(p, fresh).to_json() for p in patients]
    program = walk._PROGRAMS[id(fresh)]
    assert program[2] is True
    assert not any(isinstance(test, partial) for _, test in program[1].steps)
    assert first + rest == [evaluate_patient(p, rules).to_json()
                            for p in [patients[0], *patients]]
