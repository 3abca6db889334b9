"""Details of the engine's output that the decision tests do not pin down: the words of the
monitoring reasons, and the batch decision cache giving the very answer the engine gives.

Found by mutation testing (docs/testing.md): each test kills mutants that survived the rest of
the suite. Expected texts come from rules/treatment.yaml and rules/vocabulary labels, read by
hand, not from the program's output.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from conftest import finding_ids

from mgassist import Assessment, RuleSet, evaluate, load_rules, parse_patient
from mgassist._rulebook.source import bundled_rules_path

CG = "cockcroft1976-nephron"  # the Cockcroft-Gault paper (rules/cockcroft_gault, references)


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
    {"mg": "0.6 mmol/L", "creatinine": "1.0 mg/dL", "age": 40, "sex": "male",  # CG: 97.2
     "weight": "70 kg"},
]


# --- texts and citations that depend on how renal function was known -------------------------

def test_cockcroft_gault_is_cited_only_when_it_was_computed(
        assess: Callable[..., Assessment]) -> None:
    reported = assess(mg="0.6 mmol/L", crcl="80 mL/min")
    assert CG not in reported.references
    derived = assess(mg="0.6 mmol/L", creatinine="1.0 mg/dL", age=40, sex="male",
                     weight="70 kg")
    assert derived.derived.crcl_method == "cockcroft-gault"
    assert CG in derived.references


def test_the_discrepancy_finding_quotes_both_clearances(
        assess: Callable[..., Assessment]) -> None:
    # (140 - 70) x 70 / (72 x 2.0) = 34.03 mL/min; (80 - 34.03) / 34.03 = 135 %
    a = assess(mg="0.6 mmol/L", crcl="80 mL/min", creatinine="2.0 mg/dL", age=70, sex="male",
               weight="70 kg")
    (message,) = [f.message for f in a.findings if f.id == "crcl-discrepancy"]
    assert message == ("Reported creatinine clearance 80 mL/min and Cockcroft-Gault "
                       "34.0 mL/min differ by 135% (more than 25%): the bands use the lower "
                       "value, 34.0 mL/min (Cockcroft-Gault), the safer reading. Confirm which "
                       "is current.")
    assert CG in a.references
    assert a.derived.notes == [
        "no height given: actual body weight used",
        "reported creatinine clearance 80 mL/min and Cockcroft-Gault 34.0 mL/min differ by "
        "more than 25%: the lower, Cockcroft-Gault, is used (the safer reading)"]
    assert (a.derived.crcl_ml_min, a.derived.crcl_method) == (34.0, "cockcroft-gault")
    assert (a.derived.crcl_reported_ml_min, a.derived.crcl_cg_ml_min) == (80.0, 34.0)


def edited_rules(tmp_path: Path, old: str, new: str) -> RuleSet:
    """A copy of the bundled rules with one condition of findings.yaml rewritten."""
    copy = tmp_path / "rules"
    shutil.copytree(bundled_rules_path(), copy, ignore=shutil.ignore_patterns("tests", "__*"))
    findings = copy / "findings.yaml"
    text = findings.read_text()
    assert text.count(old) == 1
    findings.write_text(text.replace(old, new))
    return load_rules(copy)


def fires(rules: RuleSet, finding: str, **raw: object) -> bool:
    return finding in finding_ids(evaluate(parse_patient(raw, rules), rules))


def test_a_rule_can_test_which_risk_factors_are_present(tmp_path: Path) -> None:
    """findings.yaml documents {risk_factors: {any_of: [...]}}; no shipped rule uses it yet."""
    rules = edited_rules(tmp_path, "when: {risk_factors: {empty: false}}",
                         "when: {risk_factors: {any_of: [loop-diuretic]}}")
    low = {"mg": "0.6 mmol/L", "crcl": "80 mL/min"}
    assert fires(rules, "risk-factors-present", **low, meds=["furosemide"])
    assert not fires(rules, "risk-factors-present", **low, meds=["omeprazole"])


def test_a_rule_can_test_the_sex(tmp_path: Path) -> None:
    """decision.yaml documents {sex: {in: [...]}}; no shipped rule uses it yet."""
    rules = edited_rules(tmp_path, "when: {risk_factors: {empty: false}}",
                         "when: {sex: {in: [female]}}")
    low = {"mg": "0.6 mmol/L", "crcl": "80 mL/min"}
    assert fires(rules, "risk-factors-present", **low, sex="female")
    assert not fires(rules, "risk-factors-present", **low, sex="male")
    assert not fires(rules, "risk-factors-present", **low)


def test_a_steps_finding_is_reported_even_when_its_own_rule_is_silent(tmp_path: Path) -> None:
    """The finding a step names explains the status, so it is always shown, at its severity."""
    rules = edited_rules(tmp_path, "    title: Low magnesium\n    when: {is: low-mg}\n",
                         "    title: Low magnesium\n    when: {mg: {known: false}}\n")
    a = evaluate(parse_patient({"mg": "0.6 mmol/L", "crcl": "80 mL/min"}, rules), rules)
    assert a.decided_by == "supplement"
    (finding,) = [f for f in a.findings if f.id == "hypomagnesemia"]
    assert finding.severity == "warning"
    assert finding.message.startswith("Serum magnesium 0.6 mmol/L is below")


def test_matched_with_nothing_matched_reads_none(tmp_path: Path) -> None:
    rules = edited_rules(tmp_path, 'message: "Risk factors for magnesium deficiency: '
                                   '{risk_factors}."',
                         'message: "Risk factors: {risk_factors}; matched: {matched}."')
    a = evaluate(parse_patient({"mg": "0.6 mmol/L", "crcl": "80 mL/min", "age": 70}, rules),
                 rules)
    (message,) = [f.message for f in a.findings if f.id == "risk-factors-present"]
    assert message == "Risk factors: age 65 or over; matched: none."


# --- derived values and references as output --------------------------------------------------

def test_derived_values_are_canonical_and_rounded(assess: Callable[..., Assessment]) -> None:
    # 154 lb x 0.45359237 = 69.85322 kg (4 decimals kept); (140 - 40) x 69.853 / 72 = 97.02
    a = assess(mg="0.6 mmol/L", ca="2.3 mmol/L", creatinine="1.0 mg/dL", age=40, sex="male",
               weight="154 lb")
    assert a.derived.ca_mmol_l == 2.3
    assert a.derived.weight_kg == 69.8532
    assert a.derived.crcl_weight_kg == 69.9
    assert a.derived.crcl_ml_min == 97.0


def test_references_carry_their_identifiers(assess: Callable[..., Assessment]) -> None:
    a = assess(mg="0.6 mmol/L", creatinine="1.0 mg/dL", age=40, sex="male", weight="70 kg")
    ref = a.references[CG]
    assert (ref.doi, ref.pmid) == ("10.1159/000180580", "1244564")  # rules/references.yaml
    assert ref.citation.startswith("Cockcroft DW, Gault MH. Prediction of creatinine clearance")
    assert ref.caveat == "DOI and PMID seen in secondary sources only."
