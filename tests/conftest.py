"""Shared fixtures: the bundled rules (loaded once), and helpers to assess through the
engine directly or through the CLI with --json."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mgassist import Assessment, RuleSet, evaluate, load_rules, parse_patient
from mgassist._shell.cli import app

REPO = Path(__file__).resolve().parent.parent
# Mutation testing (docs/testing.md) runs these tests in mutmut's copy of the repository,
# <repo>/mutants.
MUTATION_RUN = REPO.name == "mutants"

# A fresh clone has nothing beside it: a test that reads a sibling of the repository (such as a
# shared data folder) passes here and fails there. Every file this test process opens is
# checked; one beside the repository fails the session (see pytest_sessionfinish below).
OUTSIDE_REPO_OPENED: list[str] = []


def beside_repo(path: str | bytes | int) -> bool:
    """Whether ``path`` lies next to the repository, not in it (temporary folders excepted)."""
    if isinstance(path, int):
        return False  # a file descriptor
    text = os.fsdecode(path)
    resolved = Path(os.path.abspath(text))
    root = REPO.parent if not MUTATION_RUN else REPO.parent.parent
    if not resolved.is_relative_to(root) or resolved.is_relative_to(REPO):
        return False
    if MUTATION_RUN and resolved.is_relative_to(REPO.parent):
        return False
    # a clone placed directly in the temporary folder has the tests' temporary files beside it
    beside = resolved.relative_to(root).parts
    return not (root == Path(tempfile.gettempdir()).resolve() and beside
                and beside[0].startswith(_TEMPORARY_NAMES))


_TEMPORARY_NAMES = ("pytest-of-", "tmp", "mgassist-test-cache-")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and args[0] is not None and beside_repo(args[0]):
        OUTSIDE_REPO_OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def ascii_id(text: str) -> str:
    """A test id in ASCII: each other character as U+XXXX. Test ids are passed on command
    lines (mutmut runs each mutant's tests by id), where pytest's escaped form of a non-ASCII
    id is not found again."""
    return "".join(c if c.isascii() and c.isprintable() else f"U+{ord(c):04X}" for c in text)


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """Ids pytest makes from text and bytes parameters, in ASCII (``ascii_id``; a byte
    outside printable ASCII as xHH)."""
    if isinstance(val, str) and not (val.isascii() and val.isprintable()):
        return ascii_id(val)
    if isinstance(val, bytes) and not all(32 <= b < 127 for b in val):
        return "".join(chr(b) if 32 <= b < 127 else f"x{b:02X}" for b in val)
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test read a file beside the repository."""
    if OUTSIDE_REPO_OPENED:
        listed = "\n  ".join(sorted(set(OUTSIDE_REPO_OPENED)))
        sys.stderr.write(f"\nTests opened files outside the repository (a fresh clone does "
                         f"not have them; copy what a test needs into tests/data/):\n  {listed}\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

# The compiled-rules cache of every CLI run in the tests (in-process and subprocesses) goes to a
# fresh folder, never to the user's cache; tests of the cache itself set their own folder.
os.environ["MGASSIST_CACHE_DIR"] = tempfile.mkdtemp(prefix="mgassist-test-cache-")
if MUTATION_RUN:  # each mutant compiles its own rules: a cached rule set would hide its effect
    os.environ["MGASSIST_NO_CACHE"] = "1"
    os.environ.setdefault("MGASSIST_POPULATION", "2000")  # tests/test_population.py, per mutant
else:
    os.environ.pop("MGASSIST_NO_CACHE", None)


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    """The bundled rule set."""
    return load_rules()


@pytest.fixture
def bundled_rules_loaded_once(rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process CLI runs use the session's bundled rules instead of loading them again (no
    cache either); a rule set given with --rules is still loaded from its path."""
    from mgassist._rulebook import loader as _rules_loader
    original = _rules_loader.load_rules
    monkeypatch.setattr(_rules_loader, "load_rules",
                        lambda path=None: rules if path is None else original(path))
    monkeypatch.setenv("MGASSIST_NO_CACHE", "1")


@pytest.fixture(scope="session")
def assess(rules: RuleSet) -> Callable[..., Assessment]:
    """Assess a patient given as keyword fields, through the pure core."""
    def run(**raw: Any) -> Assessment:
        return evaluate(parse_patient(raw, rules), rules)
    return run


@pytest.fixture(scope="session")
def cli() -> Callable[..., Any]:
    """Run ``mgassist ARGS...``; returns the click Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)
    return run


@pytest.fixture(scope="session")
def cli_json(cli: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    """Run ``mgassist assess ARGS... --json``, assert exit 0, return the parsed JSON."""
    def run(*args: str) -> dict[str, Any]:
        result = cli("assess", *args, "--json")
        assert result.exit_code == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data
    return run


def run_console(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    """``mgassist ARGS`` through the console entry point (the quick path or typer's run_app),
    as pasted into a shell: (exit code, stdout, stderr)."""
    import sys

    from mgassist._shell import entry as _entry
    code: Any = 0
    with CliRunner().isolation(input=stdin) as (out, err, _):
        saved, sys.argv = sys.argv, ["mgassist", *args]
        try:
            _entry.main()
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.argv = saved
            sys.stdout.flush()
            sys.stderr.flush()
        return (int(code or 0), out.getvalue().decode("utf-8", "replace"),
                err.getvalue().decode("utf-8", "replace"))


def finding_ids(assessment: Assessment | dict[str, Any]) -> set[str]:
    """The ids of the findings of an assessment (model or JSON)."""
    if isinstance(assessment, dict):
        return {f["id"] for f in assessment["findings"]}
    return {f.id for f in assessment.findings}
