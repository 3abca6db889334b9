"""Issue 15: command-line errors in the user's words, written out by hand.

On the command line an error names the flag as typed and the quantity in words (``--mg (serum
magnesium)``, never the bare ``mg`` that reads as milligrams); with --json, and in batch, the
field is the JSON key and the message names it the same way. An empty value and a single-value
flag given twice are errors naming the flag; a likely mix-up of units gets a hint from the
rules' unit table; one --med listing several medications is split only when nothing can change
meaning. Each case runs through the typer command and through the console entry point's quick
path, which must agree exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_console

from mgassist import InputError, RuleSet, parse_patient

MG_ACCEPTED = "accepted: mmol/L, mEq/L, mg/dL (e.g. '0.62 mmol/L')"
MEDS_ACCEPTED = ("accepted: a class id, or a generic or brand name that maps to one (see "
                 "`mgassist vocab meds`); any other medication is accepted and listed as not "
                 "recognised")


pytestmark = pytest.mark.usefixtures("bundled_rules_loaded_once")


def both(cli: Any, *args: str) -> tuple[int, str, str]:
    """``mgassist ARGS`` through the typer command and through the console entry point (the
    quick path for a plain assess): the same exit code, stdout and stderr; returns them."""
    typer_run = cli(*args)
    entry = run_console(list(args))
    assert (typer_run.exit_code, typer_run.stdout, typer_run.stderr) == entry, args
    return entry


def refused(cli: Any, args: tuple[str, ...], *lines: str) -> None:
    """Exit 2, nothing on stdout, exactly these ``error:`` lines on stderr."""
    assert both(cli, "assess", *args) == (2, "", "".join(f"error: {line}\n" for line in lines))


def refused_json(cli: Any, args: tuple[str, ...], *errors: tuple[str, str]) -> None:
    """With --json: exit 2 and exactly the JSON error object ``(field, message)...``."""
    code, out, _ = both(cli, "assess", *args, "--json")
    listed = [{"field": field, "message": message} for field, message in errors]
    assert code == 2
    assert json.loads(out) == {"error": listed[0], "errors": listed}


# -- A: the flag as typed, the quantity in words -----------------------------------------------

def test_a_bare_number_names_the_flag_and_the_quantity(cli: Any) -> None:
    refused(cli, ("--mg", "0.6"),
            f"--mg (serum magnesium): '0.6' has no unit; units are never guessed; {MG_ACCEPTED}")


def test_in_json_the_field_is_the_key_and_the_message_names_the_quantity(cli: Any) -> None:
    refused_json(cli, ("--mg", "0.6"), (
        "mg", f"mg (serum magnesium): '0.6' has no unit; units are never guessed; "
              f"{MG_ACCEPTED}"))


def test_a_list_flag_is_named_as_typed_not_by_its_key(cli: Any) -> None:
    refused(cli, ("--mg", "0.6 mmol/L", "--med", "furosemid"),
            "--med: 'furosemid' is not a known medication (did you mean 'furosemide'?); a "
            f"misspelt name would silently drop its effect on magnesium; {MEDS_ACCEPTED}")
    refused_json(cli, ("--mg", "0.6 mmol/L", "--med", "furosemid"), (
        "meds", "meds: 'furosemid' is not a known medication (did you mean 'furosemide'?); a "
                f"misspelt name would silently drop its effect on magnesium; {MEDS_ACCEPTED}"))


def test_a_name_that_says_the_quantity_gets_no_words_in_brackets(cli: Any) -> None:
    refused(cli, ("--egfr", "60", "--age", "abc", "--current-dose", "12"),
            "--egfr: '60' has no unit; units are never guessed; accepted: mL/min/1.73m2 (e.g. "
            "'45 mL/min/1.73m2')",
            "--age: 'abc' does not start with a number; accepted: year (e.g. '67')",
            "--current-dose (elemental magnesium already taken per day): '12' has no unit; "
            "units are never guessed; accepted: mmol/day, mg/day (e.g. '12 mmol/day')")


def test_errors_come_in_field_order_each_named_by_its_flag(cli: Any) -> None:
    refused(cli, ("--crcl-weight", "ideal", "--sex", "x", "--k", "3.4"),
            "--k (serum potassium): '3.4' has no unit; units are never guessed; accepted: "
            "mmol/L, mEq/L (e.g. '3.4 mmol/L')",
            "--sex: 'x' is not accepted; accepted: female, male",
            "--crcl-weight: 'ideal' needs a height (--height); accepted: auto or actual "
            "without a height")


def test_a_batch_error_line_names_the_key_and_the_quantity(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "mg": "0.6"}\n', encoding="utf-8")
    result = cli("batch", str(source))
    assert result.exit_code == 1
    message = f"mg (serum magnesium): '0.6' has no unit; units are never guessed; {MG_ACCEPTED}"
    assert json.loads(result.stdout) == {"id": "a", "line": 1,
                                         "error": {"field": "mg", "message": message},
                                         "errors": [{"field": "mg", "message": message}]}


def test_an_input_error_is_a_value_the_caller_names() -> None:
    error = InputError("mg", "0.6", "has no unit", "mmol/L", label="serum magnesium")
    assert error.message(name="--mg") == "--mg (serum magnesium): '0.6' has no unit; " \
                                         "accepted: mmol/L"
    assert str(error) == "mg (serum magnesium): '0.6' has no unit; accepted: mmol/L"
    assert error.as_json() == {"field": "mg", "message": str(error)}
    plain = InputError("meds", "", "must be a non-empty name")
    assert plain.message(name="--med") == "--med: must be a non-empty name"


# -- B: empty values and repeated single-value flags ------------------------------------------

@pytest.mark.parametrize(("args", "line"), [
    (("--mg", ""), "--mg (serum magnesium): an empty value; give a value with its unit (e.g. "
                   "'0.62 mmol/L'), or leave the flag out"),
    (("--mg", "   "), "--mg (serum magnesium): an empty value; give a value with its unit "
                      "(e.g. '0.62 mmol/L'), or leave the flag out"),
    (("--mg=",), "--mg (serum magnesium): an empty value; give a value with its unit (e.g. "
                 "'0.62 mmol/L'), or leave the flag out"),
    (("--age", ""), "--age: an empty value; give a number (e.g. '67'), or leave the flag out"),
    (("--sex", ""), "--sex: an empty value; give female or male, or leave the flag out"),
    (("--crcl-weight", ""), "--crcl-weight: an empty value; give auto, actual, ideal or "
                            "adjusted, or leave the flag out"),
    (("--med", "furosemide", "--med", ""), "--med: an empty value; give a medication name "
                                           "(see `mgassist vocab meds`), or leave the flag out"),
    (("--condition", ""), "--condition: an empty value; give an id or name (see `mgassist "
                          "vocab conditions`), or leave the flag out"),
], ids=["mg", "mg-blank", "mg=", "age", "sex", "crcl-weight", "med", "condition"])
def test_an_empty_value_is_an_error_naming_the_flag(cli: Any, args: tuple[str, ...],
                                                     line: str) -> None:
    refused(cli, args, line)


def test_an_empty_value_in_json_names_the_key(cli: Any) -> None:
    refused_json(cli, ("--mg", ""), (
        "mg", "mg (serum magnesium): an empty value; give a value with its unit (e.g. "
              "'0.62 mmol/L'), or leave the flag out"))


def test_an_empty_value_in_a_record_still_means_not_given(rules: RuleSet) -> None:
    """The library and batch keep their contract: a blank CSV cell is a field not given."""
    patient = parse_patient({"mg": "", "crcl": "80 mL/min", "meds": []}, rules)
    assert patient.mg is None and patient.meds == ()


def test_a_single_value_flag_given_twice_is_an_error_showing_both(cli: Any) -> None:
    refused(cli, ("--mg", "0.6 mmol/L", "--mg", "0.7 mmol/L", "--crcl", "80 mL/min"),
            "--mg (serum magnesium): given twice ('0.6 mmol/L', then '0.7 mmol/L'); give it "
            "once")
    refused(cli, ("--sex", "female", "--sex=female", "--sex", "m"),
            "--sex: given 3 times ('female', then 'female', then 'm'); give it once")
    refused_json(cli, ("--mg", "0.6 mmol/L", "--mg", "0.7 mmol/L"), (
        "mg", "mg (serum magnesium): given twice ('0.6 mmol/L', then '0.7 mmol/L'); give it "
              "once"))


def test_list_flags_stay_repeatable(cli: Any) -> None:
    code, out, err = both(cli, "assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--med",
                          "furosemide", "--med", "omeprazole", "--condition", "diabetes",
                          "--condition", "aki", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["inputs"]["meds"] == ["furosemide", "omeprazole"]
    assert data["inputs"]["conditions"] == ["diabetes", "aki"]


# -- D: a likely mix-up of units gets a hint; a comma in --med --------------------------------

@pytest.mark.parametrize(("args", "line"), [
    # 106 mg/dL is far above 25 mg/dL; 106 umol/L = 1.20 mg/dL is plausible
    (("--creatinine", "106 mg/dL"),
     "--creatinine (serum creatinine): '106 mg/dL' is outside the plausible range (106 umol/L "
     "would be plausible: did you mean umol/L?); check the value and its unit; accepted: 0.1 "
     "to 25 mg/dL"),
    # 1.7 cm is below 100 cm; 1.7 m = 170 cm
    (("--height", "1.7 cm"),
     "--height: '1.7 cm' is outside the plausible range (1.7 m would be plausible: did you "
     "mean m?); check the value and its unit; accepted: 100 to 250 cm"),
    # 500 kg is above 400 kg; 500 lb = 226.8 kg
    (("--weight", "500 kg"),
     "--weight (body weight): '500 kg' is outside the plausible range (500 lb would be "
     "plausible: did you mean lb?); check the value and its unit; accepted: 20 to 400 kg"),
    # 300 mmol/day is above 100; 300 mg/day = 12.3 mmol/day
    (("--current-dose", "300 mmol/day"),
     "--current-dose (elemental magnesium already taken per day): '300 mmol/day' is outside "
     "the plausible range (300 mg/day would be plausible: did you mean mg/day?); check the "
     "value and its unit; accepted: 0 to 100 mmol/day"),
    # 0.2 mg/dL = 0.082 mmol/L is below 0.1; 0.2 mmol/L, and 0.2 mEq/L = 0.1 mmol/L, are not
    (("--mg", "0.2 mg/dL"),
     "--mg (serum magnesium): '0.2 mg/dL' is outside the plausible range (0.2 mmol/L or 0.2 "
     "mEq/L would be plausible: did you mean mmol/L or mEq/L?); check the value and its "
     "unit; accepted: 0.1 to 5 mmol/L"),
    # 12 is implausible in mmol/L and in mEq/L (the same for potassium): no hint
    (("--k", "12 mmol/L"),
     "--k (serum potassium): '12 mmol/L' is outside the plausible range; check the value and "
     "its unit; accepted: 1 to 10 mmol/L"),
    # a salt's mass is converted through its formula: no other unit is suggested
    (("--current-dose", "5000 mg/day magnesium oxide"),
     "--current-dose (elemental magnesium already taken per day): '5000 mg/day magnesium "
     "oxide' is outside the plausible range; check the value and its unit; accepted: 0 to "
     "100 mmol/day"),
], ids=["creatinine", "height", "weight", "current-dose", "mg-two-units", "k-no-hint",
        "salt-no-hint"])
def test_a_value_plausible_in_another_unit_gets_a_hint(cli: Any, args: tuple[str, ...],
                                                       line: str) -> None:
    refused(cli, args, line)


def test_the_unit_hint_is_in_json_and_batch_too(cli: Any, tmp_path: Path) -> None:
    message = ("creatinine (serum creatinine): '106 mg/dL' is outside the plausible range (106 "
               "umol/L would be plausible: did you mean umol/L?); check the value and its "
               "unit; accepted: 0.1 to 25 mg/dL")
    refused_json(cli, ("--creatinine", "106 mg/dL"), ("creatinine", message))
    source = tmp_path / "in.csv"
    source.write_text("id,creatinine\nb,106 mg/dL\n", encoding="utf-8")
    line = json.loads(cli("batch", str(source)).stdout)
    assert line["error"] == {"field": "creatinine", "message": message}


def test_known_medications_joined_by_commas_are_read_as_repeated_flags(cli: Any) -> None:
    base = ("assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--json")
    repeated = both(cli, *base, "--med", "furosemide", "--med", "omeprazole")
    assert both(cli, *base, "--med", "furosemide,omeprazole") == repeated
    assert both(cli, *base, "--med", "furosemide; omeprazole") == repeated
    data = json.loads(repeated[1])
    assert data["inputs"]["meds"] == ["furosemide", "omeprazole"]
    assert data["derived"]["med_classes"] == ["loop-diuretic", "ppi"]


@pytest.mark.parametrize(("med", "line"), [
    # aspirin is not in the vocabulary: two medications, or one? mgassist cannot tell
    ("furosemide, aspirin",
     "--med: 'furosemide, aspirin' has a comma: if it names several medications, repeat --med "
     "for each (--med furosemide --med aspirin); if it is one, write it without the comma"),
    # one medication with its directions: split, 'twice daily' would become a medication
    ("Lasix 40 mg, twice daily",
     "--med: 'Lasix 40 mg, twice daily' has a comma: if it names several medications, repeat "
     "--med for each (--med 'Lasix 40 mg' --med 'twice daily'); if it is one, write it "
     "without the comma"),
    ("omeprazole; statin",
     "--med: 'omeprazole; statin' has a semicolon: if it names several medications, repeat "
     "--med for each (--med omeprazole --med statin); if it is one, write it without the "
     "semicolon"),
], ids=["unknown-part", "directions", "semicolon"])
def test_a_comma_that_could_change_the_meaning_is_refused(cli: Any, med: str,
                                                          line: str) -> None:
    refused(cli, ("--mg", "0.6 mmol/L", "--med", med), line)


def test_undecodable_bytes_are_refused_before_any_comma_advice(cli: Any) -> None:
    """A non-UTF-8 byte in argv arrives as a lone surrogate: the message shows it escaped and
    names the real problem, rather than echoing a command it cannot print."""
    refused(cli, ("--mg", "0.6 mmol/L", "--med", "a\udcff, b"),
            "--med: 'a\\udcff, b' is not valid UTF-8 (check the encoding of the terminal, the "
            "script or the file); accepted: UTF-8 text")


def test_one_medication_with_its_directions_and_no_comma_is_accepted(cli: Any) -> None:
    code, out, _ = both(cli, "assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--med",
                        "Lasix 40 mg twice daily", "--json")
    assert code == 0
    assert json.loads(out)["inputs"]["meds"] == ["Lasix 40 mg twice daily"]
