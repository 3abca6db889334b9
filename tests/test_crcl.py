"""Creatinine clearance: Cockcroft-Gault, its weight basis, units, and how CrCl feeds the decision.

Every expected number below is worked out by hand from clinical-spec.md ("Units and thresholds",
CrCl paragraph), never copied from mgassist's output:

    CrCl = (140 - age) x weight / (72 x creatinine [mg/dL]), x 0.85 if female
    IBW (Devine) = 50 kg (male) / 45.5 kg (female) + 2.3 kg per inch over 60 in (1 in = 2.54 cm)
    auto: BMI < 18.5 -> actual; 18.5 <= BMI < 25 -> lesser of ideal and actual;
          BMI >= 25 -> adjusted = IBW + 0.4 x (actual - IBW); no height -> actual
    creatinine: 1 mg/dL = 88.4 umol/L (113.12 g/mol); 1 lb = 0.45359237 kg

The output rounds CrCl, BMI and IBW to one decimal, so comparisons allow 0.06.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import finding_ids

from mgassist import Assessment, InputErrors, RuleSet, parse_patient

TOL = 0.06  # float slack for values printed unrounded (ideal body weight)


def truncated(exact: float) -> Callable[[float], bool]:
    """CrCl and BMI are printed truncated to one decimal (never rounded up, so a value just
    below a limit stays below it): the shown value is within 0.1 below the exact one."""
    return lambda shown: exact - 0.1 - 1e-9 < shown <= exact + 1e-9

LOW_MG = "0.6 mmol/L"  # below the LLN 0.70 and above the severe limit 0.50


def _check(
    a: Assessment,
    *,
    crcl: float,
    basis: str,
    bmi: float | None,
    ibw: float | None,
) -> None:
    d = a.derived
    assert d.crcl_method == "cockcroft-gault"
    assert truncated(crcl)(d.crcl_ml_min), (d.crcl_ml_min, crcl)
    assert truncated(crcl)(d.crcl_cockcroft_gault_ml_min), (d.crcl_cockcroft_gault_ml_min, crcl)
    assert d.crcl_weight_basis == basis
    if bmi is None:
        assert d.bmi is None
    else:
        assert truncated(bmi)(d.bmi), (d.bmi, bmi)
    if ibw is None:
        assert d.ideal_body_weight_kg is None
    else:
        assert d.ideal_body_weight_kg == pytest.approx(ibw, abs=TOL)


# --------------------------------------------------------------------------------------------
# Hand-checked Cockcroft-Gault examples
# --------------------------------------------------------------------------------------------

def test_no_height_uses_actual_weight_male(assess: Callable[..., Assessment]) -> None:
    # (140 - 60) x 70 / (72 x 1.0) = 5600 / 72 = 77.78 mL/min; no height -> actual, no BMI/IBW
    a = assess(mg=LOW_MG, creatinine="1.0 mg/dL", age=60, sex="male", weight="70 kg")
    _check(a, crcl=77.78, basis="actual", bmi=None, ibw=None)


def test_female_factor(assess: Callable[..., Assessment]) -> None:
    # 5600 / 72 = 77.78; x 0.85 = 66.11 mL/min
    a = assess(mg=LOW_MG, creatinine="1.0 mg/dL", age=60, sex="female", weight="70 kg")
    _check(a, crcl=66.11, basis="actual", bmi=None, ibw=None)


def test_auto_underweight_uses_actual(assess: Callable[..., Assessment]) -> None:
    # 170 cm, 50 kg: BMI = 50 / 1.70^2 = 50 / 2.89 = 17.30 (< 18.5) -> actual weight
    # IBW = 50 + 2.3 x (170 / 2.54 - 60) = 50 + 2.3 x 6.929 = 65.94 kg (reported, not used)
    # CrCl = 80 x 50 / 72 = 55.56 mL/min
    a = assess(mg=LOW_MG, creatinine="1.0 mg/dL", age=60, sex="male", weight="50 kg",
               height="170 cm")
    _check(a, crcl=55.56, basis="actual", bmi=17.30, ibw=65.94)


def test_auto_normal_bmi_ideal_below_actual_uses_ideal(assess: Callable[..., Assessment]) -> None:
    # 180 cm, 78 kg: BMI = 78 / 3.24 = 24.07 (18.5-25) -> lesser of ideal and actual
    # IBW = 50 + 2.3 x (180 / 2.54 - 60) = 50 + 2.3 x 10.866 = 74.99 kg < 78 -> ideal
    # CrCl = 80 x 74.99 / 72 = 83.32 mL/min
    a = assess(mg=LOW_MG, creatinine="1.0 mg/dL", age=60, sex="male", weight="78 kg",
               height="180 cm")
    _check(a, crcl=83.32, basis="ideal", bmi=24.07, ibw=74.99)


def test_auto_normal_bmi_actual_below_ideal_uses_actual(
        assess: Callable[..., Assessment]) -> None:
    # 180 cm, 65 kg: BMI = 65 / 3.24 = 20.06 (18.5-25); IBW 74.99 > 65 -> actual
    # CrCl = 80 x 65 / 72 = 72.22 mL/min
    a = assess(mg=LOW_MG, creatinine="1.0 mg/dL", age=60, sex="male", weight="65 kg",
               height="180 cm")
    _check(a, crcl=72.22, basis="actual", bmi=20.06, ibw=74.99)


def test_auto_overweight_uses_adjusted_male(assess: Callable[..., Assessment]) -> None:
    # 170 cm, 100 kg: BMI = 100 / 2.89 = 34.60 (>= 25) -> adjusted
    # IBW = 65.937; adjusted = 65.937 + 0.4 x (100 - 65.937) = 65.937 + 13.625 = 79.562 kg
    # CrCl = 80 x 79.562 / (72 x 1.2) = 6364.98 / 86.4 = 73.67 mL/min
    a = assess(mg=LOW_MG, creatinine="1.2 mg/dL", age=60, sex="male", weight="100 kg",
               height="170 cm")
    _check(a, crcl=73.67, basis="adjusted", bmi=34.60, ibw=65.94)


def test_auto_overweight_uses_adjusted_female(assess: Callable[..., Assessment]) -> None:
    # female 160 cm, 81 kg: BMI = 81 / 2.56 = 31.64 -> adjusted
    # IBW = 45.5 + 2.3 x (160 / 2.54 - 60) = 45.5 + 2.3 x 2.992 = 52.38 kg
    # adjusted = 52.382 + 0.4 x (81 - 52.382) = 52.382 + 11.447 = 63.829 kg
    # CrCl = 90 x 63.829 / (72 x 0.9) x 0.85 = 5744.62 / 64.8 x 0.85 = 88.65 x 0.85 = 75.35
    a = assess(mg=LOW_MG, creatinine="0.9 mg/dL", age=50, sex="female", weight="81 kg",
               height="160 cm")
    _check(a, crcl=75.35, basis="adjusted", bmi=31.64, ibw=52.38)


def test_auto_bmi_exactly_25_is_adjusted(assess: Callable[..., Assessment]) -> None:
    # 200 cm, 100 kg: BMI = 100 / 4 = 25.0 exactly -> ">= 25" band -> adjusted
    # IBW = 50 + 2.3 x (200 / 2.54 - 60) = 50 + 2.3 x 18.740 = 93.10 kg
    # adjusted = 93.102 + 0.4 x 6.898 = 95.861 kg; CrCl = 100 x 95.861 / 72 = 133.14 mL/min
    # (the lesser-of rule would have given 100 x 93.10 / 72 = 129.31)
    a = assess(mg=LOW_MG, creatinine="1.0 mg/dL", age=40, sex="male", weight="100 kg",
               height="200 cm")
    _check(a, crcl=133.14, basis="adjusted", bmi=25.0, ibw=93.10)


@pytest.mark.parametrize(
    ("basis", "crcl"),
    [
        # 170 cm, 100 kg, age 60, creatinine 1.2 mg/dL (divisor 72 x 1.2 = 86.4):
        ("actual", 92.59),  # 80 x 100 / 86.4
        ("ideal", 61.05),  # 80 x 65.937 / 86.4
        ("adjusted", 73.67),  # 80 x 79.562 / 86.4
        ("auto", 73.67),  # BMI 34.6 -> adjusted
    ],
)
def test_explicit_weight_basis(
        assess: Callable[..., Assessment], basis: str, crcl: float) -> None:
    a = assess(mg=LOW_MG, creatinine="1.2 mg/dL", age=60, sex="male", weight="100 kg",
               height="170 cm", crcl_weight=basis)
    expected_basis = "adjusted" if basis == "auto" else basis
    _check(a, crcl=crcl, basis=expected_basis, bmi=34.60, ibw=65.94)


def test_explicit_ideal_wins_over_bmi_band(assess: Callable[..., Assessment]) -> None:
    # underweight 170 cm / 50 kg (auto would take actual): ideal asked -> IBW 65.937 kg
    # CrCl = 80 x 65.937 / 72 = 73.26 mL/min
    a = assess(mg=LOW_MG, creatinine="1.0 mg/dL", age=60, sex="male", weight="50 kg",
               height="170 cm", crcl_weight="ideal")
    _check(a, crcl=73.26, basis="ideal", bmi=17.30, ibw=65.94)


def test_explicit_actual_without_height_is_accepted(assess: Callable[..., Assessment]) -> None:
    # 80 x 70 / 72 = 77.78
    a = assess(mg=LOW_MG, creatinine="1.0 mg/dL", age=60, sex="male", weight="70 kg",
               crcl_weight="actual")
    _check(a, crcl=77.78, basis="actual", bmi=None, ibw=None)


@pytest.mark.parametrize("unit", ["umol/L", "µmol/L", "UMOL/L", "μmol/l"])
def test_creatinine_in_umol(assess: Callable[..., Assessment], unit: str) -> None:
    # 106 umol/L / 88.4 = 1.1991 mg/dL (113.12 g/mol: 106 x 0.011312 = 1.1991)
    # CrCl = 80 x 70 / (72 x 1.1991) = 5600 / 86.333 = 64.86 mL/min
    a = assess(mg=LOW_MG, creatinine=f"106 {unit}", age=60, sex="male", weight="70 kg")
    assert a.derived.creatinine_mg_dl == pytest.approx(1.1991, abs=2e-4)
    _check(a, crcl=64.86, basis="actual", bmi=None, ibw=None)


def test_creatinine_micro_sign_female(assess: Callable[..., Assessment]) -> None:
    # 88.4 umol/L = 1.000 mg/dL; CrCl = 80 x 70 / 72 x 0.85 = 66.11 mL/min
    a = assess(mg=LOW_MG, creatinine="88.4 µmol/L", age=60, sex="female", weight="70 kg")
    assert a.derived.creatinine_mg_dl == pytest.approx(1.0, abs=1e-3)
    _check(a, crcl=66.11, basis="actual", bmi=None, ibw=None)


def test_weight_in_lb(assess: Callable[..., Assessment]) -> None:
    # 154 lb x 0.45359237 = 69.853 kg; CrCl = 80 x 69.853 / 72 = 77.61 mL/min
    a = assess(mg=LOW_MG, creatinine="1.0 mg/dL", age=60, sex="male", weight="154 lb")
    assert a.derived.weight_kg == pytest.approx(69.853, abs=1e-3)
    _check(a, crcl=77.61, basis="actual", bmi=None, ibw=None)


def test_height_in_inches(assess: Callable[..., Assessment]) -> None:
    # 70 in = 177.8 cm; IBW = 50 + 2.3 x 10 = 73.0 kg; BMI = 90 / 1.778^2 = 90 / 3.1613 = 28.47
    # -> adjusted = 73 + 0.4 x (90 - 73) = 79.8 kg
    # CrCl = (140 - 50) x 79.8 / (72 x 1.1) = 7182 / 79.2 = 90.68 mL/min
    a = assess(mg=LOW_MG, creatinine="1.1 mg/dL", age=50, sex="male", weight="90 kg",
               height="70 in")
    assert a.derived.height_cm == pytest.approx(177.8, abs=1e-6)
    _check(a, crcl=90.68, basis="adjusted", bmi=28.47, ibw=73.0)


def test_height_in_metres(assess: Callable[..., Assessment]) -> None:
    # female 1.6 m = 160 cm, 60 kg: BMI = 60 / 2.56 = 23.44 -> lesser of ideal and actual
    # IBW = 45.5 + 2.3 x 2.992 = 52.38 kg < 60 -> ideal
    # CrCl = (140 - 70) x 52.382 / (72 x 0.8) x 0.85 = 3666.73 / 57.6 x 0.85 = 54.11 mL/min
    a = assess(mg=LOW_MG, creatinine="0.8 mg/dL", age=70, sex="female", weight="60 kg",
               height="1.6 m")
    assert a.derived.height_cm == pytest.approx(160.0, abs=1e-6)
    _check(a, crcl=54.11, basis="ideal", bmi=23.44, ibw=52.38)


def test_derived_crcl_drives_the_decision(assess: Callable[..., Assessment]) -> None:
    # female no height: 80 x 70 / (72 x 2.0) x 0.85 = 38.89 x 0.85 = 33.06 -> 30 <= CrCl < 60
    # with low Mg -> supplement-with-caution (renal-dose-reduction)
    a = assess(mg=LOW_MG, creatinine="2.0 mg/dL", age=60, sex="female", weight="70 kg")
    _check(a, crcl=33.06, basis="actual", bmi=None, ibw=None)
    assert a.status == "supplement-with-caution"
    assert "renal-dose-reduction" in finding_ids(a)
    # male, creatinine 5.0: 80 x 70 / 360 = 15.56 < 20 -> contraindicated, no regimen
    b = assess(mg=LOW_MG, creatinine="5.0 mg/dL", age=60, sex="male", weight="70 kg")
    _check(b, crcl=15.56, basis="actual", bmi=None, ibw=None)
    assert b.status == "contraindicated"
    assert "renal-contraindication" in finding_ids(b)
    assert b.regimen is None


@pytest.mark.parametrize(
    ("weight", "crcl", "status", "finding"),
    [
        # male, 40 y, creatinine 5.0 mg/dL, no height: CrCl = 100 x W / 360 = W / 3.6
        ("71.856 kg", 19.96, "contraindicated", "renal-contraindication"),  # 71.856 / 3.6
        ("107.856 kg", 29.96, "supplement-with-caution", "renal-caution-severe"),  # / 3.6
        ("215.856 kg", 59.96, "supplement-with-caution", "renal-dose-reduction"),  # / 3.6
    ],
)
def test_derived_crcl_just_below_a_limit_is_below_it(
        assess: Callable[..., Assessment], weight: str, crcl: float, status: str,
        finding: str) -> None:
    # The spec compares the Cockcroft-Gault CrCl itself with 20 / 30 / 60 mL/min; 19.96 is
    # below 20 (the boundary rule is about values printed on a lab report, and a reported
    # "19.96 mL/min" is contraindicated too). Rounding for display must not move the decision.
    a = assess(mg=LOW_MG, creatinine="5.0 mg/dL", age=40, sex="male", weight=weight)
    assert a.derived.crcl_method == "cockcroft-gault"
    assert truncated(crcl)(a.derived.crcl_cockcroft_gault_ml_min)
    assert a.status == status
    assert finding in finding_ids(a)
    if status == "contraindicated":
        assert a.regimen is None
    reported = assess(mg=LOW_MG, crcl=f"{crcl} mL/min")
    assert reported.status == status


def test_cli_reports_cockcroft_gault(cli_json: Callable[..., dict[str, Any]]) -> None:
    # same as the overweight male: 170 cm, 100 kg, 60 y, 1.2 mg/dL -> adjusted, 73.67 mL/min
    data = cli_json("--mg", LOW_MG, "--creatinine", "1.2 mg/dL", "--age", "60", "--sex", "male",
                    "--weight", "100 kg", "--height", "170 cm")
    derived = data["derived"]
    assert derived["crcl_method"] == "cockcroft-gault"
    assert derived["crcl_weight_basis"] == "adjusted"
    assert truncated(73.67)(derived["crcl_ml_min"]), (derived["crcl_ml_min"], 73.67)
    assert truncated(34.60)(derived["bmi"]), (derived["bmi"], 34.60)


# --------------------------------------------------------------------------------------------
# External cases: MedCalc-Bench
# --------------------------------------------------------------------------------------------
# Data: MedCalc-Bench (Khandekar N. et al., "MedCalc-Bench: Evaluating Large Language Models
# for Medical Calculations", NeurIPS 2024 Datasets and Benchmarks) and MedCalc-Bench-Verified,
# licensed CC-BY-SA 4.0. The 25 cases are a copy in tests/data/; its README.md there gives their
# provenance, attribution and licence.

MEDCALC = Path(__file__).parent / "data" / "medcalc-bench-crcl.jsonl"


def _medcalc_cases() -> list[dict[str, Any]]:
    with MEDCALC.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


_CASES = _medcalc_cases()


def test_medcalc_file_has_all_cases() -> None:
    assert len(_CASES) == 25
    assert len({c["id"] for c in _CASES}) == 25


@pytest.mark.parametrize("case", _CASES, ids=[c["id"] for c in _CASES])
def test_medcalc_bench_case(assess: Callable[..., Assessment], case: dict[str, Any]) -> None:
    raw = case["raw"]
    age_value, age_unit = raw["age"]
    assert age_unit == "years"
    patient = {
        "mg": "0.6 mmol/L",
        "sex": raw["sex"],
        "age": age_value,
        "weight": "{} {}".format(*raw["weight"]),
        "height": "{} {}".format(*raw["height"]),
        "creatinine": "{} {}".format(*raw["creatinine"]),
    }
    a = assess(**patient)
    assert a.derived.crcl_method == "cockcroft-gault"
    assert a.derived.crcl_ml_min is not None
    assert case["lower"] <= a.derived.crcl_ml_min <= case["upper"], (
        f"{case['id']}: CrCl {a.derived.crcl_ml_min} outside [{case['lower']}, {case['upper']}]"
        f" (ground truth {case['ground_truth_ml_min']})")


# --------------------------------------------------------------------------------------------
# Reported CrCl vs Cockcroft-Gault
# --------------------------------------------------------------------------------------------

_CG_INPUTS: dict[str, Any] = {
    # CG: 80 x 70 / 72 = 77.78 mL/min (no height -> actual weight)
    "creatinine": "1.0 mg/dL", "age": 60, "sex": "male", "weight": "70 kg",
}


def test_reported_crcl_wins_and_cg_still_computed(assess: Callable[..., Assessment]) -> None:
    a = assess(mg=LOW_MG, crcl="40 mL/min", **_CG_INPUTS)
    assert a.derived.crcl_method == "reported"
    assert a.derived.crcl_ml_min == pytest.approx(40.0)
    assert truncated(77.78)(a.derived.crcl_cockcroft_gault_ml_min)
    # the decision uses the reported 40 (30-60 band), not CG's 77.8 (which would be supplement)
    assert a.status == "supplement-with-caution"
    assert "renal-dose-reduction" in finding_ids(a)
    # 40 vs 77.8: differ by 37.8 mL/min, 94 % of 40 and 49 % of 77.8 -> > 25 % either way
    assert "crcl-discrepancy" in finding_ids(a)


def test_reported_crcl_below_20_contraindicates_even_if_cg_is_fine(
        assess: Callable[..., Assessment]) -> None:
    a = assess(mg=LOW_MG, crcl="15 mL/min", **_CG_INPUTS)
    assert a.derived.crcl_method == "reported"
    assert a.status == "contraindicated"
    assert a.regimen is None
    assert "crcl-discrepancy" in finding_ids(a)


def test_no_discrepancy_when_close(assess: Callable[..., Assessment]) -> None:
    # 70 vs 77.8: 7.8 mL/min = 11 % of 70, 10 % of 77.8 -> not > 25 %
    a = assess(mg=LOW_MG, crcl="70 mL/min", **_CG_INPUTS)
    assert a.derived.crcl_method == "reported"
    assert a.derived.crcl_ml_min == pytest.approx(70.0)
    assert truncated(77.78)(a.derived.crcl_cockcroft_gault_ml_min)
    assert a.status == "supplement"
    assert "crcl-discrepancy" not in finding_ids(a)


def test_no_discrepancy_without_cg_inputs(assess: Callable[..., Assessment]) -> None:
    a = assess(mg=LOW_MG, crcl="40 mL/min")
    assert a.derived.crcl_method == "reported"
    assert a.derived.crcl_cockcroft_gault_ml_min is None
    assert "crcl-discrepancy" not in finding_ids(a)


# --------------------------------------------------------------------------------------------
# Input errors, minors, incomplete inputs
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("basis", ["ideal", "adjusted"])
def test_ideal_or_adjusted_without_height_is_an_input_error(
        rules: RuleSet, cli: Callable[..., Any], basis: str) -> None:
    raw = {"mg": LOW_MG, "crcl_weight": basis, **_CG_INPUTS}
    with pytest.raises(InputErrors) as info:
        parse_patient(raw, rules)
    assert "crcl_weight" in {e.field for e in info.value.errors}

    args = ["assess", "--mg", LOW_MG, "--creatinine", "1.0 mg/dL", "--age", "60", "--sex",
            "male", "--weight", "70 kg", "--crcl-weight", basis]
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr == (f"error: --crcl-weight: '{basis}' needs a height (--height); "
                             "accepted: auto or actual without a height\n")  # the flag as typed
    assert "Traceback" not in result.stdout + result.stderr

    result = cli(*args, "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["field"] == "crcl_weight"


@pytest.mark.parametrize("basis", ["ideal", "adjusted"])
def test_ideal_or_adjusted_with_height_is_accepted(rules: RuleSet, basis: str) -> None:
    patient = parse_patient({"mg": LOW_MG, "crcl_weight": basis, "height": "170 cm",
                             **_CG_INPUTS}, rules)
    assert patient.crcl_weight == basis


@pytest.mark.parametrize("age", [17, 0, 12])
def test_minor_gets_no_cockcroft_gault(assess: Callable[..., Assessment], age: int) -> None:
    a = assess(mg=LOW_MG, creatinine="0.8 mg/dL", age=age, sex="male", weight="60 kg",
               height="170 cm")
    assert a.status == "out-of-scope"
    assert "out-of-scope-age" in finding_ids(a)
    assert a.derived.crcl_method is None
    assert a.derived.crcl_ml_min is None
    assert a.derived.crcl_cockcroft_gault_ml_min is None
    assert a.regimen is None
    assert a.monitoring is None


def test_age_18_is_adult_and_gets_cockcroft_gault(assess: Callable[..., Assessment]) -> None:
    # (140 - 18) x 60 / (72 x 0.8) = 7320 / 57.6 = 127.08 mL/min (no height -> actual)
    a = assess(mg=LOW_MG, creatinine="0.8 mg/dL", age=18, sex="male", weight="60 kg")
    assert a.status == "supplement"
    _check(a, crcl=127.08, basis="actual", bmi=None, ibw=None)


@pytest.mark.parametrize(
    "missing", ["sex", "age", "weight", "creatinine"],
)
def test_incomplete_cg_inputs_with_low_mg(
        assess: Callable[..., Assessment], missing: str) -> None:
    raw = {"mg": LOW_MG, "height": "170 cm", **_CG_INPUTS}
    del raw[missing]
    a = assess(**raw)
    assert a.status == "insufficient-data"
    assert "renal-function-required" in finding_ids(a)
    assert a.regimen is None
    assert a.monitoring is None
    assert a.derived.crcl_method is None
    assert a.derived.crcl_ml_min is None
