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
from conftest import ascii_id, run_console

from mgassist import InputErrors, RuleSet, parse_patient

Cli = Callable[..., Any]

MG_G_PER_MOL = 24.305
CREATININE_G_PER_MOL = 113.12
KG_PER_LB = 0.45359237
CM_PER_IN = 2.54

# How an error names a field (issue 15): on the command line by the flag as typed, in JSON by
# the key; either way followed by the quantity in words when the name does not say it. Written
# out by hand, not read from the rules.
LABELS = {"mg": "serum magnesium", "k": "serum potassium", "ca": "serum total calcium",
          "albumin": "serum albumin", "creatinine": "serum creatinine",
          "crcl": "creatinine clearance", "weight": "body weight",
          "current_dose": "elemental magnesium already taken per day",
          "days_on_dose": "days on the current magnesium dose"}
FLAG_OF = {"meds": "--med", "conditions": "--condition", "symptoms": "--symptom"}


def named(field: str, *, flag: bool = False) -> str:
    """``mg (serum magnesium)``, or with ``flag`` ``--mg (serum magnesium)``; ``egfr``."""
    name = FLAG_OF.get(field, "--" + field.replace("_", "-")) if flag else field
    return f"{name} ({LABELS[field]})" if field in LABELS else name


@pytest.fixture(autouse=True)
def _bundled_rules_loaded_once(rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reuse the session's bundled rules: each CLI call would otherwise reload them (~0.3 s).

    Only the default (bundled) rule set is reused; ``--rules PATH`` still loads PATH.
    """
    from mgassist._rulebook import loader as _rules_loader
    original = _rules_loader.load_rules

    def load(path: Path | str | None = None) -> RuleSet:
        return rules if path is None else original(path)

    monkeypatch.setattr(_rules_loader, "load_rules", load)


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
    assert stderr.startswith(f"error: {named(field, flag=True)}: "), stderr
    assert value in stderr, stderr
    for word in accepted:
        assert re.search(word, stderr), (word, stderr)
    data = refused_json(cli, *args)
    assert data["error"]["field"] == field, data
    assert data["error"]["message"].startswith(f"{named(field)}: "), data
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
    # medications are an open list: the error points to the list of names, not the class ids
    pytest.param("--med", "meds", "furosemid", "furosemide", "mgassist vocab meds", id="med"),
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
    # in field order, each named by its JSON key
    assert [item["field"] for item in data["errors"]] == ["mg", "k", "crcl", "sex", "meds"]


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
    from mgassist._rulebook.loader import bundled_rules_path

    for source in bundled_rules_path().glob("*.yaml"):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    text = (tmp_path / "findings.yaml").read_text(encoding="utf-8").rstrip("\n") + "\n"
    line = text.count("\n") + 1
    (tmp_path / "findings.yaml").write_text(text + "findngs_extra: true\n", encoding="utf-8")
    result = refused(cli, "--mg", "0.6 mmol/L", "--rules", str(tmp_path))
    assert re.search(rf"findings\.yaml:{line}\b", result.stderr), result.stderr
    assert "findngs_extra" in result.stderr


# -- revision 2: eGFR and albumin (clinical-spec revision 2, "New inputs", "Renal function") ---
#
# These run through the console entry point, ``mgassist`` as a clinician types it; one test
# below checks that the typer command (``assess --help``, ``--explain``) knows the two options
# too. Every message is written out in full, by hand.

class Console:
    """``mgassist ARGS`` through the console entry point: exit code, stdout and stderr."""

    def __call__(self, *args: str) -> Any:
        return _Result(*run_console(list(args)))


class _Result:
    def __init__(self, exit_code: int, stdout: str, stderr: str) -> None:
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch) -> Console:
    monkeypatch.setenv("MGASSIST_NO_CACHE", "1")  # the bundled rules patched in above
    return Console()


def assessed(console: Console, *args: str) -> dict[str, Any]:
    """``mgassist assess ARGS --json``: exit 0 and the JSON."""
    result = console("assess", *args, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def refused_exactly(console: Console, args: tuple[str, ...], field: str, message: str) -> None:
    """Exit 2 with exactly ``error: MESSAGE`` on stderr, MESSAGE naming the flag as typed; and as
    JSON the same message naming the JSON key ``field`` instead."""
    result = console("assess", *args)
    assert result.exit_code == 2 and result.stdout == "", result.stdout
    assert result.stderr == f"error: {message}\n", result.stderr
    flag = named(field, flag=True)
    assert message.startswith(f"{flag}: "), message
    data = json.loads(console("assess", *args, "--json").stdout)
    assert data["error"] == {"field": field, "message": named(field) + message[len(flag):]}
    assert data["errors"] == [data["error"]], data


EGFR_RANGE = "accepted: 1 to 200 mL/min/1.73m2"
ALBUMIN_RANGE = "accepted: 10 to 60 g/L"
EGFR_UNITS = "accepted: mL/min/1.73m2 (e.g. '45 mL/min/1.73m2')"
ALBUMIN_UNITS = "accepted: g/L, g/dL (e.g. '35 g/L')"


def _outside(name: str, value: str, accepted: str) -> str:
    return (f"{name}: '{value}' is outside the plausible range; check the value and its unit; "
            f"{accepted}")


# eGFR 1-200 mL/min/1.73m2 and albumin 10-60 g/L (= 1.0-6.0 g/dL): just outside, in every
# spelling and as a bound (a bound's number is checked like any value).
NEW_OUTSIDE = [
    *[pytest.param("--egfr", "egfr", value, _outside("--egfr", value, EGFR_RANGE),
                   id=f"egfr={value}")
      for value in ("0.9 mL/min/1.73m2", "200.5 mL/min/1.73 m\u00b2", "201 mL/min/{1.73_m2}",
                    "250 mL/min/1.73m\u00b2", "0.5 mL/min/1.73 m2", "300 mL/min/1.73m^2",
                    ">201 mL/min/1.73m2", "<0.5 mL/min/1.73m2", "\u2265 250 mL/min/1.73m2",
                    "\u2264 0.9 mL/min/1.73m2")],
    *[pytest.param("--albumin", "albumin", value,
                   _outside("--albumin (serum albumin)", value, ALBUMIN_RANGE),
                   id=f"albumin={value}")
      for value in ("9 g/L", "9.5 g/L", "61 g/L", "60.5 g/L", "0.9 g/dL", "6.1 g/dL",
                    "6.05 g/dL", "100 g/L")],
    pytest.param("--egfr", "egfr", "0 mL/min/1.73m2",
                 "--egfr: '0 mL/min/1.73m2' is zero or negative; it must be above zero; "
                 + EGFR_RANGE, id="egfr=0"),
    pytest.param("--egfr", "egfr", ">=0 mL/min/1.73m2",
                 "--egfr: '>=0 mL/min/1.73m2' is zero or negative; it must be above zero; "
                 + EGFR_RANGE, id="egfr=>=0"),
    pytest.param("--albumin", "albumin", "0 g/L",
                 "--albumin (serum albumin): '0 g/L' is zero or negative; it must be above "
                 "zero; " + ALBUMIN_RANGE, id="albumin=0"),
]


@pytest.mark.parametrize(("flag", "field", "value", "message"),
                         [pytest.param(*case.values, id=ascii_id(str(case.id)))
                          for case in NEW_OUTSIDE])
def test_egfr_and_albumin_outside_their_plausible_limits_are_refused(
    console: Console, flag: str, field: str, value: str, message: str
) -> None:
    refused_exactly(console, ("--mg", "0.6 mmol/L", flag, value), field, message)


@pytest.mark.parametrize(("flag", "field", "value"), [
    ("--egfr", "egfr", "-10 mL/min/1.73m2"), ("--albumin", "albumin", "-35 g/L")])
def test_negative_egfr_and_albumin_are_refused_in_json_input(
    rules: RuleSet, flag: str, field: str, value: str
) -> None:
    """(On the command line a value starting with '-' is read as an option.)"""
    (error,) = input_errors({field: value}, rules)
    name = {"egfr": "egfr", "albumin": "albumin (serum albumin)"}[field]
    limits = {"egfr": EGFR_RANGE, "albumin": ALBUMIN_RANGE}[field]
    assert str(error) == f"{name}: '{value}' is zero or negative; it must be above zero; {limits}"


# At the limits (inclusive) and just inside, in each unit: 1 g/dL = 10 g/L.
NEW_INSIDE = [
    ("--egfr", "1 mL/min/1.73m2", "egfr_ml_min_173", 1.0),
    ("--egfr", "200 mL/min/1.73m2", "egfr_ml_min_173", 200.0),
    ("--egfr", "1.4 mL/min/1.73 m\u00b2", "egfr_ml_min_173", 1.4),
    ("--egfr", "199.6 mL/min/{1.73_m2}", "egfr_ml_min_173", 199.6),
    ("--egfr", ">1 mL/min/1.73m2", "egfr_ml_min_173", 1.0),
    ("--egfr", "<200 mL/min/1.73m2", "egfr_ml_min_173", 200.0),
    ("--albumin", "10 g/L", "albumin_g_l", 10.0),
    ("--albumin", "60 g/L", "albumin_g_l", 60.0),
    ("--albumin", "1.0 g/dL", "albumin_g_l", 10.0),
    ("--albumin", "1 g/dL", "albumin_g_l", 10.0),
    ("--albumin", "6.0 g/dL", "albumin_g_l", 60.0),
    ("--albumin", "10.4 g/L", "albumin_g_l", 10.4),
    ("--albumin", "5.96 g/dL", "albumin_g_l", 59.6),
]


@pytest.mark.parametrize(("flag", "value", "key", "expected"), NEW_INSIDE,
                         ids=[ascii_id(f"{c[0][2:]}={c[1]}") for c in NEW_INSIDE])
def test_egfr_and_albumin_at_and_inside_their_limits_are_accepted(
    console: Console, flag: str, value: str, key: str, expected: float
) -> None:
    data = assessed(console, "--mg", "0.9 mmol/L", flag, value)
    assert data["derived"][key] == pytest.approx(expected, abs=1e-9)
    assert data["inputs"][flag[2:]] == value


# Every way the spec (and labs) write the eGFR unit; case and spacing are not significant.
EGFR_SPELLINGS = ["45 mL/min/1.73m2", "45 mL/min/1.73 m\u00b2", "45 mL/min/{1.73_m2}",
                  "45 mL/min/1.73m\u00b2", "45 mL/min/1.73 m2", "45 mL/min/1.73m^2",
                  "45 ml/min/1.73m2", "45 ML/MIN/1.73 M\u00b2", "45mL/min/1.73m2",
                  "45 mL / min / 1.73 m2", "45 ML/MIN/{1.73_M2}"]


@pytest.mark.parametrize("value", EGFR_SPELLINGS)
def test_egfr_is_accepted_in_every_spelling_and_used_when_nothing_else_is_known(
    console: Console, value: str
) -> None:
    data = assessed(console, "--mg", "0.6 mmol/L", "--egfr", value)
    derived = data["derived"]
    assert (derived["egfr_ml_min_173"], derived["egfr_comparator"]) == (45.0, None)
    assert (derived["crcl_method"], derived["crcl_ml_min"]) == ("egfr", 45.0)
    assert data["inputs"] == {"mg": "0.6 mmol/L", "egfr": value}
    assert "renal-function-from-egfr" in {f["id"] for f in data["findings"]}


# Albumin in g/L (0 decimals) or g/dL (1 decimal); 1 g/dL = 10 g/L. Calcium is then adjusted
# (Payne, through the units): by hand for Ca 2.10 mmol/L (x 4.0078 = 8.416 mg/dL) and albumin
# 35 g/L (3.5 g/dL): 8.416 - 3.5 + 4.0 = 8.916 mg/dL = 2.2248 mmol/L.
@pytest.mark.parametrize("value", ["35 g/L", "3.5 g/dL", "35 g/l", "3.5 G/DL", "35g/L",
                                   "3.50 g/dL", "35.0 G/L"])
def test_albumin_is_accepted_in_g_per_l_and_g_per_dl(console: Console, value: str) -> None:
    data = assessed(console, "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--ca", "2.10 mmol/L",
                    "--albumin", value)
    assert data["derived"]["albumin_g_l"] == pytest.approx(35.0, abs=1e-9)
    assert data["derived"]["ca_adjusted_mmol_l"] == pytest.approx(2.2248, abs=1e-3)
    assert data["inputs"]["albumin"] == value


def test_albumin_and_egfr_as_value_unit_objects(rules: RuleSet) -> None:
    patient = parse_patient({"egfr": {"value": 52, "unit": "mL/min/1.73 m\u00b2"},
                             "albumin": {"value": 3.2, "unit": "g/dL"}}, rules)
    assert patient.egfr is not None and patient.albumin is not None
    assert (patient.egfr.canonical, patient.egfr.bound) == (52.0, None)
    assert patient.albumin.canonical == pytest.approx(32.0)
    assert patient.albumin.entered == "3.2 g/dL"


# A bound as the lab prints it: eGFR only. (typed, the comparator it means, its number)
EGFR_BOUNDS = [
    (">60 mL/min/1.73m2", ">", 60.0),
    ("> 60 mL/min/1.73m2", ">", 60.0),
    (">=60 mL/min/1.73m2", ">=", 60.0),
    ("\u226590 mL/min/1.73 m\u00b2", ">=", 90.0),
    ("\u2265 90 mL/min/1.73m2", ">=", 90.0),
    ("<15 mL/min/1.73m2", "<", 15.0),
    ("<=15 mL/min/{1.73_m2}", "<=", 15.0),
    ("\u226415 mL/min/1.73m^2", "<=", 15.0),
    (" >90 mL/min/1.73m2", ">", 90.0),
]


@pytest.mark.parametrize(("value", "comparator", "number"), EGFR_BOUNDS,
                         ids=[ascii_id(c[0].strip()) for c in EGFR_BOUNDS])
def test_egfr_bound_is_accepted_in_each_sign_form(
    console: Console, value: str, comparator: str, number: float
) -> None:
    data = assessed(console, "--mg", "0.6 mmol/L", "--egfr", value)
    derived = data["derived"]
    assert (derived["egfr_comparator"], derived["egfr_ml_min_173"]) == (comparator, number)
    # every one of these ranges lies in one renal band (>= 60, or < 20), so it is used
    assert (derived["crcl_method"], derived["crcl_comparator"], derived["crcl_ml_min"]) == \
        ("egfr", comparator, number)
    assert data["inputs"]["egfr"] == value


def test_egfr_bound_through_parse_patient(rules: RuleSet) -> None:
    patient = parse_patient({"egfr": " \u2265 90 mL/min/1.73 m\u00b2"}, rules)
    assert patient.egfr is not None
    assert (patient.egfr.bound, patient.egfr.canonical) == (">=", 90.0)
    assert patient.egfr.entered == ">=90 mL/min/1.73m2"
    plain = parse_patient({"egfr": "90 mL/min/1.73m2"}, rules)
    assert plain.egfr is not None and plain.egfr.bound is None


def _bound(name: str, value: str, sign: str, accepted: str) -> str:
    return (f"{name}: '{value}' is a bound ({sign}), not a measured value; give the value the "
            f"lab measured; accepted: {accepted}")


# Any other quantity given as a bound: refused, saying it is a bound.
OTHER_BOUNDS = [
    ("--mg", "mg", "<0.5 mmol/L", "<", "mmol/L, mEq/L, mg/dL (e.g. '0.62 mmol/L')"),
    ("--mg", "mg", "\u22640.5 mmol/L", "<=", "mmol/L, mEq/L, mg/dL (e.g. '0.62 mmol/L')"),
    ("--k", "k", ">=3.5 mmol/L", ">=", "mmol/L, mEq/L (e.g. '3.4 mmol/L')"),
    ("--k", "k", "<3.0 mEq/L", "<", "mmol/L, mEq/L (e.g. '3.4 mmol/L')"),
    ("--crcl", "crcl", ">60 mL/min", ">", "mL/min (e.g. '55 mL/min')"),
    ("--crcl", "crcl", "\u2265 90 mL/min", ">=", "mL/min (e.g. '55 mL/min')"),
    ("--crcl", "crcl", "<=30 mL/min", "<=", "mL/min (e.g. '55 mL/min')"),
    ("--ca", "ca", "\u22642.0 mmol/L", "<=", "mmol/L, mEq/L, mg/dL (e.g. '2.30 mmol/L')"),
    ("--creatinine", "creatinine", "<0.5 mg/dL", "<", "mg/dL, umol/L (e.g. '1.1 mg/dL')"),
    ("--albumin", "albumin", ">35 g/L", ">", "g/L, g/dL (e.g. '35 g/L')"),
    ("--age", "age", ">=90", ">=", "year (e.g. '67')"),
]


@pytest.mark.parametrize(("flag", "field", "value", "sign", "accepted"), OTHER_BOUNDS,
                         ids=[ascii_id(f"{c[1]}={c[2]}") for c in OTHER_BOUNDS])
def test_a_bound_is_refused_for_any_quantity_but_egfr(
    console: Console, flag: str, field: str, value: str, sign: str, accepted: str
) -> None:
    args = ("--mg", "0.6 mmol/L") if field != "mg" else ()
    refused_exactly(console, (*args, flag, value), field,
                    _bound(named(field, flag=True), value, sign, accepted))


def test_a_bound_is_refused_in_json_input_too(rules: RuleSet) -> None:
    errors = input_errors({"mg": "<0.5 mmol/L", "crcl": ">60 mL/min", "k": "3.4 mmol/L",
                           "egfr": ">60 mL/min/1.73m2"}, rules)
    assert [str(e) for e in errors] == [
        _bound("mg (serum magnesium)", "<0.5 mmol/L", "<",
               "mmol/L, mEq/L, mg/dL (e.g. '0.62 mmol/L')"),
        _bound("crcl (creatinine clearance)", ">60 mL/min", ">", "mL/min (e.g. '55 mL/min')")]


NEW_BAD_INPUTS = [
    pytest.param(("--egfr", "60"), "egfr",
                 f"--egfr: '60' has no unit; units are never guessed; {EGFR_UNITS}",
                 id="bare-egfr"),
    pytest.param(("--egfr", ">60"), "egfr",
                 f"--egfr: '>60' has no unit; units are never guessed; {EGFR_UNITS}",
                 id="bare-egfr-bound"),
    pytest.param(("--albumin", "35"), "albumin",
                 "--albumin (serum albumin): '35' has no unit; units are never guessed; "
                 f"{ALBUMIN_UNITS}", id="bare-albumin"),
    pytest.param(("--egfr", "60 mL/min"), "egfr",
                 "--egfr: '60 mL/min' unit 'mL/min' is a flow (volume/time), not a unit of eGFR "
                 f"(did you mean mL/min/1.73m2?); {EGFR_UNITS}", id="egfr-as-crcl"),
    pytest.param(("--crcl", "60 mL/min/1.73m2"), "crcl",
                 "--crcl (creatinine clearance): '60 mL/min/1.73m2' unit 'mL/min/1.73m2' is a "
                 "flow per body surface (as eGFR), not a unit of creatinine clearance (did you "
                 "mean mL/min?); accepted: mL/min (e.g. '55 mL/min')", id="crcl-as-egfr"),
    pytest.param(("--egfr", "45 mL/min/m2"), "egfr",
                 "--egfr: '45 mL/min/m2' unit 'mL/min/m2' is not accepted for eGFR (did you mean "
                 f"mL/min/1.73m2?); {EGFR_UNITS}", id="egfr-per-m2-not-1.73m2"),
    pytest.param(("--egfr", "=>60 mL/min/1.73m2"), "egfr",
                 f"--egfr: '=>60 mL/min/1.73m2' does not start with a number; {EGFR_UNITS}",
                 id="egfr-sign-reversed"),
    pytest.param(("--albumin", "3.5 g"), "albumin",
                 "--albumin (serum albumin): '3.5 g' unit 'g' is a mass, not a unit of serum "
                 f"albumin (did you mean g/L?); {ALBUMIN_UNITS}", id="albumin-as-mass"),
    pytest.param(("--albumin", "3.5 mmol/L"), "albumin",
                 "--albumin (serum albumin): '3.5 mmol/L' unit 'mmol/L' is not accepted for "
                 f"serum albumin; {ALBUMIN_UNITS}", id="albumin-in-mmol"),
    pytest.param(("--albumin", "35 mg/dL"), "albumin",
                 "--albumin (serum albumin): '35 mg/dL' unit 'mg/dL' is not accepted for serum "
                 f"albumin (did you mean g/dL?); {ALBUMIN_UNITS}", id="albumin-in-mg/dL"),
]


@pytest.mark.parametrize(("args", "field", "message"), NEW_BAD_INPUTS)
def test_bad_egfr_and_albumin_are_refused_saying_why(
    console: Console, args: tuple[str, ...], field: str, message: str
) -> None:
    refused_exactly(console, ("--mg", "0.6 mmol/L", *args), field, message)


def test_assess_command_has_the_egfr_and_albumin_options(cli: Cli, console: Console) -> None:
    """The typer command (help, --explain, a value starting with '-') knows both options, and
    gives what the quick path gives."""
    help_text = " ".join(cli("assess", "--help").stdout.split())
    assert "--egfr" in help_text and "--albumin" in help_text, help_text
    args = ("--mg", "0.6 mmol/L", "--ca", "2.10 mmol/L", "--albumin", "35 g/L", "--egfr",
            ">60 mL/min/1.73m2", "--json")
    typer_run = cli("assess", *args)
    assert typer_run.exit_code == 0, typer_run.stderr
    assert typer_run.stdout == console("assess", *args).stdout
    explained = cli("assess", *args, "--explain")
    assert explained.exit_code == 0, explained.stderr


# -- revision 2: new conditions and symptoms, with their synonyms ------------------------------

NEW_TERMS = [
    ("conditions", "acute-kidney-injury", ["acute-kidney-injury", "aki", "AKI",
                                           "acute-renal-failure", "acute renal injury"]),
    ("conditions", "dialysis", ["dialysis", "haemodialysis", "hemodialysis", "peritoneal-dialysis",
                                "Peritoneal dialysis", "eskd-on-dialysis", "ESKD on dialysis",
                                "esrd-on-dialysis", "renal-replacement-therapy", "on-dialysis"]),
    ("conditions", "pregnancy", ["pregnancy", "pregnant", "Pregnant"]),
    ("conditions", "pre-eclampsia", ["pre-eclampsia", "preeclampsia", "eclampsia",
                                     "pre-eclamptic-toxaemia", "hellp", "HELLP",
                                     "hellp-syndrome", "HELLP syndrome", "Pre Eclampsia"]),
    ("symptoms", "tremor", ["tremor", "tremors", "shaking"]),
    ("symptoms", "atrial-fibrillation", ["atrial-fibrillation", "af", "AF", "afib", "a-fib",
                                         "A-Fib", "chronic-af", "chronic-atrial-fibrillation",
                                         "atrial fibrillation"]),
]


@pytest.mark.parametrize(("field", "term", "word"),
                         [(f, t, w) for f, t, words in NEW_TERMS for w in words])
def test_new_conditions_and_symptoms_are_read_with_their_synonyms(
    rules: RuleSet, field: str, term: str, word: str
) -> None:
    patient = parse_patient({field: [word]}, rules)
    assert [item.value for item in getattr(patient, field)] == [term]


def test_new_conditions_and_symptoms_on_the_command_line(console: Console) -> None:
    data = assessed(console, "--mg", "0.9 mmol/L", "--crcl", "80 mL/min", "--condition", "AKI",
                    "--condition", "pregnant", "--symptom", "A-Fib", "--symptom", "shaking")
    assert data["inputs"]["conditions"] == ["AKI", "pregnant"]
    assert data["inputs"]["symptoms"] == ["A-Fib", "shaking"]


@pytest.mark.parametrize(("flag", "field", "value", "suggestion"), [
    ("--condition", "conditions", "dialisis", "dialysis"),
    ("--condition", "conditions", "pregnent", "pregnant"),
    ("--condition", "conditions", "preeclampsa", "preeclampsia"),
    ("--symptom", "symptoms", "tremmor", "tremor"),
    ("--symptom", "symptoms", "atrial fibrilation", "atrial-fibrillation"),
])
def test_a_misspelt_new_term_is_refused_with_did_you_mean(
    console: Console, flag: str, field: str, value: str, suggestion: str
) -> None:
    kind = field.removesuffix("s")
    ids = {"conditions": "chronic-diarrhea, short-bowel-syndrome, malabsorption, "
                         "high-output-stoma, alcohol-use-disorder, diabetes, "
                         "inflammatory-bowel-disease, hyperthyroidism, volume-depletion, "
                         "acute-kidney-injury, dialysis, pregnancy, pre-eclampsia",
           "symptoms": "tetany, seizure, arrhythmia, cramps, spasm, twitching, paresthesia, "
                       "fatigue, weakness, hyporeflexia, hypotension, respiratory-depression, "
                       "confusion, nausea, tremor, atrial-fibrillation"}[field]
    refused_exactly(console, ("--mg", "0.6 mmol/L", flag, value), field,
                    f"{flag}: '{value}' is not a known {kind} (did you mean {suggestion!r}?); "
                    f"accepted: {ids}")


# -- revision 2: the JSON and CSV keys ---------------------------------------------------------

def test_egfr_and_albumin_keys_in_json_lines_and_csv(cli: Cli, tmp_path: Path) -> None:
    records = [{"id": "a", "mg": "0.6 mmol/L", "egfr": ">60 mL/min/1.73m2"},
               {"id": "b", "mg": "0.6 mmol/L", "egfr": "45 mL/min/{1.73_m2}",
                "ca": "2.10 mmol/L", "albumin": "3.5 g/dL"},
               {"id": "c", "mg": "0.6 mmol/L", "crcl": ">60 mL/min"}]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("id,mg,egfr,ca,albumin,crcl\n"
                        "a,0.6 mmol/L,>60 mL/min/1.73m2,,,\n"
                        "b,0.6 mmol/L,45 mL/min/{1.73_m2},2.10 mmol/L,3.5 g/dL,\n"
                        "c,0.6 mmol/L,,,,>60 mL/min\n", encoding="utf-8")
    for source in (jsonl, csv_file):
        result = cli("batch", str(source))
        assert result.exit_code == 1, result.stderr  # record c is refused
        a, b, c = (json.loads(line) for line in result.stdout.splitlines())
        assert (a["derived"]["egfr_comparator"], a["derived"]["egfr_ml_min_173"]) == (">", 60.0)
        assert (b["derived"]["egfr_comparator"], b["derived"]["egfr_ml_min_173"]) == (None, 45.0)
        assert b["derived"]["albumin_g_l"] == pytest.approx(35.0)
        assert c["error"] == {"field": "crcl", "message": _bound(
            "crcl (creatinine clearance)", ">60 mL/min", ">", "mL/min (e.g. '55 mL/min')")}, c
