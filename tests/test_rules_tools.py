"""The rule authors' toolchain: ``rules test`` (vignettes, diffs, coverage), ``rules show``,
``rules validate`` warnings (rules that can never fire, references never cited), and the
rule set's identity (version and sha256) in every output."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mgassist._rulebook.source import bundled_rules_path

Cli = Any

LOW_MG_OK = """\
cases:
  - name: low magnesium, normal renal function
    patient: {mg: 0.6 mmol/L, crcl: 80 mL/min}
    expect:
      status: supplement
      decided_by: supplement
      findings: [hypomagnesemia]
      not_findings: [renal-dose-reduction]
      regimen: {dose_basis: standard-start, elemental_mmol_per_day: 12}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rules_copy(tmp_path: Path) -> Path:
    """A copy of the bundled rules (with their tests) that a test may edit."""
    target = tmp_path / "rules"
    shutil.copytree(bundled_rules_path(), target,
                    ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- rules test: pass and fail --------------------------------------------------------------

def test_passing_case(cli: Cli, tmp_path: Path) -> None:
    result = cli("rules", "test", str(write(tmp_path / "ok.yaml", LOW_MG_OK)))
    assert result.exit_code == 0, result.stdout
    assert f"PASS {tmp_path / 'ok.yaml'}:2  low magnesium, normal renal function" in result.stdout
    assert "1 passed, 0 failed (1 cases in 1 file(s)" in result.stdout


def test_failing_case_shows_a_readable_diff_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    # CrCl 25 mL/min is in the 20-30 band: supplement-with-caution (renal-caution-severe),
    # a reduced dose; K 3.4 < 3.5 with low Mg reports correct-mg-before-k.
    text = """\
cases:
  - name: right
    patient: {mg: 0.6 mmol/L, crcl: 80 mL/min}
    expect: {status: supplement}
  - name: wrong on purpose
    patient: {mg: 0.6 mmol/L, crcl: 25 mL/min, k: 3.4 mmol/L}
    expect:
      status: supplement
      findings: [renal-dose-reduction]
      not_findings: [correct-mg-before-k]
      regimen: {dose_basis: standard-start}
"""
    path = write(tmp_path / "mixed.yaml", text)
    result = cli("rules", "test", str(path))
    assert result.exit_code == 1
    out = result.stdout
    assert f"PASS {path}:2  right" in out
    assert f"FAIL {path}:5  wrong on purpose" in out
    assert ("       status\n         - expected: supplement\n"
            "         + got:      supplement-with-caution\n") in out
    assert "       finding renal-dose-reduction\n         - expected: reported\n" \
           "         + got:      not reported (reported: " in out
    assert "       finding correct-mg-before-k\n         - expected: not reported\n" \
           "         + got:      reported\n" in out
    assert "       regimen.dose_basis\n         - expected: standard-start\n" \
           "         + got:      reduced\n" in out
    assert "1 passed, 1 failed (2 cases" in out


def test_invalid_patient_fails_the_case_naming_the_field(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "cases:\n  - name: no unit\n    patient: {mg: 0.6}\n"
                                        "    expect: {status: supplement}\n")
    result = cli("rules", "test", str(path))
    assert result.exit_code == 1
    assert "patient: mg (serum magnesium): '0.6' has no unit" in result.stdout


@pytest.mark.parametrize(("text", "line", "message"), [
    ("cases:\n  - name: x\n    patient: {mg: 0.6 mmol/L}\n    expect:\n"
     "      not_findings: [hypomagnesaemia]\n", 5, "no finding 'hypomagnesaemia' in the rules"),
    ("cases:\n  - name: x\n    patient: {mg: 0.6 mmol/L}\n    expect: {statsu: supplement}\n",
     4, "unknown field 'statsu'"),
    ("cases:\n  - name: x\n    patient: {mg: 0.6 mmol/L}\n    expect: {}\n", 4,
     "expect checks nothing"),
    ("cases:\n  - name: x\n    patient: {mg: 0.6 mmol/L}\n    expect: {status: maybe}\n", 4,
     "unknown status 'maybe'"),
    ("cases:\n  - name: x\n    name: y\n", 3, "duplicate key"),
])
def test_unusable_vignette_files_are_refused_with_file_and_line(
        cli: Cli, tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path / "broken.yaml", text)
    result = cli("rules", "test", str(path))
    assert result.exit_code == 2
    assert f"{path}:{line}:" in result.stderr and message in result.stderr
    assert "no case was run" in result.stderr


def test_missing_path_is_an_input_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("rules", "test", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


# -- coverage --------------------------------------------------------------------------------

COVERAGE_CASES = """\
cases:
  - name: A low Mg, CrCl 80
    patient: {mg: 0.6 mmol/L, crcl: 80 mL/min}
    expect: {status: supplement}
  - name: B Mg at the lower limit, CrCl at 60
    patient: {mg: 0.70 mmol/L, crcl: 60 mL/min}
    expect: {status: do-not-supplement}
  - name: C low Mg, CrCl 25
    patient: {mg: 0.6 mmol/L, crcl: 25 mL/min}
    expect: {status: supplement-with-caution}
"""


def coverage_rows(out: str) -> dict[str, str]:
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^    +(\d+)  (.+?)(?:   <- .*)?$", line)
        if m:
            rows[m[2]] = m[1]
        m = re.match(r"^    +(\d+) / +(\d+) / (\d+) +(\S+)", line)
        if m:
            rows[m[4]] = f"{m[1]}/{m[2]}/{m[3]}"
    return rows


def test_coverage_counts_on_a_small_fixture(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "three.yaml", COVERAGE_CASES)
    result = cli("rules", "test", str(path), "--coverage")
    assert result.exit_code == 1  # the cases pass, but most rules are never exercised
    assert "3 passed, 0 failed" in result.stdout
    rows = coverage_rows(result.stdout)
    # Worked out by hand from rules/decision.yaml and findings.yaml:
    assert rows["supplement"] == "1"             # step: A
    assert rows["mg-normal"] == "1"              # step and finding: B
    assert rows["renal-caution-severe"] == "1"   # step and finding: C
    assert rows["adults-only"] == "0"
    assert rows["hypomagnesemia"] == "2"         # finding: A and C
    assert rows["standard-start"] == "1"         # regimen: A
    assert rows["reduced"] == "1"                # regimen: C
    assert rows["step-up"] == "0"
    assert rows["renal impairment"] == "1"       # monitoring: C (25 < 60); B has no regimen
    # thresholds: cases below / at / above, as compared
    assert rows["mg-lln"] == "2/1/0"             # A, C below 0.70; B at
    assert rows["crcl-reduced-dose"] == "1/1/1"  # C below 60; B at; A above
    assert rows["crcl-caution-severe"] == "1/0/2"
    assert rows["crcl-contraindicated"] == "0/0/3"
    assert "error: never exercised: step adults-only" in result.stdout
    assert "error: never exercised: threshold mg-lln: no case above it" in result.stdout

    warned = cli("rules", "test", str(path), "--coverage", "--warn-uncovered")
    assert warned.exit_code == 0
    assert "warning: never exercised: step adults-only" in warned.stdout


def test_bundled_rules_pass_their_own_suite_with_full_coverage(cli: Cli) -> None:
    result = cli("rules", "test", "--coverage")
    assert result.exit_code == 0, result.stdout[-3000:]
    assert " 0 failed " in result.stdout
    assert "Every rule fired in at least one case, and every threshold has cases below, at " \
           "and above it." in result.stdout


# -- the rule-authoring walkthrough: change a threshold, see the trace, see a vignette fail --

def test_changing_the_hypokalemia_threshold_changes_the_trace_and_fails_a_vignette(
        cli: Cli, tmp_path: Path) -> None:
    rules = rules_copy(tmp_path)
    args = ["assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--k", "3.2 mmol/L",
            "--explain", "--rules", str(rules)]
    before = cli(*args)
    assert "k below k-lln: true  [value 3.2 mmol/L; threshold k-lln = 3.5 mmol/L; " \
           "3.2 < 3.5 mmol/L" in before.stdout
    assert cli("rules", "test", "--rules", str(rules)).exit_code == 0
    # docs/rule-authoring.md, step 1: lower k-lln from 3.5 to 3.0 mmol/L
    edit(rules / "thresholds.yaml", "    value: 3.5 mmol/L\n    for: k\n",
         "    value: 3.0 mmol/L\n    for: k\n")
    after = cli(*args)
    assert "k below k-lln: false  [value 3.2 mmol/L; threshold k-lln = 3.0 mmol/L; " \
           "3.2 < 3.0 mmol/L" in after.stdout
    assert "finding correct-mg-before-k: false -> not reported" in after.stdout
    tested = cli("rules", "test", "--rules", str(rules))
    assert tested.exit_code == 1
    assert "FAIL " in tested.stdout
    assert "       finding correct-mg-before-k\n         - expected: reported\n" in tested.stdout


# -- rules show -------------------------------------------------------------------------------

def test_show_table_lists_every_rule_with_identity(cli: Cli, rules: Any) -> None:
    result = cli("rules", "show")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith(f"Rules {rules.version} (bundled)\nsha256 {rules.sha256}\n")
    for step in rules.steps:
        assert re.search(rf"^  \d+ +{re.escape(step.id)} +{step.status.value} ", out, re.M)
    for fid, finding in rules.findings.items():
        assert re.search(rf"^  {re.escape(fid)} +{finding.severity.value} ", out, re.M)
    assert re.search(r"^  k-lln +3\.5 mmol/L +k +statpearls-hypokalemia$", out, re.M)


def test_show_one_rule_in_full_with_references(cli: Cli) -> None:
    out = cli("rules", "show", "correct-mg-before-k").stdout
    assert "Finding correct-mg-before-k\n" \
           "  title:    Low potassium too: magnesium first or with it\n" \
           "  severity: warning\n" \
           "  when:     all(is low-mg, k below k-lln)\n" in out
    assert "  action:   Correct magnesium with or before potassium, as the decision allows: " \
           "potassium alone will not correct.\n" in out
    assert "  [huang2007-jasn] Huang CL, Kuo E." in out and "doi:10.1681/ASN.2007070792" in out
    threshold = cli("rules", "show", "k-lln").stdout
    assert "Threshold k-lln\n  value:    3.5 mmol/L\n  for:      k\n" in threshold
    assert "  used by:  finding correct-mg-before-k, finding hypokalemia\n" in threshold
    missing = cli("rules", "show", "no-such-rule")
    assert missing.exit_code == 2 and "'no-such-rule' is not a step, finding" in missing.stderr


def test_a_changed_rule_file_changes_the_sha256_everywhere(cli: Cli, tmp_path: Path,
                                                           rules: Any) -> None:
    copy = rules_copy(tmp_path)
    same = cli("rules", "show", "--rules", str(copy)).stdout.splitlines()[1]
    assert same == f"sha256 {rules.sha256}"
    edit(copy / "findings.yaml", "version: ", "# an edited comment\nversion: ")
    changed = cli("rules", "show", "--rules", str(copy)).stdout.splitlines()[1]
    assert changed != same
    data = json.loads(cli("assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--json",
                          "--rules", str(copy)).stdout)
    assert data["rules"]["version"] == rules.version
    assert f"sha256 {data['rules']['sha256']}" == changed


# -- rules validate: rules that can never fire, references never cited -----------------------

def test_validate_reports_unreachable_rules_and_uncited_references(cli: Cli,
                                                                   tmp_path: Path) -> None:
    rules = rules_copy(tmp_path)
    # A step shadowed by urgent-severe-mg (mg < 0.50 is true whenever mg < 0.40 is).
    edit(rules / "decision.yaml", "  - id: urgent-symptomatic-low-mg\n",
         "  - id: very-low-mg\n"
         "    when: {all: [{mg: {below: 0.40 mmol/L}}, {is: not-pre-eclampsia}]}\n"
         "    status: urgent\n"
         "    finding: severe-hypomagnesemia\n    reason: Magnesium {mg} is very low.\n\n"
         "  - id: urgent-symptomatic-low-mg\n")
    # A finding that contradicts itself, and a detail that contradicts its finding.
    edit(rules / "findings.yaml", "  mg-level-required:\n",
         "  impossible-mg:\n    severity: info\n"
         "    when: {all: [{is: severe-mg}, {is: high-mg}]}\n    message: Never.\n"
         "    cite: [pham2014-ijnrd]\n\n  mg-level-required:\n")
    edit(rules / "findings.yaml", "    cite: [huang2007-jasn, nhs-lothian-sact-hypomag]\n",
         "    details:\n      - text: Impossible here.\n        when: {is: high-mg}\n"
         "    cite: [huang2007-jasn, nhs-lothian-sact-hypomag]\n")
    edit(rules / "findings.yaml", "    cite: [fda2011-ppi, janett2015-grp]\n",
         "    cite: [fda2011-ppi]\n")
    result = cli("rules", "validate", str(rules))
    assert result.exit_code == 0  # warnings do not stop the rules from loading
    err = result.stderr
    lines = (rules / "decision.yaml").read_text().splitlines()
    step_line = lines.index("  - id: very-low-mg") + 1
    assert (f"warning: {rules / 'decision.yaml'}:{step_line}: step very-low-mg can never set "
            "the status: whenever its condition is true, the earlier step urgent-severe-mg is "
            "true too and decides first") in err
    flines = (rules / "findings.yaml").read_text().splitlines()
    assert (f"{rules / 'findings.yaml'}:{flines.index('  impossible-mg:') + 1}: finding "
            "impossible-mg can never be reported: its condition is never true") in err
    assert "detail 0 of finding correct-mg-before-k can never be shown: its condition " \
           "contradicts the finding's" in err
    # a reference no rule cites any more: drop the one citation of janett2015-grp
    rlines = (rules / "references.yaml").read_text().splitlines()
    assert (f"{rules / 'references.yaml'}:{rlines.index('  janett2015-grp:') + 1}: "
            "reference 'janett2015-grp' is never cited by any rule") in err
    assert "step urgent-symptomatic-low-mg" not in err  # reachable steps are not reported
    assert cli("rules", "validate", str(rules), "--strict").exit_code == 1


def _many_steps(rules: Path, count: int) -> list[str]:
    """Insert ``count`` steps on four facts before urgent-symptomatic-low-mg; their ids."""
    ids = [f"gen-{i}" for i in range(count)]
    steps = "".join(
        f"  - id: {sid}\n    when: {{all: [{{mg: {{below: {0.30 + i / 1000:.3f} mmol/L}}}}, "
        f"{{k: {{below: {2 + i / 200:.3f} mmol/L}}}}, {{crcl: {{below: {5 + i / 10:.1f} "
        f"mL/min}}}}, {{age: {{at_or_above: {100 + i / 10:.1f} year}}}}]}}\n"
        "    status: urgent\n    finding: severe-hypomagnesemia\n    reason: Generated.\n\n"
        for i, sid in enumerate(ids))
    edit(rules / "decision.yaml", "  - id: urgent-symptomatic-low-mg\n",
         steps + "  - id: urgent-symptomatic-low-mg\n")
    return ids


def test_the_search_for_unreachable_rules_spends_at_most_its_budget(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without a budget, 150 such steps take 150 x 150 / 2 pairwise searches of up to 1,296
    # combinations each (about 14 s here); the budget stops it and says which rules were left.
    from mgassist._authoring import reach as _rules_reach
    from mgassist._rulebook.loader import load_rules

    folder = rules_copy(tmp_path)
    _many_steps(folder, 150)
    rules = load_rules(folder)
    made: list[int] = []
    original = _rules_reach._combinations

    def counted(axes: Any) -> Any:
        for facts in original(axes):
            made.append(1)
            yield facts
    monkeypatch.setattr(_rules_reach, "_combinations", counted)
    reach = _rules_reach.never_fire(rules, budget=20_000)
    assert 0 < len(made) <= 20_000
    assert len(reach.skipped) > 50  # most of the 150 steps, and what comes after them
    assert reach.skipped[-1].kind == "monitoring-reason"  # searching stops for the rest too


def test_with_no_budget_left_every_rule_is_skipped_in_order(rules: Any) -> None:
    from mgassist._authoring.reach import never_fire

    reach = never_fire(rules, budget=0)
    assert reach.unreachable == []
    expected = ([("step", s.id) for s in rules.steps]
                + [(kind, rid) for fid, f in rules.findings.items()
                   for kind, rid in [("finding", fid)]
                   + [("detail", f"{fid}.details[{d}]") for d in range(len(f.details))
                      if f.details[d].when is not None]]
                + [("risk-factor", r.id) for r in rules.risk_factors]
                + [("monitoring-reason", r.label) for r in rules.monitoring.reasons])
    assert [(s.kind, s.id) for s in reach.skipped] == expected
    assert never_fire(rules).skipped == []  # the bundled rules fit in the default budget


def test_validate_says_which_rules_were_not_searched(cli: Cli, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from mgassist._authoring import reach as _rules_reach
    rules = rules_copy(tmp_path)
    ids = _many_steps(rules, 40)
    # 40 generated steps need far more than 5,000 combinations: some are left unsearched
    monkeypatch.setattr(_rules_reach, "SEARCH_BUDGET", 5_000)
    result = cli("rules", "validate", str(rules))
    assert result.exit_code == 0
    found = re.findall(r"warning: (.+):(\d+): step (\S+) and (\d+) other rule\(s\) could not "
                       r"be searched for conditions that can never be true \(too many "
                       r"combinations\); they may still be unreachable", result.stderr)
    assert len(found) == 1, result.stderr
    path, line, first, others = found[0]
    lines = (rules / "decision.yaml").read_text(encoding="utf-8").splitlines()
    assert (path, int(line)) == (str(rules / "decision.yaml"), lines.index(f"  - id: {first}") + 1)
    assert first in ids and int(others) > 0
    assert cli("rules", "validate", str(rules), "--strict").exit_code == 1


def test_bundled_rules_have_no_unreachable_rule(cli: Cli) -> None:
    result = cli("rules", "validate")
    assert result.exit_code == 0
    assert "can never" not in result.stderr
    assert "could not be searched" not in result.stderr
    # every reference is cited by a rule (issue 14: --strict passes on the bundled rules)
    assert "is never cited" not in result.stderr
    assert cli("rules", "validate", "--strict").exit_code == 0
