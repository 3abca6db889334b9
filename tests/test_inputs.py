"""Patient input, through the CLI and through parse_patient (clinical-spec "Inputs").

Every unusable value exits 2, names the field, shows the value and what is accepted, and never
prints a traceback; with --json the same error is also a JSON object on stdout. Every accepted
spelling is read into the right canonical value (expected values computed from the spec's molar
masses: Mg 24.305 g/mol, creatinine 113.12 g/mol, 1 lb = 0.45359237 kg, 1 in = 2.54 cm).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mgassist import InputErrors, RuleSet, parse_patient

Cli = Callable[..., Any]

MG_G_PER_MOL = 24.305
CREATININE_G_PER_MOL = 113.12
KG_PER_LB = 0.45359237
CM_PER_IN = 2.54

# The other names a field may go by in an error: the flag's spelling or the JSON key.
FIELD_NAMES = {
    "meds": {"meds", "med"},
    "conditions": {"conditions", "condition"},
    "symptoms": {"symptoms", "symptom"},
    "crcl_weight": {"crcl_weight", "crcl-weight"},
    "current_dose": {"current_dose", "current-dose"},
    "days_on_dose": {"days_on_dose", "days-on-dose"},
}


@pytest.fixture(autouse=True)
def _bundled_rules_loaded_once(rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reuse the session's bundled rules: each CLI call would otherwise reload them (~0.3 s).

    Only the default (bundled) rule set is reused; ``--rules PATH`` still loads PATH.
    """
    from mgassist import _rules_loader

    original = _rules_loader.load_rules

    def load(path: Path | str | None = None) -> RuleSet:
        return rules if path is None else original(path)

    monkeypatch.setattr(_rules_loader, "load_rules", load)


def names_of(field: str) -> set[str]:
    return FIELD_NAMES.get(field, {field})


def mentions_field(text: str, field: str) -> bool:
    """``field`` as a word of its own: ``mg`` in ``mg: ...``, not the ``mg`` of ``mg/dL``."""
    return any(re.search(rf"(?<![\w/-]){re.escape(name)}(?![\w/-])", text)
               for name in names_of(field))


