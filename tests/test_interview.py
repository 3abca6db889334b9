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
from mgassist._shell.cli import app
from mgassist._shell.interview import TerminalPrompter, run_interview
from mgassist._shell.questions import (
    TAKES_MAGNESIUM,
    Checked,
    assess_command,
    check,
    explain_not_needed,
    misplaced,
    patient_inputs,
    pending,
    questions,
    summary,
)

Run = Callable[..., Any]


@pytest.fixture(autouse=True)
def _bundled_rules_loaded_once(rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reuse the session's bundled rules (``--rules PATH`` still loads PATH)."""
    from mgassist._rulebook import loader as _rules_loader
    original = _rules_loader.load_rules
    monkeypatch.setattr(_rules_loader, "load_rules",
                        lambda path=None: rules if path is None else original(path))


CTRL_C = "^C"  # a scripted line that stands for pressing Ctrl-C at that prompt
CTRL_D = "^D"  # ... and for Ctrl-D


@pytest.fixture
def interview(monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``mgassist interview ARGS`` answering with ``lines`` as if typed at a terminal
    (``CTRL_C`` and ``CTRL_D`` as a line press those keys instead)."""
    monkeypatch.setattr("mgassist._shell.interview.stdin_is_terminal", lambda: True)
    typed = TerminalPrompter.ask

    def ask(self: TerminalPrompter, prompt: str, completions: Any) -> str:
        text = typed(self, prompt, completions)
        if text == CTRL_C:
            raise KeyboardInterrupt
        if text == CTRL_D:
            raise EOFError
        return text
    monkeypatch.setattr(TerminalPrompter, "ask", ask)
    runner = CliRunner()

    def run(lines: list[str], *args: str) -> Any:
        # as a terminal sends them: "\udcff" is the byte 0xff, which is not UTF-8
        typed = "".join(f"{x}\n" for x in lines).encode("utf-8", "surrogateescape")
        return runner.invoke(app, ["interview", *args], input=typed, catch_exceptions=False)
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


SUMMARY_PROMPT = "Enter to assess, or the number of an answer to change: "


def summaries(result: Any) -> list[list[str]]:
    """Each summary shown, as its numbered lines."""
    shown: list[list[str]] = []
    inside = False
    for line in said(result):
        if line == "Your answers (as typed -> as used):":
            shown.append([])
            inside = True
        elif inside and re.match(r"^ +\d+  ", line):
            shown[-1].append(line)
        else:
            inside = False
    return shown


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
    assert re.search(r"^ +11 +serum albumin +\(not needed: no calcium given\)$",
                     result.stderr, re.MULTILINE)
    assert re.search(r"^ +16 +already taking a magnesium supplement +- +-> no$",
                     result.stderr, re.MULTILINE)


def test_magnesium_is_required_and_says_why(interview: Run) -> None:
    result = interview(["", *reported("0.6 mmol/L", "80 mL/min")], "--json")
    assert as_json(result)["status"] == "supplement"
    assert "error: serum magnesium: is required: every decision depends on it" in result.stderr
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
    # the message assess gives in JSON (the command line names the flag, --mg, instead)
    message = json.loads(cli("assess", "--mg", "0.6", "--json").stdout)["error"]["message"]
    assert message == ("mg (serum magnesium): '0.6' has no unit; units are never guessed; "
                       "accepted: mmol/L, mEq/L, mg/dL (e.g. '0.62 mmol/L')")
    # the interview names the field in words, as its question does ("mg" reads as milligrams)
    assert "error: serum magnesium: " + message.split(": ", 1)[1] in said(result)
    assert "Please answer again" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("question_index", "bad", "problem"), [
    (1, "80", "error: creatinine clearance: '80' has no unit; units are never guessed"),
    (1, "80 mg/dL", "unit 'mg/dL' is a mass concentration, not a unit of creatinine clearance"),
    (2, "abc", "age: 'abc' does not start with a number"),
    (3, "12 mmol/L", "error: serum potassium: '12 mmol/L' is outside the plausible range"),
    (5, "frusemidee", "is not a known medication (did you mean 'frusemide'?)"),
    (5, "\udcffmed", "medications: '\\udcffmed' is not valid UTF-8"),  # --json raised TypeError
    (0, "0.6 \udcff mmol/L", "serum magnesium: '0.6 \\udcff mmol/L' is not valid UTF-8"),
    (8, "cramp-ish", "indication: 'cramp-ish' is not a known indication"),
    (9, "maybe", "takes magnesium: 'maybe' is not an answer; accepted: yes or no"),
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
                                      confirm=("4", "", "")), "--json"))
    assert kept["inputs"]["age"] == "50"
    cleared = as_json(interview(reported("0.6 mmol/L", "80 mL/min", "50",
                                         confirm=("4", "-", "")), "--json"))
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
    assert SUMMARY_PROMPT + "'99' is not an answer number; type 1 to 18, or press Enter to " \
        "assess." in said(result)


# --- summary numbers keep their meaning (issue 15) ------------------------------------------

WITH_CRCL = [
    "   1  serum magnesium                            0.6 mmol/L",
    "   2  creatinine clearance                       80 mL/min",
    "   3  serum creatinine                           (not needed: a CrCl is given)",
    "   4  age                                        55          -> 55 years",
    "   5  sex                                        (not needed: a CrCl is given)",
    "   6  body weight                                (not needed: a CrCl is given)",
    "   7  height                                     (not needed: a CrCl is given)",
    "   8  eGFR                                       (not needed: a CrCl is given)",
    "   9  serum potassium                            -",
    "  10  serum total calcium                        -",
    "  11  serum albumin                              (not needed: no calcium given)",
    "  12  medications                                -",
    "  13  conditions                                 -",
    "  14  symptoms                                   -",
    "  15  indication                                 -",
    "  16  already taking a magnesium supplement      -           -> no",
    "  17  elemental magnesium already taken per day  (not needed: not taking magnesium)",
    "  18  days on the current magnesium dose         (not needed: not taking magnesium)",
]
WITHOUT_CRCL = [
    "   1  serum magnesium                            0.6 mmol/L",
    "   2  creatinine clearance                       -",
    "   3  serum creatinine                           1.0 mg/dL",
    "   4  age                                        55          -> 55 years",
    "   5  sex                                        male",
    "   6  body weight                                80 kg",
    "   7  height                                     -",
    "   8  eGFR                                       -",
    *WITH_CRCL[8:],
]


def test_summary_numbers_every_question_once_so_numbers_never_shift(interview: Run) -> None:
    # Was: rows appeared and vanished with the CrCl, so 3 was age in one summary and serum
    # creatinine in the next. Now a question keeps its number (the docs' table); one that
    # does not apply says why.
    lines = reported("0.6 mmol/L", "80 mL/min", "55",
                     confirm=("2", "-", "1.0 mg/dL", "male", "80 kg", "", "", "4", "", ""))
    result = interview(lines, "--json")
    assert as_json(result)["derived"]["crcl_method"] == "cockcroft-gault"
    assert summaries(result) == [WITH_CRCL, WITHOUT_CRCL, WITHOUT_CRCL]
    assert questions_asked(result)[-1] == "Age"  # 4 is age in both summaries


def test_choosing_a_question_that_is_not_needed_says_what_to_change(interview: Run) -> None:
    result = interview(reported("0.6 mmol/L", "80 mL/min", "55", confirm=("3", "11", "17", "")),
                       "--json")
    assert as_json(result)["inputs"] == {"mg": "0.6 mmol/L", "crcl": "80 mL/min", "age": "55"}
    shown = said(result)
    for message in [
        "3 (serum creatinine) is not needed: a CrCl is given. To answer it, clear 2 "
        "(creatinine clearance) first.",
        "11 (serum albumin) is not needed: no calcium given. To answer it, give 10 (serum "
        "total calcium) first.",
        "17 (elemental magnesium already taken per day) is not needed: not taking magnesium. "
        "To answer it, answer yes to 16 (already taking a magnesium supplement) first.",
    ]:
        assert SUMMARY_PROMPT + message in shown
    assert summaries(result) == [WITH_CRCL] * 4  # nothing changed, nothing asked
    assert questions_asked(result).count("Serum creatinine") == 0


def test_summary_rows_are_numbered_by_question_not_by_answer(rules: RuleSet) -> None:
    asked = questions(rules)
    blank = Checked("", "not given")
    answers = {q.field: blank for q in asked}
    answers["crcl"] = Checked("80 mL/min", "80 mL/min")
    rows = summary(asked, answers)
    assert [r.number for r in rows] == list(range(1, 19))
    assert [r.field for r in rows if r.not_needed] == [
        "creatinine", "sex", "weight", "height", "egfr", "albumin", "current_dose",
        "days_on_dose"]
    assert explain_not_needed(asked, "egfr") == (
        "8 (eGFR) is not needed: a CrCl is given. To answer it, clear 2 (creatinine clearance) "
        "first.")


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
    # the same brief report; only its last lines differ: assess says how to see the full one
    # (--full), the interview asks instead
    assert report_body(result.stdout) == report_body(
        cli("assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min").stdout)
    assert "DECISION: SUPPLEMENT" in result.stdout
    assert "Full report: --full." not in result.stdout



def test_the_full_report_is_offered_after_the_brief_one(interview: Run) -> None:
    from mgassist._shell.interview import FULL_PROMPT

    brief = interview(reported("0.6 mmol/L", "80 mL/min"))  # end of input at the offer: no
    full = interview([*reported("0.6 mmol/L", "80 mL/min"), "y"])
    assert brief.exit_code == full.exit_code == 0
    assert FULL_PROMPT in brief.stderr and FULL_PROMPT in full.stderr
    assert "Inputs as used" not in brief.stdout
    # the brief report, then the full one (its findings table and inputs)
    assert full.stdout.startswith(report_body(brief.stdout))
    assert full.stdout.count("DECISION: SUPPLEMENT") == 2
    assert "Inputs as used" in full.stdout and "Findings (most severe first)" in full.stdout
    no_full_with_json = interview([*reported("0.6 mmol/L", "80 mL/min"), "y"], "--json")
    assert FULL_PROMPT not in no_full_with_json.stderr  # JSON is complete already

def report_body(out: str) -> str:
    """The report without its closing lines (the disclaimer, and assess's --full hint)."""
    return out.split("\nFull report: --full.")[0].split("\nmgassist supports")[0]


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

def test_end_of_input_leaves_with_exit_1_after_the_answers_so_far(interview: Run) -> None:
    result = interview(["0.6 mmol/L", "80 mL/min"], "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert said(result)[-5:] == [
        "",  # the age question's prompt, left by Ctrl-D
        "Your answers so far as one command (questions not reached are left out):",
        "  mgassist assess --mg '0.6 mmol/L' --crcl '80 mL/min' --json",  # as it was run
        "",
        "interview ended (end of input): nothing was assessed or saved."]
    assert "Traceback" not in result.output


def test_ctrl_c_leaves_with_exit_130(interview: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: Any) -> str:
        raise KeyboardInterrupt
    monkeypatch.setattr("mgassist._shell.interview.TerminalPrompter.ask", interrupted)
    result = interview([], "--json")
    assert result.exit_code == 130
    assert result.stdout == ""
    assert said(result)[-1] == (
        "interview cancelled (Ctrl-C): nothing was assessed or saved.")


LEAVE = "Leave without assessing? Nothing will be saved. [y/N] "
LEFT = "Your answers as one command, to assess them later:"
LEFT_PARTIAL = "Your answers so far as one command (questions not reached are left out):"
CANCELLED = "interview cancelled (Ctrl-C): nothing was assessed or saved."
ENDED = "interview ended (end of input): nothing was assessed or saved."


def test_ctrl_c_at_the_summary_asks_then_prints_the_command_and_exits_130(
        interview: Run, cli: Run) -> None:
    # Was: Ctrl-C at the summary dropped every answer at once.
    answers = reported("0.6 mmol/L", "80 mL/min", "55", meds="St John's wort, furosemide",
                       confirm=())
    result = interview([*answers, CTRL_C, "y"])
    assert result.exit_code == 130
    assert result.stdout == ""
    command = ("  mgassist assess --mg '0.6 mmol/L' --crcl '80 mL/min' --age 55 "
               "--med 'St John'\"'\"'s wort' --med furosemide")
    assert said(result)[-5:] == [
        SUMMARY_PROMPT,  # left by Ctrl-C
        LEAVE + LEFT,  # "y" and its newline are the terminal's echo, absent here
        command,
        "",
        CANCELLED]
    # valid shell, and it assesses what the interview would have
    words = shlex.split(command)
    assert words[4:6] == ["--crcl", "80 mL/min"] and "St John's wort" in words
    again = cli(*words[1:])
    assert again.exit_code == 0
    assert report_body(again.stdout) == report_body(interview([*answers, ""]).stdout)


def test_no_or_enter_at_the_leave_question_returns_to_the_same_summary(interview: Run) -> None:
    lines = reported("0.6 mmol/L", "80 mL/min", "55",
                     confirm=(CTRL_C, "n", CTRL_C, "", CTRL_C, "maybe", "No", ""))
    result = interview(lines, "--json")
    assert as_json(result)["status"] == "supplement"
    assert summaries(result) == [WITH_CRCL] * 4
    shown = said(result)
    # asked after each Ctrl-C; "n", Enter and "No" each end the line (input is not echoed)
    assert shown.count(LEAVE) == 3 and shown.count(LEAVE + "Please answer y or n.") == 1
    assert LEFT not in result.stderr and "cancelled" not in result.stderr


@pytest.mark.parametrize("key", [CTRL_C, CTRL_D])
def test_a_second_ctrl_c_or_ctrl_d_at_the_leave_question_leaves(interview: Run,
                                                                  key: str) -> None:
    result = interview(reported("0.6 mmol/L", "80 mL/min", confirm=(CTRL_C, key)))
    assert result.exit_code == 130
    assert said(result)[-6:] == [
        SUMMARY_PROMPT, LEAVE, LEFT, "  mgassist assess --mg '0.6 mmol/L' --crcl '80 mL/min'",
        "", CANCELLED]


def test_ctrl_d_at_the_summary_prints_the_command_and_exits_1(interview: Run) -> None:
    result = interview(reported("0.6 mmol/L", "80 mL/min", confirm=(CTRL_D,)))
    assert result.exit_code == 1
    assert said(result)[-5:] == [
        SUMMARY_PROMPT, LEFT, "  mgassist assess --mg '0.6 mmol/L' --crcl '80 mL/min'", "",
        ENDED]


def test_ctrl_c_while_correcting_keeps_the_answers_the_summary_showed(interview: Run) -> None:
    # CrCl cleared, then Ctrl-C at the creatinine question it brings: No returns to the
    # summary as it was, CrCl included; Yes prints that summary's command.
    back = interview(reported("0.6 mmol/L", "80 mL/min", "55",
                              confirm=("2", "-", CTRL_C, "n", "")), "--json")
    assert summaries(back) == [WITH_CRCL, WITH_CRCL]
    assert as_json(back)["inputs"]["crcl"] == "80 mL/min"
    left = interview(reported("0.6 mmol/L", "80 mL/min", "55", confirm=("2", "-", CTRL_C, "y")))
    assert left.exit_code == 130
    assert said(left)[-4:] == [
        LEAVE + LEFT, "  mgassist assess --mg '0.6 mmol/L' --crcl '80 mL/min' --age 55", "",
        CANCELLED]


def test_ctrl_c_before_the_summary_prints_the_answers_so_far(interview: Run) -> None:
    result = interview(["0.6 mmol/L", "", "1.0 mg/dL", "55", CTRL_C])
    assert result.exit_code == 130
    assert said(result)[-5:] == [
        "",  # the sex question's prompt, left by Ctrl-C
        LEFT_PARTIAL,
        "  mgassist assess --mg '0.6 mmol/L' --creatinine '1.0 mg/dL' --age 55",
        "",
        CANCELLED]
    nothing = interview(["unknown", "", CTRL_C])  # nothing to carry over: no command
    assert nothing.exit_code == 130
    assert said(nothing)[-2:] == ["", CANCELLED] and "mgassist assess" not in nothing.stderr


def test_the_command_on_leaving_carries_the_callers_options(rules: RuleSet) -> None:
    """What ``interview`` passes as ``command_extra`` (its --json and --rules) ends the
    command, as it ends the command printed after an assessment."""
    shown: list[str] = []
    script = iter(reported("0.6 mmol/L", "80 mL/min", confirm=(CTRL_C, "y")))

    class Script:
        def ask(self, prompt: str, completions: Any) -> str:
            shown.append(prompt)
            line = next(script)
            if line == CTRL_C:
                raise KeyboardInterrupt
            return line

        def say(self, text: str = "") -> None:
            shown.append(text)

    with pytest.raises(KeyboardInterrupt):
        run_interview(rules, Script(), command_extra=["--json", "--rules", "my rules/"])
    assert shown[-2:] == [LEFT, "  mgassist assess --mg '0.6 mmol/L' --crcl '80 mL/min' "
                                "--json --rules 'my rules/'"]


# --- an item typed at the wrong list question (issue 15) -------------------------------------

def test_a_symptom_typed_as_a_condition_moves_to_the_symptoms_question(interview: Run) -> None:
    # Was: "'tetany' is not a known condition", without saying that it is a symptom.
    result = interview(reported("0.6 mmol/L", "80 mL/min", "55", conditions="Tetany, diabetes",
                                symptoms="seizures"), "--json")
    data = as_json(result)
    assert data["inputs"]["conditions"] == ["diabetes"]
    assert data["inputs"]["symptoms"] == ["Tetany", "seizures"]
    shown = said(result)
    assert "note: 'Tetany' is a symptom, not a condition: moved to the symptoms question (14)." \
        in shown
    at = shown.index("Symptoms")
    assert shown[at + 1:at + 3] == [
        "  accepts: ids, several at once separated by commas; ? lists them",
        "  From an earlier answer: Tetany. Type any others, or Enter for just these."]
    assert not [line for line in shown if line.startswith("error:")]
    # Enter at the symptoms question keeps just the moved item
    kept = as_json(interview(reported("0.6 mmol/L", "80 mL/min", conditions="tetany"),
                             "--json"))
    assert kept["inputs"]["symptoms"] == ["tetany"] and "conditions" not in kept["inputs"]


@pytest.mark.parametrize(("answers", "note", "inputs"), [
    ({"conditions": "diabetes", "symptoms": "tetany, AKI"},
     "note: 'AKI' is a condition, not a symptom: added to the conditions answer (13).",
     {"conditions": ["diabetes", "AKI"], "symptoms": ["tetany"]}),
    ({"meds": "furosemide", "conditions": "omeprazole 20 mg"},
     "note: 'omeprazole 20 mg' is a medication, not a condition: added to the medications "
     "answer (12).",
     {"meds": ["furosemide", "omeprazole 20 mg"]}),
    ({"meds": "Lasix 40 mg, dehydration"},  # was: kept as a medication not recognised
     "note: 'dehydration' is a condition, not a medication: moved to the conditions question "
     "(13).",
     {"meds": ["Lasix 40 mg"], "conditions": ["dehydration"]}),
])
def test_conditions_symptoms_and_medications_go_where_they_belong(
        interview: Run, answers: dict[str, str], note: str,
        inputs: dict[str, list[str]]) -> None:
    result = interview(reported("0.6 mmol/L", "80 mL/min", **answers), "--json")
    data = as_json(result)
    assert note in said(result)
    assert [line for line in said(result) if line.startswith("note:")] == [note]
    assert {k: v for k, v in data["inputs"].items() if k in ("meds", "conditions",
                                                             "symptoms")} == inputs
    assert "medication-not-recognised" not in finding_ids(data)


def test_nothing_moves_while_the_answer_has_an_error(interview: Run) -> None:
    lines = reported("0.6 mmol/L", "80 mL/min", conditions="tetany")
    lines.insert(lines.index("tetany"), "tetany, hypocalcemia")
    result = interview(lines, "--json")
    assert as_json(result)["inputs"]["symptoms"] == ["tetany"]
    shown = said(result)
    errors = [line for line in shown if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: conditions: 'hypocalcemia' is not a known condition")
    notes = [i for i, line in enumerate(shown) if line.startswith("note:")]
    assert len(notes) == 1 and notes[0] > shown.index(errors[0])  # only after the retyping


def test_a_correction_moves_an_item_into_an_answer_already_given(interview: Run) -> None:
    result = interview(reported("0.6 mmol/L", "80 mL/min", symptoms="seizure",
                                confirm=("13", "diabetes, tetany", "")), "--json")
    data = as_json(result)
    assert (data["inputs"]["conditions"], data["inputs"]["symptoms"]) == (
        ["diabetes"], ["seizure", "tetany"])
    assert "note: 'tetany' is a symptom, not a condition: added to the symptoms answer (14)." \
        in said(result)
    assert summaries(result)[-1][12:14] == [
        "  13  conditions                                 diabetes",
        "  14  symptoms                                   seizure, tetany"]


def test_misplaced_keeps_what_the_question_accepts(rules: RuleSet) -> None:
    by_field = {q.field: q for q in questions(rules)}
    conditions, symptoms, meds = by_field["conditions"], by_field["symptoms"], by_field["meds"]
    assert misplaced(conditions, "Tetany, diabetes", rules) == (
        "diabetes", {"symptoms": ("Tetany",)})
    assert misplaced(conditions, "diabetes; aki", rules) == ("diabetes; aki", {})  # as typed
    assert misplaced(symptoms, "cramps", rules) == ("cramps", {})  # also an indication: stays
    assert misplaced(meds, "atorvastatin", rules) == ("atorvastatin", {})  # not recognised
    assert misplaced(meds, "seizure, Lasix", rules) == ("Lasix", {"symptoms": ("seizure",)})
    assert misplaced(conditions, "frusemidee", rules) == ("frusemidee", {})  # a typo: refused
    assert misplaced(conditions, "tetany, furosemide", rules) == (
        "", {"symptoms": ("tetany",), "meds": ("furosemide",)})
    assert misplaced(by_field["indication"], "tetany", rules) == ("tetany", {})


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
    ("60", "error: eGFR: '60' has no unit; units are never guessed; accepted: mL/min/1.73m2 "
           "(e.g. '45 mL/min/1.73m2')"),
    ("60 mL/min", "error: eGFR: '60 mL/min' unit 'mL/min' is a flow (volume/time), not a unit "
                  "of eGFR (did you mean mL/min/1.73m2?); accepted: mL/min/1.73m2 (e.g. "
                  "'45 mL/min/1.73m2')"),
    (">250 mL/min/1.73m2", "error: eGFR: '>250 mL/min/1.73m2' is outside the plausible range; "
                           "check the value and its unit; accepted: 1 to 200 mL/min/1.73m2"),
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
        "error: serum albumin: '35' has no unit; units are never guessed; accepted: "
        "g/L, g/dL (e.g. '35 g/L')",
        "error: serum albumin: '6.5 g/dL' is outside the plausible range; check "
        "the value and its unit; accepted: 10 to 60 g/L"]


def test_question_mark_lists_units_and_range_of_egfr_and_albumin(interview: Run) -> None:
    lines = derived("0.6 mmol/L", "", "", "", "", egfr="52 mL/min/1.73m2", ca="2.10 mmol/L",
                    albumin="35 g/L")
    lines.insert(lines.index("35 g/L"), "?")
    lines.insert(lines.index("52 mL/min/1.73m2"), "?")
    result = interview(lines, "--json")
    assert as_json(result)["derived"]["albumin_g_l"] == 35
    shown = said(result)
    egfr_at = shown.index("  accepted: mL/min/1.73m2, e.g. 45 mL/min/1.73m2")
    assert shown[egfr_at + 1] == "  plausible: 1 to 200 mL/min/1.73m2"
    albumin_at = shown.index("  accepted: g/L or g/dL, e.g. 35 g/L")
    assert shown[albumin_at + 1] == "  plausible: 10 to 60 g/L"
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
    assert ("   8  eGFR                                       (not needed: a CrCl is given)"
            in summaries(result)[-1])
    assert "--egfr" not in result.stderr


def test_clearing_the_calcium_drops_the_albumin_answer(interview: Run) -> None:
    lines = reported("0.6 mmol/L", "80 mL/min", ca="2.10 mmol/L", albumin="35 g/L",
                     confirm=("10", "-", ""))
    result = interview(lines, "--json")
    data = as_json(result)
    assert "ca" not in data["inputs"] and "albumin" not in data["inputs"]
    assert data["derived"]["albumin_g_l"] is None
    assert ("  11  serum albumin                              (not needed: no calcium given)"
            in summaries(result)[-1])
    assert "--albumin" not in result.stderr


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
