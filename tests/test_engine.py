"""Details of the engine's output that the decision tests do not pin down: the words of the
monitoring reasons, and the batch decision cache giving the very answer the engine gives.

Found by mutation testing (docs/testing.md): each test kills mutants that survived the rest of
the suite. Expected texts come from rules/treatment.yaml and rules/vocabulary labels, read by
hand, not from the program's output.
"""

from __future__ import annotations

from collections.abc import Callable

from mgassist import Assessment, RuleSet, evaluate, parse_patient
from mgassist._engine import DecisionCache, evaluate_patient


def test_monitoring_reasons_name_what_matched(assess: Callable[..., Assessment]) -> None:
    a = assess(mg="0.6 mmol/L", crcl="45 mL/min", meds=["furosemide", "omeprazole"])
    assert a.monitoring is not None
    assert a.monitoring.more_often_because == [
        "renal impairment",
        "magnesium-wasting medication (loop diuretic, proton pump inhibitor)"]


def test_a_reason_names_each_match_once(assess: Callable[..., Assessment]) -> None:
    a = assess(mg="0.6 mmol/L", crcl="80 mL/min", meds=["furosemide", "loop-diuretic"])
    assert a.monitoring is not None
    assert a.monitoring.more_often_because == ["magnesium-wasting medication (loop diuretic)"]


def test_no_reason_without_a_match(assess: Callable[..., Assessment]) -> None:
    a = assess(mg="0.6 mmol/L", crcl="80 mL/min")
    assert a.monitoring is not None
    assert a.monitoring.more_often_because == []


PATIENTS = [
    {"mg": "0.6 mmol/L", "crcl": "45 mL/min", "meds": ["furosemide"]},
    {"mg": "0.6 mmol/L", "crcl": "45 mL/min", "meds": ["omeprazole"]},   # same outcome class
    {"mg": "1.5 mg/dL", "crcl": "80 mL/min", "k": "3.1 mmol/L"},
    {"mg": "0.4 mmol/L", "symptoms": ["tetany"]},
    {"mg": "0.6 mmol/L", "crcl": "45 mL/min", "meds": ["furosemide"]},  # a repeat: a cache hit
    {"mg": "2.0 mmol/L", "crcl": "15 mL/min", "current_dose": "12 mmol/day",
     "symptoms": ["hyporeflexia"]},
]


def test_the_batch_cache_gives_the_engines_answer(rules: RuleSet) -> None:
    cache = DecisionCache(rules)
    for raw in PATIENTS:
        patient = parse_patient(raw, rules)
        expected = evaluate(patient, rules).to_json_bytes()
        assert evaluate_patient(patient, rules, cache=cache).to_json_bytes() == expected, raw
    assert 0 < len(cache._entries) < len(PATIENTS), "the cache was used, and hit"


def test_a_full_cache_still_answers(rules: RuleSet) -> None:
    cache = DecisionCache(rules, limit=1)
    for raw in PATIENTS:
        patient = parse_patient(raw, rules)
        assert evaluate_patient(patient, rules, cache=cache).to_json_bytes() == \
            evaluate(patient, rules).to_json_bytes(), raw
    assert len(cache._entries) == 1  # cleared when full: memory stays bounded
