"""Loading rule sets: every mistake is refused at load as ``file:line: reason``, and a rule set
with any error is never returned (clinical-spec "Units and thresholds"; house style 4 and 5).

Each case copies the bundled rules into tmp_path and edits one file's text; the expected line is
found by searching the edited text, so the tests follow the rule files as they change.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mgassist import RulesError, RulesErrors, RuleSet, load_rules
from mgassist._rulebook.loader import bundled_rules_path

Cli = Callable[..., Any]

BUNDLED = bundled_rules_path()


def copy_rules(folder: Path) -> Path:
    """The bundled rule files, copied into ``folder``."""
    files = sorted(BUNDLED.glob("*.yaml"))
    assert len(files) > 1
    for source in files:
        shutil.copyfile(source, folder / source.name)
    return folder


def read(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def load_lines(folder: Path, name: str) -> list[str]:
    return read(folder, name).splitlines(keepends=True)


def save_lines(folder: Path, name: str, lines: list[str]) -> None:
    (folder / name).write_text("".join(lines), encoding="utf-8")


def only(lines: list[str], needle: str) -> int:
    """The 0-based index of the one line (comments aside) that contains ``needle``."""
    found = [i for i, line in enumerate(lines)
             if needle in line and not line.lstrip().startswith("#")]
    assert len(found) == 1, f"{needle!r} is on {len(found)} lines"
    return found[0]


def after(lines: list[str], start: int, prefix: str) -> int:
    """The 0-based index of the first line after ``start`` that starts with ``prefix``."""
    for i in range(start + 1, len(lines)):
        if lines[i].startswith(prefix):
            return i
    raise AssertionError(f"no line starting with {prefix!r} after line {start + 1}")


def edit(folder: Path, name: str, old: str, new: str) -> int:
    """Replace ``old`` on the one line (comments aside) that has it; return that line (1-based)."""
    lines = load_lines(folder, name)
    i = only(lines, old)
    lines[i] = lines[i].replace(old, new)
    save_lines(folder, name, lines)
    return i + 1


def set_field(folder: Path, name: str, block: str, prefix: str, new: str) -> int:
    """Replace the first ``prefix`` line after the line ``block`` with ``new``; return its line."""
    lines = load_lines(folder, name)
    i = after(lines, only(lines, block), prefix)
    lines[i] = new + "\n"
    save_lines(folder, name, lines)
    return i + 1


def insert_after(folder: Path, name: str, anchor: str, *new: str) -> int:
    """Insert ``new`` lines after the one line with ``anchor``; return the first one's line."""
    lines = load_lines(folder, name)
    i = only(lines, anchor)
    lines[i + 1:i + 1] = [line + "\n" for line in new]
    save_lines(folder, name, lines)
    return i + 2


def append(folder: Path, name: str, extra: str) -> int:
    """Append ``extra`` (whole lines) to ``folder/name``; return the line of its first line."""
    text = read(folder, name)
    if not text.endswith("\n"):
        text += "\n"
    (folder / name).write_text(text + extra, encoding="utf-8")
    return text.count("\n") + 1


FINDING = "  correct-mg-before-k:"  # a finding of the clinical contract, used as a test site
UNKNOWN_CITE = "nobody1999-made-up"


def add_unknown_citation(folder: Path) -> int:
    """Cite an id that is not in the bibliography from FINDING; return that line."""
    lines = load_lines(folder, "findings.yaml")
    i = after(lines, only(lines, FINDING), "    cite: [")
    lines[i] = lines[i].replace("[", f"[{UNKNOWN_CITE}, ", 1)
    save_lines(folder, "findings.yaml", lines)
    return i + 1


def raise_step_up_dose(folder: Path, dose: str) -> set[int]:
    """Set the step-up dose to ``dose``; return the lines of its key and of its amount."""
    lines = load_lines(folder, "treatment.yaml")
    key = only(lines, "    step-up:")
    amount = after(lines, key, "      elemental:")
    lines[amount] = f"      elemental: {dose}\n"
    save_lines(folder, "treatment.yaml", lines)
    return {key + 1, amount + 1}


def errors_of(folder: Path) -> list[RulesError]:
    """Load ``folder``; assert it is refused; return every reported problem."""
    with pytest.raises(RulesErrors) as info:
        load_rules(folder)
    errors = list(info.value.errors)
    assert errors
    return errors


def where(error: RulesError) -> tuple[str, int | None]:
    return Path(error.path).name, error.line


def assert_reported(errors: list[RulesError], name: str, lines: int | set[int],
                    *words: str) -> RulesError:
    """Some error is at ``name``:one of ``lines``, shows it as ``name:line:``, and its message
    contains every one of ``words`` (case-insensitive)."""
    wanted = {lines} if isinstance(lines, int) else lines
    shown = "\n".join(str(e) for e in errors)
    here = [e for e in errors if Path(e.path).name == name and e.line in wanted]
    assert here, f"nothing reported at {name}:{sorted(wanted)}; reported:\n{shown}"
    for error in here:
        if all(w.lower() in error.message.lower() for w in words):
            assert re.search(rf"{re.escape(name)}:{error.line}: ", str(error)), str(error)
            return error
    raise AssertionError(f"no error at {name}:{sorted(wanted)} says {words}; reported:\n{shown}")


