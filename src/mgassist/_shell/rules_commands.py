"""What ``mgassist rules test`` and ``rules show`` do, without the argument parser: load,
run the pure parts (``_authoring.vignette_tests``, ``_authoring.view``), print plain text,
return the exit code.

Exit codes of ``rules test``: 0 every case passed (and, with --coverage, everything was
exercised); 1 a case failed, or something was never exercised (unless --warn-uncovered);
2 the rules or the vignette files cannot be used (each problem as file:line).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mgassist._core.errors import InputError, RulesErrors

from .exit_codes import ExitCode

if TYPE_CHECKING:
    from mgassist._authoring.vignette_tests import Coverage

__all__ = ["run_rules_show", "run_rules_test"]


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def run_rules_test(paths: Sequence[Path], *, rules_path: Path | None, show_coverage: bool,
                   warn_uncovered: bool) -> int:
    """Run the vignettes of ``paths`` (default: the rule set's tests/ folder)."""
    from mgassist._authoring.vignette_tests import coverage, run_case
    from mgassist._authoring.vignettes import load_vignettes, vignette_files
    from mgassist._rulebook.source import bundled_rules_path

    from .commands import load_or_fail, report_input_errors

    rules = load_or_fail(rules_path, as_json=False)
    if not paths:
        root = rules_path if rules_path is not None else bundled_rules_path()
        paths = [(root if root.is_dir() else root.parent) / "tests"]
    for path in paths:
        if not path.exists():
            return report_input_errors([InputError(
                "path", str(path), "does not exist",
                "vignette files (*.yaml) or folders of them, e.g. rules/tests")], as_json=False)
    files = vignette_files(paths)
    try:
        vignettes = load_vignettes(files, rules)
    except RulesErrors as exc:
        sys.stderr.write("".join(f"error: {e}\n" for e in exc.errors))
        sys.stderr.write(f"{len(exc.errors)} problem(s) in the vignette files; no case was "
                         "run.\n")
        return ExitCode.INPUT
    if not vignettes:
        return report_input_errors([InputError(
            "path", ", ".join(map(str, paths)), "holds no vignette files",
            "*.yaml files with a list of cases (docs/rule-authoring.md)")], as_json=False)
    results = [run_case(v, rules) for v in vignettes]
    for result in results:
        v = result.vignette
        _out(f"{'PASS' if result.passed else 'FAIL'} {v.where}  {v.name}")
        for error in result.input_errors:
            _out(f"       patient: {error}")
        for diff in result.differences:
            _out(f"       {diff.what}")
            _out(f"         - expected: {diff.expected}")
            _out(f"         + got:      {diff.got}")
    failed = sum(not r.passed for r in results)
    _out()
    _out(f"{len(results) - failed} passed, {failed} failed ({len(results)} cases in "
         f"{len(files)} file(s); rules {rules.version}, sha256 {rules.sha256[:16]}...)")
    code = ExitCode.PROBLEMS if failed else ExitCode.OK
    if show_coverage:
        report = coverage(results, rules)
        _print_coverage(report)
        uncovered = report.uncovered
        if uncovered:
            word = "warning" if warn_uncovered else "error"
            for item in uncovered:
                _out(f"{word}: never exercised: {item}")
            if not warn_uncovered:
                code = ExitCode.PROBLEMS
        else:
            _out("Every rule fired in at least one case, and every threshold has cases below, "
                 "at and above it.")
    return code


def _print_coverage(report: Coverage) -> None:
    _out()
    _out("Coverage: the cases in which each rule fired (0: never exercised)")
    kind = None
    for item in report.rules:
        if item.kind != kind:
            kind = item.kind
            _out(f"  {kind}")
        _out(f"    {item.cases:>4}  {item.id}{'   <- never exercised' if not item.cases else ''}")
    _out("  threshold boundaries: cases below / exactly at / above, as compared")
    for b in report.boundaries:
        mark = f"   <- none {' / '.join(b.missing)}" if b.missing else ""
        _out(f"    {b.below:>4} / {b.at:>3} / {b.above:<4} {b.id} ({b.text}){mark}")


def run_rules_show(rule_id: str | None, *, rules_path: Path | None) -> int:
    """The rule set as a table, or one rule (step, finding, risk factor, threshold, predicate)
    in full with its references."""
    from mgassist._authoring.view import rule_details, rules_table

    from .commands import load_or_fail, report_input_errors

    rules = load_or_fail(rules_path, as_json=False)
    if rule_id is None:
        for line in rules_table(rules):
            _out(line)
        return ExitCode.OK
    lines = rule_details(rules, rule_id)
    if lines is None:
        from mgassist._authoring.view import rule_ids

        return report_input_errors([InputError(
            "rule", rule_id, "is not a step, finding, risk factor, threshold or predicate id",
            ", ".join(rule_ids(rules)))], as_json=False)
    for line in lines:
        _out(line)
    return ExitCode.OK
