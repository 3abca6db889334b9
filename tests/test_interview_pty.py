"""``mgassist interview`` as a person meets it: the real program in a pseudo-terminal (pexpect),
answering each question as it appears, reading the report, pressing Ctrl-C, Ctrl-D and Tab."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

TIMEOUT = 30  # seconds: generous for a slow CI machine; a hang fails instead of blocking


def spawn(*args: str, cwd: Path) -> tuple[pexpect.spawn, io.StringIO]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "LINES": "50", "TERM": "xterm"}
    env.pop("MGASSIST_DEBUG", None)
    # preexec_fn: Ctrl-C must reach the program even when the tests run in a background job,
    # which a shell starts with SIGINT ignored
    child = pexpect.spawn(sys.executable, ["-m", "mgassist", "interview", *args], cwd=str(cwd),
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                          env=env, encoding="utf-8", timeout=TIMEOUT, dimensions=(50, 100))
    transcript = io.StringIO()
    child.logfile_read = transcript
    return child, transcript


def answer(child: pexpect.spawn, question: str, reply: str) -> None:
    """Wait for ``question`` and its prompt, then type ``reply`` and Enter."""
    child.expect_exact(question)
    child.expect_exact("> ")
    child.sendline(reply)


def test_a_full_session_in_a_terminal_ends_with_the_report(tmp_path: Path) -> None:
    child, transcript = spawn(cwd=tmp_path)
    answer(child, "Serum magnesium (required)", "1.5")  # no unit: explained, asked again
    child.expect_exact("has no unit; units are never guessed")
    child.expect_exact("> ")
    child.sendline("1.5 mg/dL")
    answer(child, "Creatinine clearance", "")
    answer(child, "Serum creatinine", "1.4 mg/dL")
    answer(child, "Age", "72")
    answer(child, "Sex", "female")
    answer(child, "Body weight", "60 kg")
    answer(child, "Height", "165 cm")
    # eGFR (asked without a CrCl), typed with the keyboard's ≥ and ²: echoed beside the
    # Cockcroft-Gault estimate, which decides
    answer(child, "accepts: mL/min/1.73m2", "\u2265 60 mL/min/1.73 m\u00b2")
    answer(child, "Serum potassium", "3.2 mmol/L")
    answer(child, "Serum total calcium", "2.30 mmol/L")
    answer(child, "Serum albumin", "38 g/L")  # asked only because a calcium was given
    answer(child, "Medications", "furosemide, omeprazole")
    answer(child, "Conditions", "")
    answer(child, "Symptoms", "")
    answer(child, "Indication", "documented-hypomagnesemia")
    answer(child, "Already taking a magnesium supplement", "no")
    child.expect_exact("Your answers (as typed -> as used):")
    child.expect_exact("-> 0.617 mmol/L")
    child.expect_exact("\u2265 60 mL/min/1.73 m\u00b2")
    child.expect_exact("38 g/L")
    child.expect_exact("Enter to assess, or the number of an answer to change: ")
    child.sendline("")
    # 32.6 mL/min by Cockcroft-Gault (worked by hand in test_interview.py): 30-60 band.
    child.expect_exact("DECISION: SUPPLEMENT WITH CAUTION")
    # the brief report: the decision box's first action, findings by title
    child.expect_exact("Correct magnesium with or before potassium, as the decision allows")
    child.expect_exact("Low potassium too: magnesium first or with it")
    child.expect_exact("Show the full report")
    child.sendline("y")
    child.expect_exact("(correct-mg-before-k)")  # the full report names the rule too
    child.expect_exact("Cockcroft-Gault: ideal weight")
    child.expect_exact("The same assessment in one command:")
    child.expect_exact("--albumin '38 g/L' --creatinine '1.4 mg/dL' --egfr "
                       "'\u2265 60 mL/min/1.73 m\u00b2'")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, transcript.getvalue()
    assert "Traceback" not in transcript.getvalue()
    assert list(tmp_path.iterdir()) == []  # nothing written without --save
    Path(os.environ.get("MGASSIST_TRANSCRIPT", os.devnull)).write_text(
        transcript.getvalue(), encoding="utf-8")


def test_tab_completes_a_drug_name(tmp_path: Path) -> None:
    child, transcript = spawn("--json", cwd=tmp_path)
    answer(child, "Serum magnesium", "0.6 mmol/L")
    answer(child, "Creatinine clearance", "80 mL/min")
    for question in ("Age", "Serum potassium", "Serum total calcium"):
        answer(child, question, "")
    child.expect_exact("Medications")
    child.expect_exact("> ")
    child.send("furos\t")
    child.expect_exact("furosemide")
    child.sendline("")
    for question in ("Conditions", "Symptoms", "Indication",
                     "Already taking a magnesium supplement"):
        answer(child, question, "")
    child.expect_exact("Enter to assess")
    child.sendline("")
    child.expect_exact('"status": "supplement"')
    child.expect_exact('"meds": [')
    child.expect_exact('"furosemide"')
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, transcript.getvalue()
    # with a CrCl and no calcium, neither eGFR nor albumin is asked
    assert "mL/min/1.73m2" not in transcript.getvalue()
    assert "Serum albumin" not in transcript.getvalue()


@pytest.mark.parametrize(("key", "status", "message"), [
    ("\x03", 130, "interview cancelled (Ctrl-C): nothing was assessed or saved."),
    ("\x04", 1, "interview ended (end of input): nothing was assessed or saved."),
])
def test_ctrl_c_and_ctrl_d_leave_cleanly(tmp_path: Path, key: str, status: int,
                                         message: str) -> None:
    child, transcript = spawn("--save", str(tmp_path / "a.json"), cwd=tmp_path)
    answer(child, "Serum magnesium", "0.6 mmol/L")
    child.expect_exact("Creatinine clearance")
    child.expect_exact("> ")
    child.send(key)
    child.expect_exact(message)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == status, transcript.getvalue()
    after = transcript.getvalue().split("> ")[-1]
    assert "Traceback" not in transcript.getvalue()
    lines = [line.strip() for line in after.splitlines() if line.strip()]
    if lines[0] in ("^C", "^D"):  # the terminal's echo of the key, when it shows one
        lines = lines[1:]
    # what was answered before leaving is not lost: it is printed as a command
    assert lines == [LEFT_PARTIAL, "mgassist assess --mg '0.6 mmol/L'", message]
    assert list(tmp_path.iterdir()) == []


LEAVE = "Leave without assessing? Nothing will be saved. [y/N] "
LEFT = "Your answers as one command, to assess them later:"
LEFT_PARTIAL = "Your answers so far as one command (questions not reached are left out):"


def to_the_summary(child: pexpect.spawn) -> None:
    """Answer every question (a drug name with an apostrophe, to test the quoting), up to the
    summary's prompt."""
    answer(child, "Serum magnesium", "0.6 mmol/L")
    answer(child, "Creatinine clearance", "80 mL/min")
    answer(child, "Age", "55")
    answer(child, "Serum potassium", "")
    answer(child, "Serum total calcium", "")
    answer(child, "Medications", "St John's wort")
    for question in ("Conditions", "Symptoms", "Indication",
                     "Already taking a magnesium supplement"):
        answer(child, question, "")
    child.expect_exact("Your answers (as typed -> as used):")
    child.expect_exact("  4  age")  # numbered as in docs/interview.md, whatever is skipped
    child.expect_exact("Enter to assess, or the number of an answer to change: ")