# -- the bundled rules ---------------------------------------------------------------------------

def bundled_version() -> str:
    versions = {m for f in BUNDLED.glob("*.yaml")
                for m in re.findall(r'^version:\s*"([^"]+)"', f.read_text(encoding="utf-8"),
                                    re.M)}
    assert len(versions) == 1, versions
    return versions.pop()


def test_bundled_rules_load(rules: RuleSet) -> None:
    assert isinstance(rules, RuleSet)
    assert rules.version == bundled_version()
    assert re.fullmatch(r"[0-9a-f]{64}", rules.sha256)


def test_rules_validate_accepts_the_bundled_rules(cli: Cli, rules: RuleSet) -> None:
    result = cli("rules", "validate")
    assert result.exit_code == 0, result.stderr
    assert rules.version in result.stdout
    assert rules.sha256 in result.stdout


def test_rules_validate_accepts_a_copy_given_as_path(cli: Cli, tmp_path: Path) -> None:
    result = cli("rules", "validate", str(copy_rules(tmp_path)))
    assert result.exit_code == 0, result.stderr
    assert bundled_version() in result.stdout


def test_rules_validate_exits_1_on_a_broken_copy_with_file_and_line(
    cli: Cli, tmp_path: Path
) -> None:
    folder = copy_rules(tmp_path)
    line = add_unknown_citation(folder)
    result = cli("rules", "validate", str(folder))
    assert result.exit_code == 1
    output = result.stdout + result.stderr
    assert f"findings.yaml:{line}:" in output, output
    assert UNKNOWN_CITE in output
    assert "Traceback" not in output