def mentions_number(text: str, number: str) -> bool:
    """``number`` as a number of its own: ``5`` in ``5 mmol/L``, not in ``0.5`` or ``5.01``."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?!\d|\.\d)", text) is not None


def refused(cli: Cli, *args: str) -> Any:
    """Run ``assess ARGS``; assert exit 2 without a traceback; return the result."""
    result = cli("assess", *args)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.strip(), "no message on stderr"
    return result


def refused_json(cli: Cli, *args: str, listed: bool = True) -> dict[str, Any]:
    """Run ``assess ARGS --json``; assert exit 2 and the JSON error contract; return it.

    ``listed``: input errors also come as an ``errors`` list (every bad field).
    """
    result = refused(cli, *args, "--json")
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    error = data["error"]
    assert isinstance(error, dict)
    assert isinstance(error["field"], str) and error["field"]
    assert isinstance(error["message"], str) and error["message"]
    if not listed:
        return data
    assert isinstance(data["errors"], list) and data["errors"]
    for item in data["errors"]:
        assert isinstance(item["field"], str) and isinstance(item["message"], str)
    assert error in data["errors"]
    return data


def check_refusal(cli: Cli, args: tuple[str, ...], field: str, value: str,
                  accepted: tuple[str, ...]) -> str:
    """The whole contract for one bad value; returns the stderr text."""
    result = refused(cli, *args)
    stderr = result.stderr
    assert mentions_field(stderr, field), stderr
    assert value in stderr, stderr
    for word in accepted:
        assert re.search(word, stderr), (word, stderr)
    data = refused_json(cli, *args)
    assert data["error"]["field"] in names_of(field), data
    assert value in data["error"]["message"], data
    return str(stderr)


MG_UNITS = ("mmol/L", "mEq/L", "mg/dL")
UMOL = r"[uµμ]mol/L"

BAD_INPUTS = [
    # a bare number: units are never guessed
    pytest.param(("--mg", "0.6"), "mg", "0.6", MG_UNITS, id="bare-mg"),
    pytest.param(("--k", "3.4"), "k", "3.4", ("mmol/L", "mEq/L"), id="bare-k"),
    pytest.param(("--ca", "2.3"), "ca", "2.3", MG_UNITS, id="bare-ca"),
    pytest.param(("--creatinine", "1.1"), "creatinine", "1.1", ("mg/dL", UMOL),
                 id="bare-creatinine"),
    pytest.param(("--crcl", "80"), "crcl", "80", ("mL/min",), id="bare-crcl"),
    pytest.param(("--weight", "70"), "weight", "70", ("kg", "lb"), id="bare-weight"),
    pytest.param(("--height", "170"), "height", "170", ("cm",), id="bare-height"),
    pytest.param(("--current-dose", "12"), "current_dose", "12", ("mmol/day", "mg/day"),
                 id="bare-current-dose"),
    # unknown units
    pytest.param(("--mg", "0.6 mmol/dl2"), "mg", "0.6 mmol/dl2", MG_UNITS, id="unit-mmol/dl2"),
    pytest.param(("--mg", "0.6 foo"), "mg", "0.6 foo", MG_UNITS, id="unit-foo"),
    # a unit of the wrong dimension
    pytest.param(("--mg", "0.6 mL/min"), "mg", "0.6 mL/min", MG_UNITS, id="mg-as-flow"),
    pytest.param(("--crcl", "80 mg/dL"), "crcl", "80 mg/dL", ("mL/min",), id="crcl-as-mass-conc"),
    pytest.param(("--weight", "70 cm"), "weight", "70 cm", ("kg", "lb"), id="weight-as-length"),
    pytest.param(("--height", "170 kg"), "height", "170 kg", ("cm",), id="height-as-mass"),
    pytest.param(("--current-dose", "12 mmol/L"), "current_dose", "12 mmol/L",
                 ("mmol/day", "mg/day"), id="dose-as-concentration"),
    # not a finite number
    pytest.param(("--mg", "nan mmol/L"), "mg", "nan mmol/L", ("mEq/L", "mg/dL"), id="nan"),
    pytest.param(("--mg", "NaN mmol/L"), "mg", "NaN mmol/L", ("mEq/L", "mg/dL"), id="NaN"),
    pytest.param(("--mg", "inf mmol/L"), "mg", "inf mmol/L", ("mEq/L", "mg/dL"), id="inf"),
    pytest.param(("--mg", "-inf mmol/L"), "mg", "-inf mmol/L", ("mEq/L", "mg/dL"), id="-inf"),
    pytest.param(("--age", "nan"), "age", "nan", (), id="nan-age"),
    # a comma as the decimal mark, and a unit without a number
    pytest.param(("--mg", "0,6 mmol/L"), "mg", "0,6 mmol/L", ("mEq/L", "mg/dL"), id="comma"),
    pytest.param(("--mg", "mmol/L"), "mg", "mmol/L", ("mEq/L", "mg/dL"), id="unit-only"),
    # closed choices
    pytest.param(("--sex", "x"), "sex", "x", ("female", "male"), id="sex"),
    pytest.param(("--crcl-weight", "lean"), "crcl_weight", "lean",
                 ("auto", "actual", "ideal", "adjusted"), id="crcl-weight"),
]


@pytest.mark.parametrize(("args", "field", "value", "accepted"), BAD_INPUTS)
def test_bad_input_exits_2_naming_field_value_and_what_is_accepted(
    cli: Cli, args: tuple[str, ...], field: str, value: str, accepted: tuple[str, ...]
) -> None:
    check_refusal(cli, args, field, value, accepted)


def test_near_miss_unit_suggests_the_accepted_unit(cli: Cli) -> None:
    stderr = check_refusal(cli, ("--mg", "0.6 mmol"), "mg", "0.6 mmol", MG_UNITS)
    assert re.search(r"did you mean\W*mmol/L", stderr, re.I), stderr


# Zero and negative laboratory values are errors; the message says what range is accepted.
ZERO_OR_NEGATIVE = [
    ("--mg", "mg", "0 mmol/L", ("0.1", "5")),
    ("--mg", "mg", "-1 mmol/L", ("0.1", "5")),
    ("--mg", "mg", "0 mg/dL", ("0.1", "5")),
    ("--k", "k", "0 mmol/L", ("1", "10")),
    ("--k", "k", "-3.5 mEq/L", ("1", "10")),
    ("--ca", "ca", "0 mmol/L", ("0.5", "5")),
    ("--creatinine", "creatinine", "0 mg/dL", ("0.1", "25")),
    ("--creatinine", "creatinine", "-80 umol/L", ("0.1", "25")),
    ("--crcl", "crcl", "0 mL/min", ("1", "250")),
    ("--crcl", "crcl", "-10 mL/min", ("1", "250")),
]


@pytest.mark.parametrize(("flag", "field", "value", "limits"), ZERO_OR_NEGATIVE,
                         ids=[f"{c[1]}={c[2]}" for c in ZERO_OR_NEGATIVE])
def test_zero_and_negative_lab_values_are_refused(
    cli: Cli, flag: str, field: str, value: str, limits: tuple[str, str]
) -> None:
    stderr = check_refusal(cli, (flag, value), field, value, ())
    for limit in limits:
        assert mentions_number(stderr, limit), (limit, stderr)


# Plausibility limits (spec): (flag, field, (min, max) as the spec writes them, values just
# outside, values just inside). Values in other units were converted by hand:
#   Mg 5 mmol/L = 12.15 mg/dL = 10 mEq/L; 0.1 mmol/L = 0.243 mg/dL = 0.2 mEq/L
#   Ca 5 mmol/L = 20.04 mg/dL = 10 mEq/L; 0.5 mmol/L = 2.004 mg/dL = 1 mEq/L
#   creatinine 25 mg/dL = 2210 umol/L; 0.1 mg/dL = 8.84 umol/L
#   weight 20 kg = 44.09 lb; 400 kg = 881.8 lb
#   height 100 cm = 39.37 in = 1 m; 250 cm = 98.43 in = 2.5 m
#   current dose 100 mmol/day = 2430.5 mg/day
LIMITS = [
    ("--mg", "mg", ("0.1", "5"),
     ("0.09 mmol/L", "5.01 mmol/L", "0.2 mg/dL", "12.3 mg/dL", "0.1 mEq/L", "10.1 mEq/L"),
     ("0.1 mmol/L", "5 mmol/L", "0.3 mg/dL", "12.1 mg/dL", "0.2 mEq/L", "10.0 mEq/L")),
    ("--k", "k", ("1", "10"),
     ("0.9 mmol/L", "10.1 mmol/L", "0.9 mEq/L", "10.1 mEq/L"),
     ("1 mmol/L", "10 mmol/L", "1.0 mEq/L", "10 mEq/L")),
    ("--ca", "ca", ("0.5", "5"),
     ("0.49 mmol/L", "5.01 mmol/L", "1.9 mg/dL", "20.1 mg/dL", "0.9 mEq/L", "10.1 mEq/L"),
     ("0.5 mmol/L", "5 mmol/L", "2.1 mg/dL", "20.0 mg/dL", "1.0 mEq/L", "10 mEq/L")),
    ("--creatinine", "creatinine", ("0.1", "25"),
     ("0.09 mg/dL", "25.1 mg/dL", "8 umol/L", "2211 umol/L"),
     ("0.1 mg/dL", "25 mg/dL", "9 umol/L", "2210 umol/L")),
    ("--crcl", "crcl", ("1", "250"),
     ("0.9 mL/min", "250.5 mL/min"),
     ("1 mL/min", "250 mL/min")),
    ("--age", "age", ("0", "120"),
     ("-0.5", "120.5", "121"),
     ("0", "120")),
    ("--weight", "weight", ("20", "400"),
     ("19.9 kg", "400.1 kg", "44 lb", "882 lb"),
     ("20 kg", "400 kg", "45 lb", "881 lb")),
    ("--height", "height", ("100", "250"),
     ("99 cm", "251 cm", "39 in", "99 in", "0.99 m", "2.51 m"),
     ("100 cm", "250 cm", "40 in", "98 in", "1 m", "2.50 m")),
    ("--current-dose", "current_dose", ("0", "100"),
     ("-0.1 mmol/day", "100.1 mmol/day", "2431 mg/day"),
     ("0 mmol/day", "100 mmol/day", "2430 mg/day")),
    ("--days-on-dose", "days_on_dose", ("0", "3650"),
     ("-1", "3651"),
     ("0", "3650")),
]
OUTSIDE = [pytest.param(flag, field, limits, value, id=f"{field}={value}")
           for flag, field, limits, outside, _ in LIMITS for value in outside]
INSIDE = [pytest.param(flag, value, id=f"{flag[2:]}={value}")
          for flag, _, _, _, inside in LIMITS for value in inside]


@pytest.mark.parametrize(("flag", "field", "limits", "value"), OUTSIDE)
def test_value_just_outside_plausibility_limits_is_refused(
    cli: Cli, flag: str, field: str, limits: tuple[str, str], value: str
) -> None:
    stderr = check_refusal(cli, (flag, value), field, value, ())
    for limit in limits:
        assert mentions_number(stderr, limit), (limit, stderr)


@pytest.mark.parametrize(("flag", "value"), INSIDE)
def test_value_just_inside_plausibility_limits_is_accepted(
    cli: Cli, flag: str, value: str
) -> None:
    result = cli("assess", flag, value, "--json")
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)


UNKNOWN_TERMS = [
    pytest.param("--med", "meds", "furosemid", "furosemide", "loop-diuretic", id="med"),
    pytest.param("--condition", "conditions", "diabetis", "diabetes", "volume-depletion",
                 id="condition"),
    pytest.param("--symptom", "symptoms", "tetani", "tetany", "seizure", id="symptom"),
    pytest.param("--indication", "indication", "migrane", "migraine", "neck-spasm",
                 id="indication"),
]


@pytest.mark.parametrize(("flag", "field", "value", "suggestion", "an_id"), UNKNOWN_TERMS)
def test_unknown_term_is_refused_with_did_you_mean(
    cli: Cli, flag: str, field: str, value: str, suggestion: str, an_id: str
) -> None:
    stderr = check_refusal(cli, (flag, value), field, value, (an_id,))
    assert re.search(rf"did you mean\W*{re.escape(suggestion)}\b", stderr, re.I), stderr


def test_several_bad_fields_are_all_reported(cli: Cli) -> None:
    args = ("--mg", "0.6", "--k", "3.4 foo", "--sex", "q", "--med", "furosemid",
            "--crcl", "80 mg/dL")
    result = refused(cli, *args)
    for value in ("0.6", "3.4 foo", "q", "furosemid", "80 mg/dL"):
        assert value in result.stderr, (value, result.stderr)
    data = refused_json(cli, *args)
    reported = {item["field"] for item in data["errors"]}
    for field in ("mg", "k", "sex", "meds", "crcl"):
        assert reported & names_of(field), (field, reported)
    assert len(data["errors"]) == 5, data["errors"]


# -- accepted spellings ------------------------------------------------------------------------

SPELLINGS = [
    pytest.param(("--mg", "0.6 mg/dl"), "mg_mmol_l", 0.6 / (MG_G_PER_MOL / 10), id="mg/dl"),
    pytest.param(("--mg", "0.6 MMOL/L"), "mg_mmol_l", 0.6, id="MMOL/L"),
    pytest.param(("--mg", "0.6 mmol/l"), "mg_mmol_l", 0.6, id="mmol/l"),
    pytest.param(("--mg", "1.2 meq/L"), "mg_mmol_l", 0.6, id="meq/L"),
    pytest.param(("--mg", "1.2 MEQ/L"), "mg_mmol_l", 0.6, id="MEQ/L"),
    pytest.param(("--mg", "1.5mg/dL"), "mg_mmol_l", 1.5 / (MG_G_PER_MOL / 10), id="no-space"),
    pytest.param(("--mg", "1.5 MG/DL"), "mg_mmol_l", 1.5 / (MG_G_PER_MOL / 10), id="MG/DL"),
    pytest.param(("--k", "3.4 mEq/L"), "k_mmol_l", 3.4, id="k-mEq/L"),
    pytest.param(("--creatinine", "88.4 \u00b5mol/L"), "creatinine_mg_dl",
                 88.4 * CREATININE_G_PER_MOL / 10_000, id="micro-sign"),
    pytest.param(("--creatinine", "88.4 \u03bcmol/L"), "creatinine_mg_dl",
                 88.4 * CREATININE_G_PER_MOL / 10_000, id="greek-mu"),
    pytest.param(("--creatinine", "88.4 umol/L"), "creatinine_mg_dl",
                 88.4 * CREATININE_G_PER_MOL / 10_000, id="umol/L"),
    pytest.param(("--creatinine", "88.4 UMOL/L"), "creatinine_mg_dl",
                 88.4 * CREATININE_G_PER_MOL / 10_000, id="UMOL/L"),
    pytest.param(("--crcl", "80 ml/min"), "crcl_ml_min", 80.0, id="ml/min"),
]


@pytest.mark.parametrize(("args", "key", "expected"), SPELLINGS)
def test_unit_spellings_are_accepted_and_converted(
    cli_json: Callable[..., dict[str, Any]], args: tuple[str, ...], key: str, expected: float
) -> None:
    data = cli_json(*args)
    assert data["derived"][key] == pytest.approx(expected, rel=1e-3)


# Cockcroft-Gault with actual weight (no height): CrCl = (140 - 40) x kg / (72 x 1 mg/dL).
# CrCl and BMI may be printed to one decimal (rounded or truncated), hence abs=0.1.
CG_MAN_40 = ("--mg", "0.6 mmol/L", "--age", "40", "--sex", "male", "--creatinine", "1 mg/dL")


@pytest.mark.parametrize("weight", ["154 lb", "154 lbs", "154 LB", "154lb"])
def test_weight_in_pounds_is_accepted(
    cli_json: Callable[..., dict[str, Any]], weight: str
) -> None:
    data = cli_json(*CG_MAN_40, "--weight", weight)
    expected = 100 * 154 * KG_PER_LB / 72
    assert data["derived"]["crcl_method"] == "cockcroft-gault"
    assert data["derived"]["crcl_ml_min"] == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize(("height", "metres"), [
    ("67 in", 67 * CM_PER_IN / 100),
    ("1.7 m", 1.7),
    ("170 cm", 1.7),
    ("170 CM", 1.7),
])
def test_height_in_inches_metres_and_cm_is_accepted(
    cli_json: Callable[..., dict[str, Any]], height: str, metres: float
) -> None:
    data = cli_json(*CG_MAN_40, "--weight", "70 kg", "--height", height)
    assert data["derived"]["bmi"] == pytest.approx(70 / metres**2, abs=0.1)


# -- JSON-style input through parse_patient ----------------------------------------------------

def input_errors(raw: dict[str, Any], rules: RuleSet) -> list[Any]:
    with pytest.raises(InputErrors) as info:
        parse_patient(raw, rules)
    return list(info.value.errors)


def test_value_unit_object_is_accepted(rules: RuleSet) -> None:
    patient = parse_patient({"mg": {"value": 0.62, "unit": "mmol/L"}}, rules)
    assert patient.mg is not None
    assert patient.mg.canonical == pytest.approx(0.62)
    converted = parse_patient({"mg": {"value": 1.5, "unit": "mg/dL"}}, rules)
    assert converted.mg is not None
    assert converted.mg.canonical == pytest.approx(1.5 / (MG_G_PER_MOL / 10), rel=1e-4)


@pytest.mark.parametrize("value", [0.62, 1, "0.62"])
def test_bare_number_for_mg_is_refused_in_json_input(rules: RuleSet, value: Any) -> None:
    errors = input_errors({"mg": value}, rules)
    assert [e.field for e in errors] == ["mg"]
    assert "mmol/L" in str(errors[0])


@pytest.mark.parametrize("value", [{"value": "0.62", "unit": "mmol/L"}, {"value": 0.62},
                                   {"value": 0.62, "unit": "mmol/L", "extra": 1}, True])
def test_malformed_quantity_object_is_refused(rules: RuleSet, value: Any) -> None:
    errors = input_errors({"mg": value}, rules)
    assert [e.field for e in errors] == ["mg"]


def test_number_for_age_and_days_is_accepted(rules: RuleSet) -> None:
    patient = parse_patient({"age": 67, "days_on_dose": 14}, rules)
    assert patient.age is not None and patient.age.canonical == 67
    assert patient.days_on_dose is not None and patient.days_on_dose.canonical == 14


@pytest.mark.parametrize(("key", "suggestion"), [
    ("magnesium", "mg"),
    ("creatinin", "creatinine"),
    ("crcl-weight", "crcl_weight"),
])
def test_unknown_key_is_refused_with_a_suggestion(
    rules: RuleSet, key: str, suggestion: str
) -> None:
    errors = input_errors({key: "0.62 mmol/L"}, rules)
    assert [e.field for e in errors] == [key]
    assert re.search(rf"did you mean\W*{re.escape(suggestion)}\b", str(errors[0])), errors[0]


@pytest.mark.parametrize("meds", [["furosemide", "omeprazole"], "furosemide;omeprazole",
                                  "furosemide; omeprazole"])
def test_meds_as_list_or_semicolon_string(rules: RuleSet, meds: Any) -> None:
    patient = parse_patient({"meds": meds}, rules)
    assert {m.value for m in patient.meds} == {"loop-diuretic", "ppi"}


@pytest.mark.parametrize(("drug", "med_class"), [
    ("furosemide", "loop-diuretic"),
    ("Furosemide", "loop-diuretic"),
    ("omeprazole", "ppi"),
    ("OMEPRAZOLE", "ppi"),
    ("tacrolimus", "calcineurin-inhibitor"),
    ("doxycycline", "tetracycline"),
    ("Ciprofloxacin", "fluoroquinolone"),
    ("alendronate", "bisphosphonate"),
    ("ALENDRONATE", "bisphosphonate"),
])
def test_drug_names_map_to_classes(rules: RuleSet, drug: str, med_class: str) -> None:
    patient = parse_patient({"meds": [drug]}, rules)
    assert [m.value for m in patient.meds] == [med_class]


def test_several_bad_json_fields_are_all_reported(rules: RuleSet) -> None:
    errors = input_errors({"mg": 0.6, "k": "3.4 foo", "sex": "q", "meds": ["furosemid"]}, rules)
    assert {e.field for e in errors} == {"mg", "k", "sex", "meds"}


# -- help, exit codes, --rules -----------------------------------------------------------------

def test_python_dash_m_help_works(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mgassist", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "assess" in done.stdout
    assert "Traceback" not in done.stderr


def test_assess_help_describes_exit_codes(cli: Cli) -> None:
    result = cli("assess", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert re.search(r"exit codes?", text, re.I), text
    assert re.search(r"\b0\b[^.;]*assessment", text, re.I), text
    assert re.search(r"\b2\b[^.;]*invalid input", text, re.I), text


def test_bad_rules_path_exits_2_with_a_message(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-rules"
    result = refused(cli, "--mg", "0.6 mmol/L", "--rules", str(missing))
    assert str(missing) in result.stderr
    data = refused_json(cli, "--mg", "0.6 mmol/L", "--rules", str(missing), listed=False)
    assert data["error"]["field"] == "rules"
    assert str(missing) in data["error"]["message"]


def test_broken_rules_given_to_assess_exit_2_with_file_and_line(
    cli: Cli, tmp_path: Path
) -> None:
    from mgassist._rules_loader import bundled_rules_path

    for source in bundled_rules_path().glob("*.yaml"):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    text = (tmp_path / "findings.yaml").read_text(encoding="utf-8").rstrip("\n") + "\n"
    line = text.count("\n") + 1
    (tmp_path / "findings.yaml").write_text(text + "findngs_extra: true\n", encoding="utf-8")
    result = refused(cli, "--mg", "0.6 mmol/L", "--rules", str(tmp_path))
    assert re.search(rf"findings\.yaml:{line}\b", result.stderr), result.stderr
    assert "findngs_extra" in result.stderr
