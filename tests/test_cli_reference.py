"""docs/cli-reference.md is generated from every command's --help by scripts/cli_reference.py;
this fails while the checked-in file differs from a fresh generation, so the reference cannot
drift from the program (house style 12). Fix: run ``python scripts/cli_reference.py``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from conftest import REPO

SCRIPT = REPO / "scripts" / "cli_reference.py"
DOC = REPO / "docs" / "cli-reference.md"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_reference", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checked_in_reference_is_what_the_help_says(script: ModuleType) -> None:
    assert DOC.read_text(encoding="utf-8") == script.render(), \
        "docs/cli-reference.md is out of date: run python scripts/cli_reference.py"


def test_the_reference_does_not_depend_on_the_terminal(
        script: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    first = script.render()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("TERMINAL_WIDTH", "200")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    assert script.render() == first
    assert "\x1b[" not in first


def test_every_command_has_its_section(script: ModuleType) -> None:
    titles = [line[3:] for line in script.render().splitlines() if line.startswith("## ")]
    assert titles == ["mgassist", "mgassist assess", "mgassist interview", "mgassist batch",
                      "mgassist schema", "mgassist vocab", "mgassist units", "mgassist serve",
                      "mgassist rules",
                      "mgassist rules validate", "mgassist rules test", "mgassist rules show"]


def test_check_fails_on_a_stale_reference_and_passes_once_rewritten(
        script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "cli-reference.md"
    stale.write_text(script.render().replace("--crcl-weight [auto|actual|ideal|adjusted]",
                                             "--crcl-weight TEXT"), encoding="utf-8")
    assert script.main(["--check", "--output", str(stale)]) == 1
    assert "is out of date" in capsys.readouterr().err
    assert script.main(["--output", str(stale)]) == 0
    assert script.main(["--check", "--output", str(stale)]) == 0
    assert script.main(["--check", "--output", str(tmp_path / "missing.md")]) == 1