def test_sha256_identifies_the_rule_files(tmp_path: Path, rules: RuleSet) -> None:
    bundled = rules
    copy = load_rules(copy_rules(tmp_path))
    assert copy.sha256 == bundled.sha256
    append(tmp_path, "findings.yaml", "# a comment changes the file, so the hash\n")
    changed = load_rules(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{64}", changed.sha256)
    assert changed.sha256 != bundled.sha256


def test_a_single_file_rule_set_loads(tmp_path: Path, rules: RuleSet) -> None:
    """All sections in one YAML file, with one ``version:`` line."""
    bundled = rules
    parts = [f'version: "{bundled_version()}"\n']
    for source in sorted(BUNDLED.glob("*.yaml")):
        text = source.read_text(encoding="utf-8")
        parts.append(re.sub(r"^version:.*\n", "", text, flags=re.M) + "\n")
    single = tmp_path / "all.yaml"
    single.write_text("".join(parts), encoding="utf-8")
    assert len(re.findall(r"^version:", single.read_text(encoding="utf-8"), re.M)) == 1
    single_set = load_rules(single)
    assert single_set.version == bundled.version
    assert [s.id for s in single_set.steps] == [s.id for s in bundled.steps]
    assert set(single_set.findings) == set(bundled.findings)
    assert set(single_set.thresholds) == set(bundled.thresholds)
    assert set(single_set.references) == set(bundled.references)


# -- YAML-level refusals -------------------------------------------------------------------------

def test_duplicate_top_level_key(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = append(folder, "thresholds.yaml", f'version: "{bundled_version()}"\n')
    assert_reported(errors_of(folder), "thresholds.yaml", line, "duplicate", "version")


def test_duplicate_key_inside_a_finding(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    first = insert_after(folder, "findings.yaml", FINDING, "    severity: info")
    lines = load_lines(folder, "findings.yaml")
    second = after(lines, first - 1, "    severity:") + 1  # the finding's own, now the second
    assert_reported(errors_of(folder), "findings.yaml", second, "duplicate", "severity")


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    levels = ["  l0: &l0 [" + ", ".join(['"lol"'] * 9) + "]\n"]
    for i in range(1, 10):
        levels.append(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n")
    # 9**10 "lol"s if the aliases were expanded
    first = append(folder, "references.yaml", "laughs:\n" + "".join(levels))
    started = time.perf_counter()
    errors = errors_of(folder)
    assert time.perf_counter() - started < 2.0
    alias_lines = set(range(first + 2, first + 11))  # the lines l1 .. l9
    assert_reported(errors, "references.yaml", alias_lines, "alias")


def test_python_object_tag_is_refused_and_never_run(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    marker = tmp_path / "hacked"
    line = append(folder, "references.yaml",
                  f'hack: !!python/object/apply:os.system ["echo hacked > {marker}"]\n')
    errors = errors_of(folder)
    assert not marker.exists()
    assert_reported(errors, "references.yaml", line, "python/object")


def test_non_utf8_bytes_are_refused_with_their_line(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    raw = (folder / "references.yaml").read_bytes()
    if not raw.endswith(b"\n"):
        raw += b"\n"
    line = raw.count(b"\n") + 1
    raw += "# caf\u00e9 in Latin-1, not UTF-8\n".encode("latin-1")
    (folder / "references.yaml").write_bytes(raw)
    assert_reported(errors_of(folder), "references.yaml", line, "utf-8")


def test_unclosed_bracket_points_at_its_line(tmp_path: Path) -> None:
    """A YAML syntax error names the line a rule author must fix (the opening bracket), not
    only where the parser gave up."""
    folder = copy_rules(tmp_path)
    lines = load_lines(folder, "findings.yaml")
    i = after(lines, only(lines, FINDING), "    cite: [")
    lines[i] = lines[i].replace("]", "", 1)
    save_lines(folder, "findings.yaml", lines)
    line = i + 1
    errors = errors_of(folder)
    shown = "\n".join(str(e) for e in errors)
    assert any(Path(e.path).name == "findings.yaml"
               and (e.line == line or re.search(rf"\bline {line}\b", e.message))
               for e in errors), f"line {line} not named:\n{shown}"


# -- structure and cross-references --------------------------------------------------------------

def test_unknown_field_in_a_finding(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = insert_after(folder, "findings.yaml", FINDING, "    severty: critical")
    assert_reported(errors_of(folder), "findings.yaml", line, "severty", "unknown")


def test_misspelt_required_field_in_a_finding(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    key = only(load_lines(folder, "findings.yaml"), FINDING) + 1
    line = set_field(folder, "findings.yaml", FINDING, "    severity:", "    severty: warning")
    errors = errors_of(folder)
    assert_reported(errors, "findings.yaml", line, "severty", "unknown")
    assert_reported(errors, "findings.yaml", {key, line}, "severity", "missing")


@pytest.mark.parametrize(("tid", "bad"), [
    ("mg-lln", "0.70 mL/min"),
    ("crcl-contraindicated", "20 mg/dL"),
    ("k-lln", "3.5 kg"),
])
def test_threshold_with_the_wrong_dimension_fails_to_load(
    tmp_path: Path, tid: str, bad: str
) -> None:
    folder = copy_rules(tmp_path)
    line = set_field(folder, "thresholds.yaml", f"  {tid}:", "    value:", f"    value: {bad}")
    assert_reported(errors_of(folder), "thresholds.yaml", line, tid, bad.split()[0])


def test_condition_comparing_mg_with_a_crcl_threshold(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = edit(folder, "decision.yaml", "low-mg: {mg: {below: mg-lln}}",
                "low-mg: {mg: {below: crcl-contraindicated}}")
    assert_reported(errors_of(folder), "decision.yaml", line, "crcl-contraindicated", "mg")


def test_condition_comparing_mg_with_a_flow_literal(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = edit(folder, "findings.yaml", "{all: [{is: low-mg}, {k: {below: k-lln}}]}",
                '{all: [{is: low-mg}, {mg: {below: "20 mL/min"}}]}')
    assert_reported(errors_of(folder), "findings.yaml", line, "20 mL/min", "mg")


def test_one_mistake_is_reported_once_and_only_where_it_is(tmp_path: Path) -> None:
    """A wrong predicate must not also be blamed on every rule that uses it, nor make other
    files report things that are not wrong (e.g. 'finding ... is not defined')."""
    folder = copy_rules(tmp_path)
    line = edit(folder, "decision.yaml", "low-mg: {mg: {below: mg-lln}}",
                "low-mg: {mg: {below: crcl-contraindicated}}")
    errors = errors_of(folder)
    assert [where(e) for e in errors] == [("decision.yaml", line)], \
        "\n".join(str(e) for e in errors)


def test_unknown_citation_in_a_finding(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = add_unknown_citation(folder)
    error = assert_reported(errors_of(folder), "findings.yaml", line, UNKNOWN_CITE)
    assert re.search(r"citation|reference|bibliograph", error.message, re.I), error.message


def test_unknown_threshold_in_a_condition(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = edit(folder, "findings.yaml", "{all: [{is: low-mg}, {k: {below: k-lln}}]}",
                "{all: [{is: low-mg}, {k: {below: k-lln2}}]}")
    error = assert_reported(errors_of(folder), "findings.yaml", line, "'k-lln2'", "unknown")
    assert "did you mean 'k-lln'?" in error.message


def test_unknown_vocabulary_id_in_any_of(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = edit(folder, "findings.yaml", "any_of: [volume-depletion]",
                "any_of: [volume-depletoin]")
    assert_reported(errors_of(folder), "findings.yaml", line, "volume-depletoin", "unknown")


def test_unknown_placeholder_in_a_message(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = edit(folder, "findings.yaml", "deficiency: {risk_factors}", "deficiency: {risk_factor}")
    assert_reported(errors_of(folder), "findings.yaml", line, "{risk_factor}", "placeholder")


def test_predicate_cycle(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    first = insert_after(folder, "decision.yaml", "predicates:",
                         "  loop-a: {is: loop-b}", "  loop-b: {is: loop-a}")
    lines = {first, first + 1}
    errors = errors_of(folder)
    assert_reported(errors, "decision.yaml", lines, "loop-a", "loop-b")
    assert {where(e) for e in errors} <= {("decision.yaml", n) for n in lines}


def test_two_files_defining_the_same_section(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = append(folder, "treatment.yaml",
                  "thresholds:\n  extra-limit:\n    value: 1 mmol/L\n    for: mg\n"
                  "    meaning: a second thresholds section\n")
    original = only(load_lines(folder, "thresholds.yaml"), "thresholds:") + 1
    errors = errors_of(folder)
    shown = "\n".join(str(e) for e in errors)
    assert any(
        (where(e) == ("treatment.yaml", line) and "thresholds.yaml" in e.message)
        or (where(e) == ("thresholds.yaml", original) and "treatment.yaml" in e.message)
        for e in errors
    ), shown


def test_version_mismatch_between_files(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    lines = load_lines(folder, "vocabulary.yaml")
    i = next(n for n, text in enumerate(lines) if text.startswith("version:"))
    lines[i] = 'version: "1999.1.1"\n'
    save_lines(folder, "vocabulary.yaml", lines)
    assert_reported(errors_of(folder), "vocabulary.yaml", i + 1, "version", "1999.1.1")


def test_missing_section(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    holder = next(f for f in folder.glob("*.yaml")
                  if re.search(r"^regimen:", f.read_text(encoding="utf-8"), re.M))
    sections = [s for s in re.findall(r"^([a-z_]+):", holder.read_text(encoding="utf-8"), re.M)
                if s != "version"]
    holder.unlink()
    errors = errors_of(folder)
    text = "\n".join(e.message for e in errors)
    for section in sections:
        assert section in text, (section, text)
    # a section no file defines belongs to no file: reported for the folder, without a line
    assert {(e.path, e.line) for e in errors} == {(folder, None)}


@pytest.mark.parametrize("dose", ["38 mmol/day", "40 mmol/day", "1000 mg/day"])
def test_dose_above_the_maximum(tmp_path: Path, dose: str) -> None:
    """Maximum: magnesium oxide 1500 mg/day = 1500 / 40.304 = 37.2 mmol elemental = 905 mg."""
    folder = copy_rules(tmp_path)
    lines = raise_step_up_dose(folder, dose)
    assert_reported(errors_of(folder), "treatment.yaml", lines, "step-up", "maximum")


def test_dose_just_below_the_maximum_loads(tmp_path: Path) -> None:
    """37 mmol/day = 899 mg elemental = 1491 mg magnesium oxide, under 1500 mg/day."""
    folder = copy_rules(tmp_path)
    raise_step_up_dose(folder, "37 mmol/day")
    assert isinstance(load_rules(folder), RuleSet)


# -- all or nothing ------------------------------------------------------------------------------

def test_every_problem_is_reported_and_nothing_half_loaded_is_returned(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    cite_line = add_unknown_citation(folder)
    dose_lines = raise_step_up_dose(folder, "40 mmol/day")
    returned: list[Any] = []
    with pytest.raises(RulesErrors) as info:
        returned.append(load_rules(folder))
    assert returned == []
    errors = list(info.value.errors)
    assert_reported(errors, "findings.yaml", cite_line, UNKNOWN_CITE)
    assert_reported(errors, "treatment.yaml", dose_lines, "maximum")
    # The RulesErrors message lists them all, one per line, as file:line: reason.
    assert str(info.value).count("\n") == len(errors) - 1


# -- every error path of the regimen, monitoring, steps and risk factors is located ----------
# (found by mutation testing: these paths were refused, but where was never checked)

def _drop_step_up(folder: Path) -> int:
    lines = load_lines(folder, "treatment.yaml")
    key = only(lines, "    step-up:")
    del lines[key:key + 3]  # the dose, its amount and its citation
    save_lines(folder, "treatment.yaml", lines)
    return only(lines, "  doses:") + 1


def _edit_folded(folder: Path, name: str, old: str, new: str) -> int:
    """``edit`` inside a folded text (``reason: >-``): the error is at the text's key line."""
    line = edit(folder, name, old, new)
    lines = load_lines(folder, name)
    return max(i for i in range(line) if lines[i].lstrip().startswith("reason:")) + 1


def _drop_by_step(folder: Path, step: str) -> int:
    lines = load_lines(folder, "treatment.yaml")
    key = only(lines, f"    {step}:")
    del lines[key:key + 3]  # the step, its basis and its dose
    save_lines(folder, "treatment.yaml", lines)
    return only(lines, "  by_step:") + 1


def _drop_mg_molar_mass(folder: Path) -> int:
    lines = load_lines(folder, "quantities.yaml")
    key = only(lines, "  mg:")
    units = after(lines, key, "    units:")  # without mg/dL, which needs the molar mass too
    lines[units] = lines[units].replace(", mg/dL: 1", "")
    del lines[after(lines, key, "    molar_mass:")]
    save_lines(folder, "quantities.yaml", lines)
    return key + 1


LOCATED = {  # case: (edit returning (file, line), words of the message)
    "monitoring cite": (lambda f: ("treatment.yaml", set_field(f, "treatment.yaml", "  more_often:",
                                                              "    cite: [",
                                                              f"    cite: [{UNKNOWN_CITE}]")),
                        (f"citation {UNKNOWN_CITE!r} is not in the bibliography",)),
    "dose unit": (lambda f: ("treatment.yaml", set_field(f, "treatment.yaml", "    standard-start:",
                                                        "      elemental:",
                                                        "      elemental: 12 mmol/L")),
                  ("'12 mmol/L'", "mmol/day")),
    "dose missing": (lambda f: ("treatment.yaml", _drop_step_up(f)),
                     ("dose 'step-up' is missing",)),
    "caution ceiling": (lambda f: ("treatment.yaml", edit(f, "treatment.yaml",
                                                          "ceiling: standard-start",
                                                          "ceiling: half-dose")),
                        ("unknown dose 'half-dose'",)),
    "by_step dose": (lambda f: ("treatment.yaml", edit(f, "treatment.yaml",
                                                       "dose: half-start", "dose: quarter-start")),
                     ("unknown dose 'quarter-start'",)),
    "by_step not a supplement step": (lambda f: ("treatment.yaml", edit(
        f, "treatment.yaml", "    supplement-step-up:", "    mg-normal:")),
        ("by_step: 'mg-normal' is not a step that gives a regimen",)),
    "by_step caution above the standard start": (lambda f: ("treatment.yaml", edit(
        f, "treatment.yaml", "ceiling: standard-start", "ceiling: step-up")),
        ("a caution regimen is never above the standard start",)),
    "by_step dose above its ceiling": (lambda f: ("treatment.yaml", edit(
        f, "treatment.yaml", "dose: half-start", "dose: standard-start")),
        ("dose 'standard-start' is above its ceiling",)),
    "by_step caution not reduced": (lambda f: ("treatment.yaml", set_field(
        f, "treatment.yaml", "    renal-caution-severe:", "      basis:",
        "      basis: standard-start")),
        ("status supplement-with-caution gives a reduced regimen, not standard-start",)),
    "by_step missing": (lambda f: ("treatment.yaml", _drop_by_step(f, "supplement-step-up")),
                        ("step supplement-step-up gives status supplement but has no regimen "
                         "in by_step",)),
    "calcium adjustment unit": (lambda f: ("thresholds.yaml", edit(
        f, "thresholds.yaml", "calcium_step: 1 mg/dL", "calcium_step: 1 kg")),
        ("calcium_adjustment.calcium_step:", "cannot be converted to mmol/L")),
    "cockcroft_gault discrepancy": (lambda f: ("thresholds.yaml", edit(
        f, "thresholds.yaml", "discrepancy: crcl-discrepancy", "discrepancy: mg-lln")),
        ("discrepancy: 'mg-lln' is not a threshold for crcl_discrepancy",)),
    "placeholder unit": (lambda f: ("decision.yaml", _edit_folded(
        f, "decision.yaml", "({current_dose|mg/day} elemental):",
        "({current_dose|mg/L} elemental):")),
        ("placeholder {current_dose|mg/L}: 'mg/L' is not an accepted unit of current_dose",)),
    "no molar mass": (lambda f: ("quantities.yaml", _drop_mg_molar_mass(f)),
                      ("mg needs a molar_mass",)),
    "step finding": (lambda f: ("decision.yaml", edit(f, "decision.yaml",
                                                      "finding: step-up-dose",
                                                      "finding: step-up")),
                     ("step supplement-step-up: finding 'step-up' is not defined in findings",)),
    "alternative finding": (lambda f: ("treatment.yaml", edit(
        f, "treatment.yaml", "finding: prefer-better-tolerated-salt", "finding: prefer-salt")),
        ("finding 'prefer-salt' is not defined",)),
    "timing cite": (lambda f: ("treatment.yaml", edit(f, "treatment.yaml",
                                                      "cite: [nightingale2006-bsg]",
                                                      f"cite: [{UNKNOWN_CITE}]")),
                    (f"citation {UNKNOWN_CITE!r} is not in the bibliography",)),
    "risk factor condition": (lambda f: ("findings.yaml", edit(
        f, "findings.yaml", "{meds: {any_of: [thiazide-diuretic]}}",
        "{meds: {any_of: [thiazides]}}")), ("unknown id 'thiazides'",)),
    "detail cite": (lambda f: ("findings.yaml", insert_after(
        f, "findings.yaml", "        when: {is: gi-losses}", f"        cite: [{UNKNOWN_CITE}]")),
        (f"citation {UNKNOWN_CITE!r} is not in the bibliography",)),
    "step id twice": (lambda f: ("decision.yaml", edit(f, "decision.yaml",
                                                       "  - id: pre-eclampsia",
                                                       "  - id: adults-only")),
                      ("step id 'adults-only' is used twice",)),
    "monitoring reason condition": (lambda f: ("treatment.yaml", edit(
        f, "treatment.yaml", "when: {crcl: {below: crcl-reduced-dose}}",
        "when: {crcl: {below: crcl-reduced}}")), ("unknown threshold 'crcl-reduced'",)),
    "quantity missing": (lambda f: ("quantities.yaml", _drop_quantity(f, "  days_on_dose:")),
                         ("quantity 'days_on_dose' is missing",)),
    "threshold for no quantity": (lambda f: ("thresholds.yaml", _threshold_for(f, "potassium")),
                                  ("'for: potassium' is not a quantity; use one of mg, k, ca, "
                                   "creatinine, crcl, egfr, albumin, age",)),
    "cockcroft_gault cite": (lambda f: ("thresholds.yaml", edit(
        f, "thresholds.yaml", "  cite: [cockcroft1976-nephron]", f"  cite: [{UNKNOWN_CITE}]")),
        (f"citation {UNKNOWN_CITE!r} is not in the bibliography",)),
    "step reason placeholder": (lambda f: ("decision.yaml", edit(
        f, "decision.yaml", "this patient is {age}.", "this patient is {agee}.")),
        ("{agee}",)),
    "alternative dose unit": (lambda f: ("treatment.yaml", edit(
        f, "treatment.yaml", "elemental: [200 mg/day, 400 mg/day]",
        "elemental: [200 mg/L, 400 mg/day]")), ("'200 mg/L'", "cannot be converted to mmol/day")),
    "alternative range reversed": (lambda f: ("treatment.yaml", edit(
        f, "treatment.yaml", "elemental: [200 mg/day, 400 mg/day]",
        "elemental: [400 mg/day, 200 mg/day]")), ("range minimum is above maximum",)),
    "product cite": (lambda f: ("treatment.yaml", set_field(
        f, "treatment.yaml", "    magnesium-oxide:", "      cite: [",
        f"      cite: [{UNKNOWN_CITE}]")), (f"citation {UNKNOWN_CITE!r}",)),
    "caution cite": (lambda f: ("treatment.yaml", set_field(
        f, "treatment.yaml", "    renal-dose-reduction:", "      cite: [",
        f"      cite: [{UNKNOWN_CITE}]")), (f"citation {UNKNOWN_CITE!r}",)),
    "alternative cite": (lambda f: ("treatment.yaml", set_field(
        f, "treatment.yaml", "  alternative:", "    cite: [", f"    cite: [{UNKNOWN_CITE}]")),
        (f"citation {UNKNOWN_CITE!r}",)),
    "side effects cite": (lambda f: ("treatment.yaml", set_field(
        f, "treatment.yaml", "  side_effects:", "    cite: [", f"    cite: [{UNKNOWN_CITE}]")),
        (f"citation {UNKNOWN_CITE!r}",)),
    "vocabulary id missing": (lambda f: ("vocabulary.yaml", _drop_tetany(f)),
                              ("symptoms: id 'tetany' of the contract is missing",)),
    "vocabulary id not in the contract": (lambda f: ("vocabulary.yaml", edit(
        f, "vocabulary.yaml", "    tetany: {", "    tetanus: {")),
        ("symptoms: 'tetanus' is not an id of the contract",)),
    "vocabulary synonym taken": (lambda f: ("vocabulary.yaml", edit(
        f, "vocabulary.yaml", "synonyms: [spasms, muscle-spasm]", "synonyms: [spasms, cramp]")),
        ("symptoms: 'cramp' already means 'cramps'",)),  # at the entry that came second
    "medication name read as another class's": (lambda f: ("vocabulary.yaml", (
        edit(f, "vocabulary.yaml", "Torem, co-amilofruse]", "Torem, co-amilofruse, Nexium.]"),
        only(load_lines(f, "vocabulary.yaml"), "    ppi:") + 1)[1]),
        ("meds: 'nexium' reads as the same words as a name of 'loop-diuretic'",)),
    "not-classed name is a class's name": (lambda f: ("vocabulary.yaml", edit(
        f, "vocabulary.yaml", "- names: [magnesium stearate]",
        "- names: [magnesium stearate, Lasix]")),
        ("meds_not_classed: 'Lasix' is a name of 'loop-diuretic'",)),
    "elemental name is a salt's name": (lambda f: ("treatment.yaml", edit(
        f, "treatment.yaml", "elemental_names: [elemental,",
        "elemental_names: [magnesium oxide, elemental,")),
        ("'magnesium oxide' is also a salt name",)),
}
# Cockcroft-Gault's parameters: each with a plausible number in the wrong unit, at its own line
for _name, _old, _new in [
        ("age_from", "age_from: 140 year", "age_from: 140 kg"),
        ("divisor", "divisor: 72 year*kg*min/(mL*mg/dL)", "divisor: 72"),
        ("ideal_base", "male: 50 kg}", "male: 50 cm}"),
        ("ideal_per_inch", "ideal_per_inch: 2.3 kg", "ideal_per_inch: 2.3 cm"),
        ("ideal_from_height", "ideal_from_height: 60 in", "ideal_from_height: 60 kg"),
        ("underweight_below", "underweight_below: 18.5 kg/m2", "underweight_below: 18.5 kg"),
        ("overweight_from", "overweight_from: 25 kg/m2", "overweight_from: 25 kg/m")]:
    LOCATED[f"cockcroft_gault {_name}"] = (
        lambda f, old=_old, new=_new: ("thresholds.yaml", edit(f, "thresholds.yaml", old, new)),
        (f"cockcroft_gault.{_name}:",))
LOCATED["cockcroft_gault adults_from"] = (
    lambda f: ("thresholds.yaml", edit(f, "thresholds.yaml", "adults_from: adult-age",
                                       "adults_from: mg-lln")),
    ("adults_from: 'mg-lln' is not a threshold for age",))


def _drop_quantity(folder: Path, key: str) -> int:
    """Delete the quantity ``key`` (to its blank line); return the line of ``quantities:``."""
    lines = load_lines(folder, "quantities.yaml")
    start = only(lines, key)
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    del lines[start:end]
    save_lines(folder, "quantities.yaml", lines)
    return only(lines, "quantities:") + 1  # a missing quantity is reported at its section


def _threshold_for(folder: Path, fact: str) -> int:
    """Point the first threshold's ``for:`` at ``fact``; return the line of its value."""
    lines = load_lines(folder, "thresholds.yaml")
    key = after(lines, only(lines, "thresholds:"), "  ")
    lines[after(lines, key, "    for:")] = f"    for: {fact}\n"
    save_lines(folder, "thresholds.yaml", lines)
    return after(lines, key, "    value:") + 1


def _drop_tetany(folder: Path) -> int:
    lines = load_lines(folder, "vocabulary.yaml")
    del lines[only(lines, "    tetany: {")]
    save_lines(folder, "vocabulary.yaml", lines)
    return only(lines, "  symptoms:") + 1  # a missing id is reported at its vocabulary


@pytest.mark.parametrize("case", sorted(LOCATED))
def test_each_regimen_monitoring_and_step_error_is_located(tmp_path: Path, case: str) -> None:
    folder = copy_rules(tmp_path)
    make, words = LOCATED[case]
    name, line = make(folder)
    errors = errors_of(folder)
    assert_reported(errors, name, line, *words)


def test_a_detail_may_test_the_status_as_its_finding_may(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    edit(folder, "findings.yaml", "        when: {is: gi-losses}",
         "        when: {status: {in: [supplement]}}")
    rules = load_rules(folder)
    detail = next(d for f in rules.findings.values() for d in f.details
                  if "gastrointestinal losses" in d.text)
    assert "status" in repr(detail.when)


def test_an_alternative_range_of_one_amount_loads(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    edit(folder, "treatment.yaml", "elemental: [200 mg/day, 400 mg/day]",
         "elemental: [300 mg/day, 300 mg/day]")
    regimen = load_rules(folder).regimen
    assert regimen.alternative_low.elemental_mmol == regimen.alternative_high.elemental_mmol \
        == pytest.approx(300 / 24.305)


def test_a_threshold_in_another_unit_of_its_quantity_is_converted(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    set_field(folder, "thresholds.yaml", "  mg-lln:", "    value:", "    value: 1.7 mg/dL")
    threshold = load_rules(folder).thresholds["mg-lln"]
    assert threshold.canonical == pytest.approx(1.7 * 10 / 24.305)  # mg/dL -> mmol/L
    assert threshold.text == "1.7 mg/dL"


def test_a_reversed_alternative_range_says_so_exactly(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = edit(folder, "treatment.yaml", "elemental: [200 mg/day, 400 mg/day]",
                "elemental: [400 mg/day, 200 mg/day]")
    assert [(where(e), e.message) for e in errors_of(folder)] == [
        (("treatment.yaml", line), "range minimum is above maximum")]


def test_a_rule_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    (folder / "extra.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    assert [(where(e), e.message) for e in errors_of(folder)] == [
        (("extra.yaml", 1), "a rule file is a mapping with a version and sections such as "
                            "findings or thresholds")]


def test_a_rule_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(RulesErrors) as info:
        load_rules(tmp_path / "absent")
    assert [(e.path, e.line, e.message) for e in info.value.errors] == [
        (tmp_path / "absent", None, "no such file or folder")]


# -- the compiled rule set keeps what the YAML says ------------------------------------------
# The YAML is read here with ruamel directly; every id, text and citation must reach the
# compiled rules unchanged (found by mutation testing: fields could be dropped unnoticed).

def _raw(name: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load((BUNDLED / name).read_text(encoding="utf-8"))


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_compiled_regimen_and_monitoring_keep_the_yaml() -> None:
    rules = load_rules()  # in the test, not the session fixture: this test compiles them
    raw = _raw("treatment.yaml")
    spec, compiled = raw["regimen"], rules.regimen
    alt = spec["alternative"]
    assert compiled.product_id == spec["product"]
    assert compiled.product_label == spec["salts"][spec["product"]]["label"]
    for step_id, entry in spec["by_step"].items():
        made = compiled.by_step[step_id]
        assert made.basis == entry["basis"]
        assert made.dose_id == entry.get("dose")
        assert (made.dose is None) == ("dose" not in entry)
        assert made.ceiling_id == entry.get("ceiling", "maximum")
        assert made.note == (_words(entry["note"]) if "note" in entry else None)
        assert list(made.cite) == entry.get("cite", [])
    assert set(compiled.by_step) == set(spec["by_step"])
    assert compiled.alternative_finding == alt["finding"]
    assert compiled.alternative_label == spec["salts"][alt["salt"]]["label"]
    assert compiled.alternative_note == _words(alt["note"])
    assert compiled.side_effects == tuple(spec["side_effects"]["items"])
    assert compiled.side_effects_advice == spec["side_effects"]["advice"]
    assert compiled.maximum_basis == spec["maximum"]["basis"]
    assert compiled.timing == spec["timing"]["text"]
    assert {n: list(c) for n, c in compiled.cite_doses.items()} == \
        {n: d["cite"] for n, d in spec["doses"].items()}
    assert list(compiled.cite_product) == spec["salts"][spec["product"]]["cite"]
    assert list(compiled.cite_timing) == spec["timing"]["cite"]
    assert list(compiled.cite_alternative) == alt["cite"]
    assert list(compiled.cite_side_effects) == spec["side_effects"]["cite"]
    assert list(compiled.cite_maximum) == spec["maximum"].get("cite", [])
    more = raw["monitoring"]["more_often"]
    assert rules.monitoring.more_often_text == more["text"]
    assert [r.label for r in rules.monitoring.reasons] == [r["label"] for r in more["reasons"]]
    assert list(rules.monitoring.more_often_cite) == more["cite"]



def test_the_compiled_quantities_keep_the_yaml() -> None:
    rules = load_rules()
    spec = _raw("quantities.yaml")["quantities"]
    assert list(rules.quantities) == list(spec)
    for qid, raw in spec.items():
        rule = rules.quantities[qid]
        assert (rule.id, rule.label, rule.example) == (qid, raw["label"], raw["example"])
        assert (rule.minimum_text, rule.maximum_text) == (raw["plausible"]["min"],
                                                          raw["plausible"]["max"])
        assert rule.shown_as == raw.get("shown_as")
        assert rule.compare_in_canonical == (raw.get("compare_in") == "canonical")
        assert rule.table.canonical == raw["canonical"]
    assert rules.quantities["age"].shown_as == "years"  # the YAML does have one to keep
    assert rules.quantities["age"].as_used(67) == "67.0 years"

def test_the_compiled_references_keep_the_yaml() -> None:
    rules = load_rules()
    spec = _raw("references.yaml")["references"]
    assert list(rules.references) == list(spec)
    for rid, raw in spec.items():
        ref = rules.references[rid]
        assert (ref.id, _words(ref.citation), _words(ref.supports)) == (
            rid, _words(raw["citation"]), _words(raw["supports"]))
        assert (ref.doi, ref.pmid, ref.pmcid, ref.url) == (
            raw.get("doi"), raw.get("pmid"), raw.get("pmcid"), raw.get("url"))
        assert ref.caveat == (raw.get("caveat") and _words(raw["caveat"]))
    assert rules.references["garrison2020-cochrane"].pmcid == "PMC8094171"  # one to keep


# -- predicates written out: the rule language's own "billion laughs" ------------------------

def _predicates(folder: Path, *definitions: str) -> int:
    return insert_after(folder, "decision.yaml", "  low-mg: {mg: {below: mg-lln}}",
                        *definitions)


def test_predicates_that_double_at_each_level_are_refused_at_load(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = _predicates(folder, "  p0: {mg: {below: mg-lln}}",
                       *(f"  p{k}: {{any: [{{is: p{k - 1}}}, {{not: {{is: p{k - 1}}}}}]}}"
                         for k in range(1, 21)))
    started = time.perf_counter()
    errors = errors_of(folder)
    assert time.perf_counter() - started < 10
    assert_reported(errors, "decision.yaml", set(range(line, line + 21)),
                    "with every is: written out", "more than 10,000 tests")
    # said once: every later condition would only repeat it
    assert sum("with every is: written out" in e.message for e in errors) == 1


def test_a_long_predicate_chain_is_refused_at_load(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    line = _predicates(folder, "  c0: {mg: {below: mg-lln}}",
                       *(f"  c{k}: {{not: {{is: c{k - 1}}}}}" for k in range(1, 60)))
    errors = errors_of(folder)
    assert_reported(errors, "decision.yaml", set(range(line, line + 60)),
                    "with every is: written out", "nested", "at most 40 levels")


def test_predicates_used_within_the_limits_load(tmp_path: Path) -> None:
    folder = copy_rules(tmp_path)
    _predicates(folder, "  c0: {mg: {below: mg-lln}}",
                *(f"  c{k}: {{not: {{is: c{k - 1}}}}}" for k in range(1, 18)))
    assert "c17" in read(folder, "decision.yaml")
    load_rules(folder)  # 18 levels with is: written out: well within 40


def test_a_canonical_unit_pint_does_not_know_is_an_error_not_a_crash(tmp_path: Path) -> None:
    # pint raised UndefinedUnitError through the loader: `rules validate` said "internal error"
    folder = copy_rules(tmp_path)
    line = edit(folder, "quantities.yaml", "canonical: day", "canonical: days per dose")
    errors = errors_of(folder)
    assert_reported(errors, "quantities.yaml", line, "canonical unit must be day")
    assert_reported(errors, "quantities.yaml", line - 2, "days_on_dose",
                    "unknown unit 'days per dose'")
