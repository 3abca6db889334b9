"""``mgassist interview`` driven by scripted answers through the CLI test runner.

Each script lists the answers in the order a clinician is asked (written out by hand here,
not taken from the code), so a change in the order or in which questions are asked fails.
Questions and messages go to stderr; stdout holds only the report or the JSON.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, run_console
from typer.testing import CliRunner

from mgassist import RuleSet
from mgassist._cli import app
from mgassist._questions import (
    TAKES_MAGNESIUM,
    Checked,
    assess_command,
    check,
    patient_inputs,
    pending,
    questions,
)

Run = Callable[..., Any]


@pytest.fixture(autouse=True)
def _bundled_rules_loaded_once(rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reuse the session's bundled rules (``--rules PATH`` still loads PATH)."""
    from mgassist import _rules_loader

    original = _rules_loader.load_rules
    monkeypatch.setattr(_rules_loader, "load_rules",
                        lambda path=None: rules if path is None else original(path))


@pytest.fixture
def interview(monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``mgassist interview ARGS`` answering with ``lines`` as if typed at a terminal."""
    monkeypatch.setattr("mgassist._interview.stdin_is_terminal", lambda: True)
    runner = CliRunner()

    def run(lines: list[str], *args: str) -> Any:
        return runner.invoke(app, ["interview", *args], input="".join(f"{x}\n" for x in lines),
                             catch_exceptions=False)
    return run


def tail(k: str = "", ca: str = "", albumin: str = "", meds: str = "", conditions: str = "",
         symptoms: str = "", indication: str = "", taking: str = "",
         dose: tuple[str, str] | None = None, confirm: tuple[str, ...] = ("",)) -> list[str]:
    """The answers after the renal block: K, Ca (then albumin, asked only with a calcium),
    meds, conditions, symptoms, indication, already taking magnesium (and the dose questions
    when yes), then the summary's Enter."""
    assert ca or not albumin, "albumin is asked only with a calcium"
    lines = [k, ca, *([albumin] if ca else []), meds, conditions, symptoms, indication, taking]
    if dose is not None:
        lines += list(dose)
    return lines + list(confirm)


def reported(mg: str, crcl: str, age: str = "", **rest: Any) -> list[str]:
    """Answers with a reported CrCl: magnesium, CrCl, age, then the tail."""
    return [mg, crcl, age, *tail(**rest)]


def derived(mg: str, creatinine: str, age: str, sex: str, weight: str, height: str = "",
            egfr: str = "", **rest: Any) -> list[str]:
    """Answers without CrCl: magnesium, Enter for CrCl, creatinine, age, sex, weight, height,
    eGFR."""
    return [mg, "", creatinine, age, sex, weight, height, egfr, *tail(**rest)]


def as_json(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def finding_ids(data: dict[str, Any]) -> set[str]:
    return {f["id"] for f in data["findings"]}


def said(result: Any) -> list[str]:
    """What the interview showed, line by line, without the "> " prompts before each message
    (in a terminal the typed answer and its newline follow the prompt; here nothing is echoed)."""
    return [re.sub(r"^(> )+", "", line) for line in result.stderr.splitlines()]


def questions_asked(result: Any) -> list[str]:
    """The question titles shown, in order (a title is the line before '  accepts: ...')."""
    lines = said(result)
    return [lines[i - 1].removesuffix(" (required)") for i, line in enumerate(lines)
            if line.startswith("  accepts: ")]


# --- the two renal branches ---------------------------------------------------------------

def test_reported_crcl_skips_the_cockcroft_gault_questions(interview: Run) -> None:
    result = interview(reported("0.6 mmol/L", "80 mL/min", "55"), "--json")
    data = as_json(result)
    assert questions_asked(result) == [
        "Serum magnesium", "Creatinine clearance", "Age", "Serum potassium",
        "Serum total calcium", "Medications", "Conditions", "Symptoms", "Indication",
        "Already taking a magnesium supplement"]
    assert data["status"] == "supplement"
    assert data["derived"]["crcl_method"] == "reported"
    assert data["derived"]["crcl_ml_min"] == 80
    assert data["inputs"] == {"mg": "0.6 mmol/L", "crcl": "80 mL/min", "age": "55"}


def test_crcl_derived_from_cockcroft_gault_when_not_known(interview: Run) -> None:
    result = interview(derived("1.5 mg/dL", "1.4 mg/dL", "72", "f", "60 kg", "165 cm"),
                       "--json")
    data = as_json(result)
    assert questions_asked(result)[:7] == [
        "Serum magnesium", "Creatinine clearance", "Serum creatinine", "Age", "Sex",
        "Body weight", "Height"]
    # By hand, from the spec: BMI 60 / 1.65^2 = 22.0 -> the lesser of ideal and actual weight;
    # Devine ideal (female) 45.5 + 2.3 * (165 / 2.54 - 60) = 56.91 kg;
    # CrCl = (140 - 72) * 56.91 / (72 * 1.4) * 0.85 = 32.6 mL/min -> the 30-60 band.
    ideal = 45.5 + 2.3 * (165 / 2.54 - 60)
    expected = (140 - 72) * ideal / (72 * 1.4) * 0.85
    assert data["derived"]["crcl_method"] == "cockcroft-gault"
    assert data["derived"]["crcl_weight_basis"] == "ideal"
    assert data["derived"]["crcl_ml_min"] == pytest.approx(expected, abs=0.1)
    assert data["status"] == "supplement-with-caution"
    assert "renal-dose-reduction" in finding_ids(data)
    assert data["derived"]["mg_mmol_l"] == pytest.approx(1.5 / 2.4305, abs=1e-3)


def test_age_is_asked_even_with_a_reported_crcl_so_a_child_is_out_of_scope(
        interview: Run) -> None:
    data = as_json(interview(reported("0.6 mmol/L", "90 mL/min", "15"), "--json"))
    assert data["status"] == "out-of-scope"


# --- skipping, required, invalid answers ----------------------------------------------------

def test_every_optional_question_can_be_skipped_with_enter(interview: Run) -> None:
    # Enter on CrCl leads to creatinine, age, sex, weight, height and eGFR: all skipped too.
    result = interview(["0.9 mmol/L", "", "", "", "", "", "", "", *tail()], "--json")
    data = as_json(result)
    assert data["inputs"] == {"mg": "0.9 mmol/L"}
    assert data["status"] == "do-not-supplement"
    assert re.search(r"^ +3 +serum creatinine +-$", result.stderr, re.MULTILINE)
    assert re.search(r"^ +8 +eGFR +-$", result.stderr, re.MULTILINE)
    assert re.search(r"^ +15 +already taking a magnesium supplement +- +-> no$",
                     result.stderr, re.MULTILINE)


def test_magnesium_is_required_and_says_why(interview: Run) -> None:
    result = interview(["", *reported("0.6 mmol/L", "80 mL/min")], "--json")
    assert as_json(result)["status"] == "supplement"
    assert "error: mg: is required: every decision depends on it" in result.stderr
    assert "'unknown' if no result is available yet" in result.stderr


def test_unknown_magnesium_is_accepted_explicitly_and_asks_for_a_level(interview: Run) -> None:
    data = as_json(interview(reported("unknown", "80 mL/min"), "--json"))
    assert data["status"] == "insufficient-data"
    assert "mg-level-required" in finding_ids(data)
    assert "mg" not in data["inputs"]


def test_invalid_answer_gets_the_assess_message_and_is_asked_again(
        interview: Run, cli: Run) -> None:
    result = interview(["0.6", "0.6 mmol/L", "80 mL/min", "", *tail()], "--json")
    assert as_json(result)["derived"]["mg_mmol_l"] == 0.6
    flag_error = next(line for line in cli("assess", "--mg", "0.6").stderr.splitlines()
                      if line.startswith("error:"))
    assert flag_error == ("error: mg: '0.6' has no unit; units are never guessed; accepted: "
                          "mmol/L, mEq/L, mg/dL (e.g. '0.62 mmol/L')")
    assert flag_error in said(result)
    assert "Please answer again" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("question_index", "bad", "problem"), [
    (1, "80", "crcl: '80' has no unit; units are never guessed"),
    (1, "80 mg/dL", "unit 'mg/dL' is a mass concentration, not a unit of creatinine clearance"),
    (2, "abc", "age: 'abc' does not start with a number"),
    (3, "12 mmol/L", "k: '12 mmol/L' is outside the plausible range for serum potassium"),
    (5, "frusemidee", "is not a known medication (did you mean 'frusemide'?)"),
    (8, "cramp-ish", "indication: 'cramp-ish' is not a known indication"),
    (9, "maybe", "takes_magnesium: 'maybe' is not an answer; accepted: yes or no"),
])
def test_each_kind_of_bad_answer_is_explained_then_asked_again(
        interview: Run, question_index: int, bad: str, problem: str) -> None:
    good = reported("0.6 mmol/L", "80 mL/min")
    result = interview([*good[:question_index], bad, *good[question_index:]], "--json")
    assert as_json(result)["status"] == "supplement"
    errors = [line for line in said(result) if line.startswith("error:")]
    assert len(errors) == 1
    assert problem in errors[0]


def test_question_mark_lists_the_accepted_medications_and_names(interview: Run) -> None:
    lines = reported("0.6 mmol/L", "80 mL/min")
    lines[5:5] = ["?"]  # at the medications question
    result = interview(lines, "--json")
    assert as_json(result)["status"] == "supplement"
    listed = result.stderr
    for expected in ("loop-diuretic", "furosemide", "ppi", "omeprazole", "bisphosphonate"):
        assert expected in listed


def test_several_medications_at_once_by_class_or_drug_name(interview: Run) -> None:
    data = as_json(interview(reported("0.6 mmol/L", "80 mL/min",
                                      meds="furosemide, ppi; doxycycline"), "--json"))
    assert {"risk-factors-present", "separate-dosing"} <= finding_ids(data)


# --- the magnesium-dose gate -----------------------------------------------------------------

def test_dose_questions_only_for_a_patient_taking_magnesium(interview: Run) -> None:
    not_taking = interview(reported("0.6 mmol/L", "80 mL/min", taking="no"), "--json")
    assert "Elemental magnesium already taken per day" not in questions_asked(not_taking)
    taking = interview(reported("0.6 mmol/L", "80 mL/min", taking="yes",
                                dose=("12 mmol/day", "10")), "--json")
    assert questions_asked(taking)[-2:] == ["Elemental magnesium already taken per day",
                                            "Days on the current magnesium dose"]
    data = as_json(taking)
    assert "step-up-dose" in finding_ids(data)
    assert data["regimen"]["dose_basis"] == "step-up"


# --- summary and correction ------------------------------------------------------------------

def test_summary_shows_typed_and_converted_values(interview: Run) -> None:
    result = interview(reported("1.5 mg/dL", "80 mL/min", "70", k="3.2 mEq/L",
                                meds="furosemide"), "--json")
    assert as_json(result)["status"] == "supplement"
    summary = result.stderr[result.stderr.index("Your answers"):]
    assert "1.5 mg/dL" in summary and "-> 0.617 mmol/L" in summary  # 1.5 / 2.4305
    assert "3.2 mEq/L" in summary and "-> 3.20 mmol/L" in summary
    assert "furosemide" in summary and "-> loop-diuretic" in summary


def test_one_answer_can_be_corrected_without_starting_over(interview: Run) -> None:
    lines = reported("0.9 mmol/L", "80 mL/min", confirm=("1", "0.6 mmol/L", ""))
    result = interview(lines, "--json")
    data = as_json(result)
    assert data["inputs"]["mg"] == "0.6 mmol/L"
    assert data["status"] == "supplement"
    assert result.stderr.count("Your answers") == 2
    assert result.stderr.count("Serum potassium\n") == 1  # not asked again


def test_correction_keeps_the_answer_on_enter_and_clears_it_on_dash(interview: Run) -> None:
    kept = as_json(interview(reported("0.6 mmol/L", "80 mL/min", "50",
                                      confirm=("3", "", "")), "--json"))
    assert kept["inputs"]["age"] == "50"
    cleared = as_json(interview(reported("0.6 mmol/L", "80 mL/min", "50",
                                         confirm=("3", "-", "")), "--json"))
    assert "age" not in cleared["inputs"]


def test_clearing_crcl_asks_the_cockcroft_gault_questions_then(interview: Run) -> None:
    lines = reported("0.6 mmol/L", "80 mL/min", "50",
                     confirm=("2", "-", "1.0 mg/dL", "male", "80 kg", "", "", ""))
    data = as_json(interview(lines, "--json"))
    # (140 - 50) * 80 / (72 * 1.0) = 100 mL/min, actual weight (no height).
    assert data["derived"]["crcl_method"] == "cockcroft-gault"
    assert data["derived"]["crcl_ml_min"] == pytest.approx(100, abs=0.1)


def test_unknown_summary_choice_is_explained(interview: Run) -> None:
    result = interview(reported("0.6 mmol/L", "80 mL/min", confirm=("99", "")), "--json")
    assert as_json(result)["status"] == "supplement"
    assert "'99' is not an answer number" in result.stderr


# --- every status of the spec is reachable -------------------------------------------------

@pytest.mark.parametrize(("lines", "status"), [
    (reported("0.6 mmol/L", "80 mL/min", "60"), "supplement"),
    (reported("0.6 mmol/L", "45 mL/min", "60"), "supplement-with-caution"),
    (reported("0.9 mmol/L", "80 mL/min", "60"), "do-not-supplement"),
    (reported("0.6 mmol/L", "15 mL/min", "60"), "contraindicated"),
    (reported("1.2 mmol/L", "80 mL/min", "60"), "contraindicated"),
    (reported("0.4 mmol/L", "80 mL/min", "60"), "urgent"),
    (reported("unknown", "80 mL/min", "60", symptoms="seizure"), "urgent"),
    (reported("unknown", "80 mL/min", "60"), "insufficient-data"),
    (["0.6 mmol/L", "", "", "60", "", "", "", "", *tail()], "insufficient-data"),
    (reported("0.6 mmol/L", "80 mL/min", "16"), "out-of-scope"),
])
def test_every_status_can_be_reached(interview: Run, lines: list[str], status: str) -> None:
    assert as_json(interview(lines, "--json"))["status"] == status


# --- output: report, JSON, --save, the equivalent command -----------------------------------

def test_report_is_the_same_renderer_as_assess(interview: Run, cli: Run) -> None:
    result = interview(reported("0.6 mmol/L", "80 mL/min"))
    assert result.exit_code == 0
    assert result.stdout == cli("assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min").stdout
    assert "DECISION: SUPPLEMENT" in result.stdout


def test_printed_command_reproduces_the_assessment(interview: Run, cli: Run) -> None:
    lines = derived("1.5 mg/dL", "110 umol/L", "80", "female", "154 lb", "5.2 ft",
                    k="3.1 mmol/L", meds="furosemide; omeprazole", conditions="volume depletion",
                    indication="documented-hypomagnesemia", taking="y",
                    dose=("291.6 mg/day", "8"))
    # 5.2 ft is not an accepted unit: asked again, then in inches.
    lines.insert(lines.index("5.2 ft") + 1, "62 in")
    result = interview(lines, "--json")
    data = as_json(result)
    command = result.stderr.splitlines()[-1].strip()
    words = shlex.split(command)
    assert words[:2] == ["mgassist", "assess"] and "--json" in words
    assert words.count("--med") == 2
    again = cli(*words[1:])
    assert again.exit_code == 0
    assert again.stdout == result.stdout  # byte for byte, inputs included
    assert data["inputs"]["meds"] == ["furosemide", "omeprazole"]


def test_save_writes_the_json_assessment(interview: Run, tmp_path: Path) -> None:
    target = tmp_path / "assessment.json"
    result = interview(reported("0.6 mmol/L", "80 mL/min"), "--save", str(target))
    assert result.exit_code == 0
    assert "DECISION: SUPPLEMENT" in result.stdout
    saved = json.loads(target.read_text(encoding="utf-8"))
    assert saved["status"] == "supplement" and saved["inputs"]["mg"] == "0.6 mmol/L"
    assert [p.name for p in tmp_path.iterdir()] == ["assessment.json"]  # no temporary left
    assert f"Saved the JSON assessment to {target}" in result.stderr


def test_save_into_a_missing_folder_fails_before_any_question(interview: Run,
                                                              tmp_path: Path) -> None:
    result = interview([], "--save", str(tmp_path / "nowhere" / "a.json"))
    assert result.exit_code == 2
    assert "error: save:" in result.stderr and "does not exist" in result.stderr
    assert "Serum magnesium" not in result.stderr


# --- leaving --------------------------------------------------------------------------------

def test_end_of_input_leaves_with_exit_1_and_one_line(interview: Run) -> None:
    result = interview(["0.6 mmol/L", "80 mL/min"], "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert said(result)[-1] == (
        "interview ended (end of input): nothing was assessed or saved.")
    assert "Traceback" not in result.output


def test_ctrl_c_leaves_with_exit_130(interview: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: Any) -> str:
        raise KeyboardInterrupt
    monkeypatch.setattr("mgassist._interview.TerminalPrompter.ask", interrupted)
    result = interview([], "--json")
    assert result.exit_code == 130
    assert result.stdout == ""
    assert said(result)[-1] == (
        "interview cancelled (Ctrl-C): nothing was assessed or saved.")


def test_not_a_terminal_points_to_assess_and_exits_2(cli: Run) -> None:
    result = CliRunner().invoke(app, ["interview"], input="0.6 mmol/L\n")
    assert result.exit_code == 2
    assert "stdin is not" in result.stderr and "mgassist assess" in result.stderr
    assert "Serum magnesium" not in result.stderr


# --- the pure question logic ----------------------------------------------------------------

def test_questions_take_labels_units_and_examples_from_the_rules(rules: RuleSet) -> None:
    by_field = {q.field: q for q in questions(rules)}
    for name, rule in rules.quantities.items():
        question = by_field[name]
        assert question.label == rule.label
        assert rule.example in question.accepts
        if not rule.table.plain_number:
            assert all(unit in question.accepts for unit in rule.table.units)
    assert "furosemide" in by_field["meds"].completions
    assert "loop-diuretic" in by_field["meds"].completions


def test_pending_follows_the_renal_and_dose_branches(rules: RuleSet) -> None:
    asked = questions(rules)
    answers = {"mg": Checked("0.6 mmol/L", ""), "crcl": Checked("80 mL/min", "")}
    nxt = pending(asked, answers)
    assert nxt is not None and nxt.field == "age"
    answers["crcl"] = Checked("", "not given")
    nxt = pending(asked, answers)
    assert nxt is not None and nxt.field == "creatinine"
    done = {q.field: Checked("", "not given") for q in asked}
    done[TAKES_MAGNESIUM] = Checked("yes", "yes")
    del done["current_dose"]
    nxt = pending(asked, done)
    assert nxt is not None and nxt.field == "current_dose"


def test_pending_asks_egfr_only_without_crcl_and_albumin_only_with_calcium(
        rules: RuleSet) -> None:
    asked = questions(rules)
    blank = Checked("", "not given")
    answers = {"mg": Checked("0.6 mmol/L", ""), "crcl": blank, "creatinine": blank,
               "age": blank, "sex": blank, "weight": blank, "height": blank}
    nxt = pending(asked, answers)
    assert nxt is not None and nxt.field == "egfr"  # right after height
    answers["crcl"] = Checked("80 mL/min", "")
    nxt = pending(asked, answers)
    assert nxt is not None and nxt.field == "k"  # eGFR is not asked with a CrCl
    answers["k"] = blank
    answers["ca"] = Checked("2.10 mmol/L", "")
    nxt = pending(asked, answers)
    assert nxt is not None and nxt.field == "albumin"  # right after calcium
    answers["ca"] = blank
    nxt = pending(asked, answers)
    assert nxt is not None and nxt.field == "meds"  # no calcium, no albumin
    by_field = {q.field: q for q in asked}
    assert not by_field["egfr"].required and not by_field["albumin"].required


def test_check_returns_the_same_errors_as_the_parser(rules: RuleSet) -> None:
    mg = next(q for q in questions(rules) if q.field == "mg")
    errors = check(mg, "0.6 mmol", rules)
    assert isinstance(errors, tuple) and len(errors) == 1
    assert errors[0].field == "mg" and "did you mean" in str(errors[0])


def test_assess_command_quotes_for_the_shell(rules: RuleSet) -> None:
    asked = questions(rules)
    answers = {"mg": Checked("0.6 mmol/L", ""), "crcl": Checked("80 mL/min", ""),
               "meds": Checked("it's; furosemide", "")}
    command = assess_command(asked, answers, ["--json"])
    assert shlex.split(command) == ["mgassist", "assess", "--mg", "0.6 mmol/L", "--crcl",
                                    "80 mL/min", "--med", "it's", "--med", "furosemide",
                                    "--json"]
    assert list(patient_inputs(asked, answers)) == ["mg", "crcl", "meds"]  # FIELDS order


def test_assess_command_carries_egfr_and_albumin_only_where_they_are_asked(
        rules: RuleSet) -> None:
    asked = questions(rules)
    blank = Checked("", "not given")
    answers = {"mg": Checked("0.6 mmol/L", ""), "crcl": blank,
               "egfr": Checked("\u2265 90 mL/min/1.73 m\u00b2", ""),
               "ca": Checked("2.10 mmol/L", ""), "albumin": Checked("3.5 g/dL", "")}
    assert shlex.split(assess_command(asked, answers)) == [
        "mgassist", "assess", "--mg", "0.6 mmol/L", "--ca", "2.10 mmol/L", "--albumin",
        "3.5 g/dL", "--egfr", "\u2265 90 mL/min/1.73 m\u00b2"]
    # with a CrCl, or without a calcium, the earlier answers no longer apply
    answers["crcl"] = Checked("80 mL/min", "")
    answers["ca"] = blank
    assert shlex.split(assess_command(asked, answers)) == [
        "mgassist", "assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min"]


def test_docs_list_the_questions_in_the_order_they_are_asked(rules: RuleSet) -> None:
    doc = (REPO / "docs" / "interview.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", doc, re.MULTILINE)
    labels = [q.label for q in questions(rules)]
    assert [int(n) for n, _ in rows] == list(range(1, len(labels) + 1))
    # the docs write each label as the interview titles it: its first letter in capitals,
    # except in "eGFR" (test_egfr_question_is_titled_egfr_with_a_lower_case_e)
    assert [title.strip() for _, title in rows] == \
        [label if label == "eGFR" else label[:1].upper() + label[1:] for label in labels]


# --- revision 2: eGFR (only without a CrCl) and albumin (only with a calcium) ----------------

EGFR_TITLE = "eGFR"  # a title keeps the lower-case e (not "EGFR", the receptor)
EGFR_ACCEPTS = "  accepts: mL/min/1.73m2, e.g. 45 mL/min/1.73m2"
ALBUMIN_ACCEPTS = "  accepts: g/L or g/dL, e.g. 35 g/L"


def console(*args: str) -> Any:
    """``mgassist ARGS`` through the console entry point, as pasted into a shell."""
    return run_console(list(args))


def test_egfr_is_asked_after_height_only_without_a_crcl(interview: Run) -> None:
    result = interview(derived("0.6 mmol/L", "", "", "", "", egfr="52 mL/min/1.73m2"), "--json")
    data = as_json(result)
    assert questions_asked(result) == [
        "Serum magnesium", "Creatinine clearance", "Serum creatinine", "Age", "Sex",
        "Body weight", "Height", EGFR_TITLE, "Serum potassium", "Serum total calcium",
        "Medications", "Conditions", "Symptoms", "Indication",
        "Already taking a magnesium supplement"]
    assert EGFR_ACCEPTS in said(result)
    # nothing else known: the eGFR is the renal value (52: the 30-60 band)
    assert (data["derived"]["crcl_method"], data["derived"]["crcl_ml_min"]) == ("egfr", 52)
    assert data["status"] == "supplement-with-caution"
    assert data["inputs"] == {"mg": "0.6 mmol/L", "egfr": "52 mL/min/1.73m2"}
    with_crcl = interview(reported("0.6 mmol/L", "80 mL/min", ca="2.10 mmol/L",
                                   albumin="35 g/L"), "--json")
    assert EGFR_TITLE not in questions_asked(with_crcl)
    assert EGFR_ACCEPTS not in said(with_crcl)


def test_egfr_is_optional_and_skipped_with_enter(interview: Run) -> None:
    result = interview(derived("0.6 mmol/L", "1.0 mg/dL", "50", "male", "80 kg"), "--json")
    data = as_json(result)
    assert questions_asked(result)[7] == EGFR_TITLE
    assert "egfr" not in data["inputs"] and data["derived"]["egfr_ml_min_173"] is None
    assert re.search(r"^ +8 +eGFR +-$", result.stderr, re.MULTILINE)


def test_egfr_bound_is_accepted_in_the_interview(interview: Run) -> None:
    result = interview(derived("0.6 mmol/L", "", "", "", "", egfr="\u2265 90 mL/min/1.73 m\u00b2"),
                       "--json")
    data = as_json(result)
    assert (data["derived"]["egfr_comparator"], data["derived"]["egfr_ml_min_173"]) == (">=", 90)
    assert data["inputs"]["egfr"] == "\u2265 90 mL/min/1.73 m\u00b2"
    assert data["status"] == "supplement"


@pytest.mark.parametrize(("bad", "problem"), [
    ("60", "error: egfr: '60' has no unit; units are never guessed; accepted: mL/min/1.73m2 "
           "(e.g. '45 mL/min/1.73m2')"),
    ("60 mL/min", "error: egfr: '60 mL/min' unit 'mL/min' is a flow (volume/time), not a unit "
                  "of eGFR (did you mean mL/min/1.73m2?); accepted: mL/min/1.73m2 (e.g. "
                  "'45 mL/min/1.73m2')"),
    (">250 mL/min/1.73m2", "error: egfr: '>250 mL/min/1.73m2' is outside the plausible range "
                           "for eGFR; check the value and its unit; accepted: 1 mL/min/1.73m2 "
                           "to 200 mL/min/1.73m2"),
])
def test_a_bad_egfr_is_explained_then_asked_again(interview: Run, bad: str,
                                                  problem: str) -> None:
    lines = derived("0.6 mmol/L", "", "", "", "", egfr="52 mL/min/1.73m2")
    lines.insert(7, bad)
    result = interview(lines, "--json")
    assert as_json(result)["derived"]["egfr_ml_min_173"] == 52
    assert [line for line in said(result) if line.startswith("error:")] == [problem]
    assert questions_asked(result).count(EGFR_TITLE) == 1  # asked again, not re-titled


def test_albumin_is_asked_right_after_calcium_only_with_a_calcium(interview: Run) -> None:
    result = interview(reported("0.6 mmol/L", "80 mL/min", ca="2.10 mmol/L",
                                albumin="3.5 g/dL"), "--json")
    data = as_json(result)
    assert questions_asked(result) == [
        "Serum magnesium", "Creatinine clearance", "Age", "Serum potassium",
        "Serum total calcium", "Serum albumin", "Medications", "Conditions", "Symptoms",
        "Indication", "Already taking a magnesium supplement"]
    assert ALBUMIN_ACCEPTS in said(result)
    assert data["derived"]["albumin_g_l"] == pytest.approx(35.0)
    # Payne, by hand: 2.10 mmol/L = 8.416 mg/dL; 8.416 - 3.5 + 4.0 = 8.916 mg/dL = 2.225 mmol/L
    assert data["derived"]["ca_adjusted_mmol_l"] == pytest.approx(2.2248, abs=1e-3)
    assert data["inputs"] == {"mg": "0.6 mmol/L", "ca": "2.10 mmol/L", "albumin": "3.5 g/dL",
                              "crcl": "80 mL/min"}
    without = interview(reported("0.6 mmol/L", "80 mL/min"), "--json")
    assert "Serum albumin" not in questions_asked(without)
    assert ALBUMIN_ACCEPTS not in said(without)
    skipped = interview(reported("0.6 mmol/L", "80 mL/min", ca="2.10 mmol/L"), "--json")
    assert "Serum albumin" in questions_asked(skipped)  # asked, and Enter skips it
    assert "albumin" not in as_json(skipped)["inputs"]


def test_a_bad_albumin_is_explained_then_asked_again(interview: Run) -> None:
    lines = reported("0.6 mmol/L", "80 mL/min", ca="2.10 mmol/L", albumin="35 g/L")
    lines.insert(lines.index("35 g/L"), "35")
    lines.insert(lines.index("35 g/L"), "6.5 g/dL")
    result = interview(lines, "--json")
    assert as_json(result)["derived"]["albumin_g_l"] == 35
    assert [line for line in said(result) if line.startswith("error:")] == [
        "error: albumin: '35' has no unit; units are never guessed; accepted: g/L, g/dL "
        "(e.g. '35 g/L')",
        "error: albumin: '6.5 g/dL' is outside the plausible range for serum albumin; check "
        "the value and its unit; accepted: 10 g/L to 60 g/L"]


def test_question_mark_lists_units_and_range_of_egfr_and_albumin(interview: Run) -> None:
    lines = derived("0.6 mmol/L", "", "", "", "", egfr="52 mL/min/1.73m2", ca="2.10 mmol/L",
                    albumin="35 g/L")
    lines.insert(lines.index("35 g/L"), "?")
    lines.insert(lines.index("52 mL/min/1.73m2"), "?")
    result = interview(lines, "--json")
    assert as_json(result)["derived"]["albumin_g_l"] == 35
    shown = said(result)
    egfr_at = shown.index("  accepted: mL/min/1.73m2, e.g. 45 mL/min/1.73m2")
    assert shown[egfr_at + 1] == "  plausible: 1 mL/min/1.73m2 to 200 mL/min/1.73m2"
    albumin_at = shown.index("  accepted: g/L or g/dL, e.g. 35 g/L")
    assert shown[albumin_at + 1] == "  plausible: 10 g/L to 60 g/L"
    assert egfr_at < albumin_at


def test_summary_and_command_show_egfr_and_albumin(interview: Run) -> None:
    lines = derived("0.6 mmol/L", "", "", "", "", egfr=">60 mL/min/1.73m2", ca="2.10 mmol/L",
                    albumin="3.5 g/dL")
    result = interview(lines, "--json")
    summary = result.stderr[result.stderr.index("Your answers"):]
    assert re.search(r"^ +8 +eGFR +>60 mL/min/1\.73m2(  |$)", summary, re.MULTILINE), summary
    assert re.search(r"^ +10 +serum total calcium +2\.10 mmol/L$", summary, re.MULTILINE)
    assert re.search(r"^ +11 +serum albumin +3\.5 g/dL +-> 35\.0 g/L$", summary, re.MULTILINE)
    assert re.search(r"^ +16 +already taking a magnesium supplement", summary, re.MULTILINE)
    command = result.stderr.splitlines()[-1].strip()
    words = shlex.split(command)
    assert words == ["mgassist", "assess", "--mg", "0.6 mmol/L", "--ca", "2.10 mmol/L",
                     "--albumin", "3.5 g/dL", "--egfr", ">60 mL/min/1.73m2", "--json"]
    code, stdout, _ = console(*words[1:])
    assert code == 0
    assert stdout == result.stdout  # byte for byte, inputs included
    data = as_json(result)
    assert (data["derived"]["egfr_comparator"], data["derived"]["crcl_method"]) == (">", "egfr")


def test_a_crcl_given_in_the_summary_drops_the_egfr_answer(interview: Run) -> None:
    lines = derived("0.6 mmol/L", "", "", "", "", egfr="50 mL/min/1.73m2",
                    confirm=("2", "80 mL/min", ""))
    result = interview(lines, "--json")
    data = as_json(result)
    assert "egfr" not in data["inputs"] and data["derived"]["egfr_ml_min_173"] is None
    assert (data["derived"]["crcl_method"], data["status"]) == ("reported", "supplement")
    last = result.stderr[result.stderr.rindex("Your answers"):]
    assert "eGFR" not in last and "--egfr" not in last


def test_clearing_the_calcium_drops_the_albumin_answer(interview: Run) -> None:
    lines = reported("0.6 mmol/L", "80 mL/min", ca="2.10 mmol/L", albumin="35 g/L",
                     confirm=("5", "-", ""))
    result = interview(lines, "--json")
    data = as_json(result)
    assert "ca" not in data["inputs"] and "albumin" not in data["inputs"]
    assert data["derived"]["albumin_g_l"] is None
    last = result.stderr[result.stderr.rindex("Your answers"):]
    assert "serum albumin" not in last and "--albumin" not in last


def test_egfr_question_is_titled_egfr_with_a_lower_case_e(interview: Run) -> None:
    """Capitalizing the label gave "EGFR", which reads as the receptor of the egfr-antibody
    medication class (cetuximab, panitumumab)."""
    result = interview(derived("0.6 mmol/L", "", "", "", "", egfr="52 mL/min/1.73m2"), "--json")
    assert "eGFR" in questions_asked(result) and "EGFR" not in result.stderr


def test_summary_keeps_the_bound_of_an_egfr_as_used(interview: Run) -> None:
    # was: '>60 mL/min/1.73m2 -> 60 mL/min/1.73m2' (the bound dropped from "as used")
    result = interview(derived("0.6 mmol/L", "", "", "", "", egfr=">60 mL/min/1.73m2"), "--json")
    assert re.search(r"^ +8 +eGFR +>60 mL/min/1\.73m2$", result.stderr, re.MULTILINE), \
        result.stderr
