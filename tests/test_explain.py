"""``assess --explain``: the trace of every rule, fired or not and why, with the patient's
values, the thresholds and the comparisons; and its agreement with the assessment."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from conftest import finding_ids
from hypothesis import HealthCheck, given, settings
from test_properties import Lab, lab_patients

from mgassist import RuleSet, evaluate, parse_patient
from mgassist._core.trace import ConditionTrace, RuleTrace, trace
from mgassist._shell.schemas import output_schema

Cli = Any


def entry(entries: tuple[RuleTrace, ...], kind: str, rid: str) -> RuleTrace:
    found = [e for e in entries if e.kind == kind and e.id == rid]
    assert len(found) == 1, (kind, rid)
    return found[0]


def leaves(node: ConditionTrace) -> list[ConditionTrace]:
    return [node] if not node.parts else [x for p in node.parts for x in leaves(p)]


def test_low_mg_in_mg_dl_shows_value_as_entered_canonical_and_boundary_comparison(
        rules: RuleSet) -> None:
    # 1.5 mg/dL = 1.5 / 2.4305 = 0.6172 mmol/L; mg-lln 0.70 mmol/L printed in mg/dL is
    # 0.70 x 2.4305 = 1.70 -> 1.7 (one decimal): the boundary rule compares 1.5 < 1.7 in mg/dL.
    patient = parse_patient({"mg": "1.5 mg/dL", "crcl": "80 mL/min", "k": "3.2 mmol/L"}, rules)
    entries = trace(patient, rules)
    step = entry(entries, "step", "supplement")
    assert step.fired and step.result is True
    assert step.effect.startswith("set the status: supplement")
    compare = next(leaf for leaf in leaves(step.condition or ConditionTrace(test="", result=None))
                   if leaf.test == "mg below mg-lln")
    assert compare.result is True
    assert compare.value == "1.5 mg/dL (0.62 mmol/L)"
    assert compare.canonical == 0.6172 and compare.canonical_unit == "mmol/L"
    assert compare.threshold == "mg-lln = 0.70 mmol/L"
    assert compare.compared == "1.5 < 1.7 mg/dL, as printed (boundary rule)"
    k = entry(entries, "finding", "correct-mg-before-k")
    assert k.fired and k.effect == "reported (warning)"
    k_leaf = [leaf for leaf in leaves(k.condition) if leaf.test == "k below k-lln"]  # type: ignore[arg-type]
    assert k_leaf[0].threshold == "k-lln = 3.5 mmol/L"
    assert k_leaf[0].compared is not None and k_leaf[0].compared.startswith("3.2 < 3.5 mmol/L")


def test_steps_after_the_deciding_one_are_not_consulted(rules: RuleSet) -> None:
    # CrCl 15 < 20: renal-contraindication (step 6) decides; later steps are not evaluated.
    entries = trace(parse_patient({"mg": "0.6 mmol/L", "crcl": "15 mL/min"}, rules), rules)
    steps = [e for e in entries if e.kind == "step"]
    assert [s.id for s in steps] == [s.id for s in rules.steps]
    deciding = [s for s in steps if s.fired]
    assert [s.id for s in deciding] == ["renal-contraindication"]
    position = steps.index(deciding[0])
    assert all(not s.evaluated and s.condition is None and "not consulted" in s.effect
               for s in steps[position + 1:])
    assert all(s.evaluated and s.result is not True for s in steps[:position])
    crcl = leaves(deciding[0].condition)[0]  # type: ignore[arg-type]
    assert crcl.value == "15 mL/min (reported)"
    assert crcl.threshold == "crcl-contraindicated = 20 mL/min"
    assert crcl.compared is not None and crcl.compared.startswith("15 < 20 mL/min")
    regimen = entry(entries, "regimen", "none")
    assert not regimen.fired and "contraindicated" in regimen.effect


def test_unknown_values_are_unknown_not_false(rules: RuleSet) -> None:
    # No age: adults-only compares an unknown value; the result is unknown (null), not false.
    entries = trace(parse_patient({"mg": "0.6 mmol/L", "crcl": "80 mL/min"}, rules), rules)
    adults = entry(entries, "step", "adults-only")
    assert adults.evaluated and adults.result is None and not adults.fired
    assert adults.condition is not None and adults.condition.value == "not given"


def test_cockcroft_gault_crcl_is_traced_with_its_method(rules: RuleSet) -> None:
    # CG = (140 - 60) x 72 / (72 x 1.0) = 80.0 mL/min (male, no height: actual weight)
    patient = parse_patient({"mg": "0.6 mmol/L", "creatinine": "1.0 mg/dL", "age": 60,
                             "sex": "male", "weight": "72 kg"}, rules)
    step = entry(trace(patient, rules), "step", "supplement")
    crcl = [leaf for leaf in leaves(step.condition) if leaf.test.startswith("crcl")]  # type: ignore[arg-type]
    assert crcl[0].value == "80.0 mL/min (Cockcroft-Gault)" and crcl[0].canonical == 80.0
    assert crcl[0].compared == "80 >= 60 mL/min"


def test_risk_factor_and_detail_entries(rules: RuleSet) -> None:
    patient = parse_patient({"mg": "0.6 mmol/L", "crcl": "80 mL/min", "meds": ["furosemide"],
                             "conditions": ["volume-depletion", "chronic-diarrhea"]}, rules)
    entries = trace(patient, rules)
    loop = entry(entries, "risk-factor", "loop-diuretic")
    assert loop.fired and loop.condition is not None
    assert loop.condition.value == "loop-diuretic" and loop.condition.compared == \
        "in both: loop-diuretic"
    assert not entry(entries, "risk-factor", "ppi").fired
    detail = entry(entries, "detail", "correct-volume-first.details[0]")
    assert detail.fired and detail.effect == "shown"
    spasm = entry(entries, "detail", "no-evidence-for-spasm.details[0]")
    assert not spasm.evaluated and "finding is not reported" in spasm.effect


def test_order_is_the_engines(rules: RuleSet) -> None:
    entries = trace(parse_patient({"mg": "0.6 mmol/L", "crcl": "80 mL/min"}, rules), rules)
    assert [e.order for e in entries] == list(range(1, len(entries) + 1))
    kinds = [e.kind for e in entries]
    first = {k: kinds.index(k) for k in dict.fromkeys(kinds)}
    assert first["risk-factor"] < first["step"] < first["finding"] < first["regimen"] \
        < first["monitoring-reason"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lab_patients())
def test_trace_agrees_with_the_assessment(rules: RuleSet, lab: Lab) -> None:
    patient = parse_patient(lab.raw, rules)
    assessment = evaluate(patient, rules)
    entries = trace(patient, rules)
    deciding = [e.id for e in entries if e.kind == "step" and e.fired]
    assert deciding == [assessment.decided_by]
    reported = {e.id for e in entries if e.kind == "finding" and e.fired}
    assert reported == finding_ids(assessment)
    regimen = [e for e in entries if e.kind == "regimen"][0]
    assert regimen.id == (assessment.regimen.dose_basis.value if assessment.regimen else "none")
    if assessment.monitoring is not None:
        reasons = [e.id for e in entries if e.kind == "monitoring-reason" and e.fired]
        assert [r for r in assessment.monitoring.more_often_because
                if any(r.startswith(x) for x in reasons)] == \
            assessment.monitoring.more_often_because


def test_cli_text_and_json(cli: Cli) -> None:
    args = ["assess", "--mg", "0.6 mmol/L", "--crcl", "25 mL/min"]
    plain = cli(*args)
    explained = cli(*args, "--explain")
    assert plain.exit_code == explained.exit_code == 0
    assert explained.stdout.startswith(plain.stdout)  # the report, unchanged, then the trace
    tail = explained.stdout[len(plain.stdout):]
    assert "Explanation: every rule in evaluation order" in tail
    assert "step renal-caution-severe: true -> set the status: supplement-with-caution" in tail
    assert "crcl below crcl-caution-severe: true  [value 25 mL/min (reported); threshold " \
           "crcl-caution-severe = 30 mL/min; 25 < 30 mL/min, as printed (boundary rule)]" in tail
    assert "step supplement: - -> not consulted" in tail

    data = json.loads(cli(*args, "--json", "--explain").stdout)
    without = json.loads(cli(*args, "--json").stdout)
    assert {k: v for k, v in data.items() if k != "explain"} == without
    assert "explain" not in without
    jsonschema.validate(data, output_schema())
    decided = [e for e in data["explain"] if e["kind"] == "step" and e["fired"]]
    assert [e["id"] for e in decided] == ["renal-caution-severe"]
