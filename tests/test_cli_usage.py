"""Issue 15: command-line conventions. ``assess`` without a patient value prints its help and
exits 2; --version; -h beside --help on every command; human metavars and listed choices;
examples and exit codes in every command's help; shell completion; ``mgassist units`` ranges
read naturally. The last tests run the installed ``mgassist`` program in a subprocess, the way a
shell runs it (the quick path for a plain assess)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, run_console
from typer.main import get_command

import mgassist
from mgassist import RuleSet
from mgassist._shell.cli import app

NO_VALUE = ("Error: no patient value was given: give at least one, such as --mg with its unit "
            "(the options are listed above)\n")


pytestmark = pytest.mark.usefixtures("bundled_rules_loaded_once")


def command_paths(command: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    command = get_command(app) if command is None else command
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from command_paths(sub, (*path, name))


PATHS = list(command_paths())


# -- C: assess without a patient value ---------------------------------------------------------

@pytest.mark.parametrize("extra", [[], ["--json"], ["--explain"], ["--rules", "rules"]],
                         ids=["bare", "json", "explain", "rules"])
def test_assess_without_a_patient_value_prints_its_help_and_exits_2(cli: Any,
                                                                    extra: list[str]) -> None:
    help_text = cli("assess", "--help").stdout
    code, out, err = run_console(["assess", *extra])
    assert code == 2
    assert err == help_text + "\n" + NO_VALUE  # the help, then what was wrong, on stderr
    if "--json" in extra:
        assert json.loads(out) == {"error": {"field": "arguments", "message": NO_VALUE[7:-1]}}
    else:
        assert out == ""


def test_assess_without_a_patient_value_on_the_typer_command(cli: Any) -> None:
    result = cli("assess")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("Usage: mgassist assess [OPTIONS]\n")
    assert result.stderr.endswith("\n\n" + NO_VALUE)


# -- E: conventions ----------------------------------------------------------------------------

def test_version_names_mgassist_and_its_rules(rules: RuleSet) -> None:
    code, out, err = run_console(["--version"])
    assert (code, err) == (0, "")
    assert out == (f"mgassist {mgassist.__version__}, rules {rules.version} (bundled, sha256 "
                   f"{rules.sha256[:12]}...)\n")
    assert re.fullmatch(r"mgassist \d+\.\d+\.\d+, rules \S+ \(bundled, sha256 [0-9a-f]{12}"
                        r"\.\.\.\)\n", out)


def test_version_still_answers_when_the_bundled_rules_cannot_be_loaded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from mgassist._core.errors import RulesError, RulesErrors
    from mgassist._rulebook import cache as _rules_cache

    def broken(path: Any = None) -> Any:
        raise RulesErrors([RulesError("decision.yaml", 3, "invalid YAML")])

    monkeypatch.setattr(_rules_cache, "load_cached", broken)
    assert run_console(["--version"]) == (
        0, f"mgassist {mgassist.__version__}; the bundled rules cannot be loaded (see "
           "`mgassist rules validate`)\n", "")


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "mgassist" for p in PATHS])
def test_dash_h_is_help_on_every_command(cli: Any, path: tuple[str, ...]) -> None:
    long_form = cli(*path, "--help")
    short_form = cli(*path, "-h")
    assert long_form.exit_code == short_form.exit_code == 0
    assert short_form.stdout == long_form.stdout
    assert "  -h, --help  " in long_form.stdout or re.search(r"^  -h, --help +Show",
                                                             long_form.stdout, re.M)


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "mgassist" for p in PATHS])
def test_every_help_has_examples_and_exit_codes_and_no_python_types(
        cli: Any, path: tuple[str, ...]) -> None:
    text = cli(*path, "--help").stdout
    examples = text.split("  Examples:\n")[1].split("\n\n")[0].splitlines()
    commands = [line for line in examples if line.startswith("    mgassist ")]
    assert len(commands) >= 2, text
    exits = text.split("  Exit codes:\n")[1].splitlines()
    codes = [line.split()[0] for line in exits if re.match(r"    \d+ ", line)]
    assert "0" in codes and "3" in codes, text  # success, and a bug
    assert not re.search(r"<\w+(\[\w+\])?>|\bTEXT\b|\bINTEGER\b", text), text


def test_assess_help_shows_human_metavars_and_the_choices(cli: Any) -> None:
    text = cli("assess", "--help").stdout
    for shown in ("--mg QUANTITY", "--creatinine QUANTITY", "--age NUMBER",
                  "--days-on-dose NUMBER", "--med NAME", "--condition NAME",
                  "--indication NAME", "--sex [female|male]", "--rules PATH",
                  "--crcl-weight [auto|actual|ideal|adjusted]"):
        assert f"  {shown} " in text or f"  {shown}\n" in text, shown
    assert "0    an assessment was produced, whatever its status" in text
    batch = cli("batch", "--help").stdout
    assert "--format [jsonl|csv|parquet]" in batch and "-o, --output FILE" in batch
    assert "--input-format [auto|jsonl|csv]" in batch and "-j, --jobs N" in batch


def test_units_reads_its_ranges_naturally(cli: Any) -> None:
    lines = {line.split()[0]: line for line in cli("units").stdout.splitlines()}
    assert lines["--age"] == ("--age            age: a plain number (years); e.g. '67'; "
                              "plausible 0 to 120 years")
    assert lines["--days-on-dose"].endswith("plausible 0 to 3650 days")
    assert lines["--mg"].endswith("plausible 0.1 to 5 mmol/L")
    assert lines["--creatinine"].endswith("plausible 0.1 to 25 mg/dL")


def test_shell_completion_scripts_are_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    for shell, marker in (("bash", "complete -o default -F _mgassist_completion mgassist"),
                          ("zsh", "compdef _mgassist_completion mgassist"),
                          ("fish", "complete --command mgassist")):
        code, out, _ = run_console(["--show-completion", shell])
        assert code == 0 and marker in out, (shell, out)


# -- through the installed program ---------------------------------------------------------------

def _program() -> list[str]:
    script = Path(sys.executable).with_name("mgassist")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mgassist"]


def shell(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_program(), *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "COLUMNS": "100", **env}, timeout=120, check=False)


def test_the_program_names_the_flag_and_gives_the_unit_hint() -> None:
    done = shell("assess", "--creatinine", "106 mg/dL", "--mg", "")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: --mg (serum magnesium): an empty value; give a value with its unit (e.g. '0.62 "
        "mmol/L'), or leave the flag out\n"
        "error: --creatinine (serum creatinine): '106 mg/dL' is outside the plausible range "
        "(106 umol/L would be plausible: did you mean umol/L?); check the value and its unit; "
        "accepted: 0.1 to 25 mg/dL\n")


def test_the_program_refuses_a_repeated_flag_in_json() -> None:
    done = shell("assess", "--json", "--mg", "0.6 mmol/L", "--mg=0.7 mmol/L")
    assert done.returncode == 2
    message = ("mg (serum magnesium): given twice ('0.6 mmol/L', then '0.7 mmol/L'); give it "
               "once")
    assert json.loads(done.stdout) == {"error": {"field": "mg", "message": message},
                                       "errors": [{"field": "mg", "message": message}]}
    assert done.stderr == ("error: --mg (serum magnesium): given twice ('0.6 mmol/L', then "
                           "'0.7 mmol/L'); give it once\n")


def test_the_program_without_a_patient_value_prints_the_usage() -> None:
    done = shell("assess")
    assert (done.returncode, done.stdout) == (2, "")
    assert re.match(r"Usage: (mgassist|python -m mgassist) assess \[OPTIONS\]\n", done.stderr)
    assert done.stderr.endswith(NO_VALUE)


def test_the_program_completes_options_in_the_shell() -> None:
    """What the bash script installed by --install-completion runs on Tab."""
    if len(_program()) > 1:
        pytest.skip("the mgassist console script is not installed beside this Python")
    done = shell(COMP_WORDS="mgassist assess --cr", COMP_CWORD="2",
                 _MGASSIST_COMPLETE="complete_bash")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["--creatinine", "--crcl", "--crcl-weight"]