def test_ctrl_c_at_the_summary_asks_and_yes_prints_the_command(tmp_path: Path) -> None:
    child, transcript = spawn("--save", str(tmp_path / "a.json"), cwd=tmp_path)
    to_the_summary(child)
    child.send("\x03")
    child.expect_exact(LEAVE)
    child.sendline("y")
    child.expect_exact(LEFT)
    child.expect_exact("\r\n  ")
    child.expect_exact("\r\n")
    command = child.before
    child.expect_exact("interview cancelled (Ctrl-C): nothing was assessed or saved.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, transcript.getvalue()
    assert "Traceback" not in transcript.getvalue()
    assert list(tmp_path.iterdir()) == []
    assert command == ("mgassist assess --mg '0.6 mmol/L' --crcl '80 mL/min' --age 55 "
                       "--med 'St John'\"'\"'s wort'")
    # pasted into a shell as printed, it assesses the patient
    bin_dir = str(Path(sys.executable).parent)  # where the mgassist script is installed
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "NO_COLOR": "1"}
    done = subprocess.run(["/bin/sh", "-c", command + " --json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "supplement"
    assert data["inputs"]["meds"] == ["St John's wort"]


def test_no_at_the_leave_question_returns_to_the_summary_and_enter_assesses(
        tmp_path: Path) -> None:
    child, transcript = spawn(cwd=tmp_path)
    to_the_summary(child)
    child.send("\x03")
    child.expect_exact(LEAVE)
    child.sendline("n")
    child.expect_exact("Your answers (as typed -> as used):")
    child.expect_exact("  4  age")
    child.expect_exact("Enter to assess, or the number of an answer to change: ")
    child.sendline("")
    child.expect_exact("DECISION: SUPPLEMENT")
    child.expect_exact("Show the full report")
    child.sendline("")
    child.expect_exact("The same assessment in one command:")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, transcript.getvalue()
    assert transcript.getvalue().count(LEAVE) == 1
    assert LEFT not in transcript.getvalue()
    assert "cancelled" not in transcript.getvalue()


def test_piped_stdin_is_refused_instead_of_hanging(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mgassist", "interview"], cwd=tmp_path,
                          input="0.6 mmol/L\n", capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: interview asks its questions at a terminal")
    assert "mgassist assess" in done.stderr and "mgassist batch FILE" in done.stderr


def test_json_redirected_to_a_file_keeps_questions_on_the_terminal(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm"}
    command = f"{sys.executable} -m mgassist interview --json > out.json"
    child = pexpect.spawn("/bin/sh", ["-c", command], cwd=str(tmp_path), env=env,
                          encoding="utf-8", timeout=TIMEOUT)
    answer(child, "Serum magnesium", "0.9 mmol/L")
    answer(child, "Creatinine clearance", "80 mL/min")
    for question in ("Age", "Serum potassium", "Serum total calcium", "Medications",
                     "Conditions", "Symptoms", "Indication",
                     "Already taking a magnesium supplement"):
        answer(child, question, "")
    child.expect_exact("Enter to assess")
    child.sendline("")
    child.expect_exact("The same assessment in one command:")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    saved = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))  # JSON only
    assert saved["status"] == "do-not-supplement"
