"""The entry point's quick path for ``assess`` gives exactly what the typer command gives:
same stdout, same stderr, same exit code, for valid, invalid and odd command lines."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgassist._shell import entry as _entry
from mgassist._shell.entry import quick_assess_args

VALUES = {
    "--mg": ["0.6 mmol/L", "1.5mg/dL", "0.6", "1.3 mEq/L", "", "9 mmol/L", "0.6 mmol"],
    "--crcl": ["80 mL/min", "25 mL/min", "15 mL/min", "80"],
    "--k": ["3.1 mmol/L", "3.5 mEq/L"],
    "--creatinine": ["1.1 mg/dL", "97 umol/L", "106 mg/dL"],
    "--age": ["70", "15", "abc"],
    "--sex": ["female", "m", "x"],
    "--weight": ["70 kg", "154 lb"],
    "--height": ["170 cm", "65 in"],
    "--med": ["furosemide", "ppi", "omeprazole; doxycycline", "aspirin", "furosemide, aspirin",
              ""],
    "--condition": ["chronic-diarrhea", "volume depletion"],
    "--symptom": ["seizure", "cramps"],
    "--indication": ["muscle-cramps", "migraine"],
    "--current-dose": ["12 mmol/day", "600 mg/day"],
    "--days-on-dose": ["10", "20"],
    "--crcl-weight": ["ideal", "actual", "bogus", " "],
}
ODD = ["--json", "--help", "--nope", "-x", "--mg=0.7 mmol/L", "--json=1", "--mg", "extra"]


pytestmark = pytest.mark.usefixtures("bundled_rules_loaded_once")


def run(argv: list[str], capsys: pytest.CaptureFixture[str], *, quick: bool
        ) -> tuple[int, str, str]:
    code = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.argv", ["mgassist", *argv])
        if not quick:
            patch.setattr(_entry, "quick_assess_args", lambda _argv: None)
        capsys.readouterr()
        try:
            _entry.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        out, err = capsys.readouterr()
    return code, out, err


def both(argv: list[str], capsys: Any) -> tuple[int, str, str]:
    quick = run(argv, capsys, quick=True)
    typer_path = run(argv, capsys, quick=False)
    assert quick == typer_path, argv
    return quick


@pytest.mark.parametrize("argv", [
    ["assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--json"],
    ["assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min"],
    ["assess", "--json", "--mg=1.5mg/dL", "--med", "furosemide", "--med", "ppi",
     "--crcl=45 mL/min"],
    ["assess", "--mg", "0.6", "--json"],
    ["assess", "--mg", "0.6", "--age", "abc", "--json"],
    ["assess", "--mg", "0.6 mmol/L", "--mg", "0.9 mmol/L", "--crcl", "80 mL/min", "--json"],
    ["assess", "--mg", "", "--json"],
    ["assess", "--mg="],
    ["assess", "--mg", "0.6 mmol/L", "--mg=0.6 mmol/L"],
    ["assess", "--sex", "f", "--sex", "m", "--sex", "", "--json"],
    ["assess", "--creatinine", "106 mg/dL", "--mg", "0.6"],
    ["assess", "--mg", "0.6 mmol/L", "--med", "furosemide,omeprazole", "--json"],
    ["assess", "--mg", "0.6 mmol/L", "--med", "Lasix 40 mg, twice daily"],
    ["assess"],
    ["assess", "--json"],
    ["assess", "--json", "--rules", "/nonexistent/rules"],
    ["assess", "--rules", "/nonexistent/rules", "--mg", "0.6 mmol/L", "--json"],
])
def test_quick_path_equals_typer_path(argv: list[str], capsys: Any) -> None:
    code, out, err = both(argv, capsys)
    assert code in (0, 2)
    assert "Traceback" not in err


def test_quick_path_is_taken_for_plain_assess_and_not_otherwise() -> None:
    parsed = quick_assess_args(["assess", "--crcl", "80 mL/min", "--med", "a", "--mg=0.6 mmol/L",
                                "--med", "b", "--json"])
    assert parsed is not None
    raw, rules, as_json, full = parsed
    assert list(raw) == ["mg", "crcl", "meds"]  # FIELDS order, as the typer command builds it
    # every value of every flag as typed: run_assess refuses repeats and empty values
    assert raw == {"mg": ["0.6 mmol/L"], "crcl": ["80 mL/min"], "meds": ["a", "b"]}
    assert rules is None and as_json and not full
    assert quick_assess_args(["assess", "--mg", "0.6 mmol/L", "--full"]) == (
        {"mg": ["0.6 mmol/L"]}, None, False, True)
    repeated = quick_assess_args(["assess", "--mg", "", "--mg=0.7 mmol/L"])
    assert repeated is not None and repeated[0] == {"mg": ["", "0.7 mmol/L"]}
    for argv in (["assess", "--help"], ["assess", "-h"], ["assess", "--nope", "1"],
                 ["assess", "--mg"], ["assess", "--mg", "-1 mmol/L"], ["assess", "x"],
                 ["interview"], [], ["assess", "--json=1"], ["vocab"], ["--version"],
                 ["assess"], ["assess", "--json"], ["assess", "--rules", "rules", "--json"]):
        assert quick_assess_args(argv) is None, argv


def test_shell_completion_is_left_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_MGASSIST_COMPLETE", "complete_bash")
    assert quick_assess_args(["assess", "--mg", "0.6 mmol/L"]) is None


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.one_of(
    st.sampled_from(sorted(VALUES)).flatmap(
        lambda flag: st.sampled_from(VALUES[flag]).map(lambda value: [flag, value])),
    st.sampled_from(ODD).map(lambda word: [word])), max_size=7))
def test_generated_command_lines_agree(pieces: list[list[str]], capsys: Any) -> None:
    argv = ["assess", *(word for piece in pieces for word in piece)]
    code, _, err = both(argv, capsys)
    assert code in (0, 2)
    assert "Traceback" not in err


EMPTY_RULES = ("Invalid value for '--rules': an empty path; give a rule file or folder (leave it "
               "out to use the bundled rules)")


@pytest.mark.parametrize("argv", [
    ["assess", "--rules", "", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min"],
    ["assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--rules="],
    ["assess", "--rules", "  ", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min"],
    ["batch", "-", "--rules", ""],
    ["interview", "--rules", ""],
    ["units", "--rules", ""],
    ["rules", "test", "--rules", ""],
    ["rules", "show", "--rules", ""],
])
def test_an_empty_rule_path_is_refused_not_read_as_the_current_folder(
        argv: list[str], capsys: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # `--rules "$RULES"` with RULES unset: the current folder holds a YAML file that would be
    # reported if it were read as the rule set
    monkeypatch.chdir(tmp_path)
    (tmp_path / "decision.yaml").write_text("this: is not a rule set\n", encoding="utf-8")
    code, out, err = run(argv, capsys, quick=True)
    assert code == 2
    assert EMPTY_RULES in " ".join(err.split())
    assert "decision.yaml" not in out + err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "name", "accepted"), [
    (["rules", "validate", ""], "PATH",
     "a rule file or folder (leave it out to use the bundled rules)"),
    (["rules", "test", ""], "PATH",
     "a vignette file or folder (leave it out to use the tests/ folder of the rule set)"),
])
def test_an_empty_path_argument_is_refused(argv: list[str], name: str, accepted: str,
                                           capsys: Any, tmp_path: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys, quick=True)
    assert code == 2 and out == ""
    assert f"Invalid value for '{name}': an empty path; give {accepted}" in " ".join(err.split())


def test_an_empty_rule_path_in_json_names_the_field(capsys: Any) -> None:
    argv = ["assess", "--rules", "", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--json"]
    assert quick_assess_args(argv) is None  # left to the typer command, which refuses it
    code, out, _ = both(argv, capsys)
    assert code == 2
    assert json.loads(out) == {"error": {"field": "rules", "message": EMPTY_RULES}}
