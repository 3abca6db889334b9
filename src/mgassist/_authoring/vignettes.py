"""Test vignettes for a rule set: YAML files of patients and what the rules must decide.

    load_vignettes(files, rules) -> list[Vignette]     # raises RulesErrors (file:line)

A vignette file (``rules/tests/*.yaml``)::

    cases:
      - name: K 3.4 with low magnesium - correct magnesium first
        patient: {mg: 0.6 mmol/L, k: 3.4 mmol/L, crcl: 80 mL/min}   # as a batch record
        lab_flags: [mg-lab-low]        # optional: what a FHIR document says of its results
                                       # (lab-result-old, mg-lab-low/normal/high; docs/fhir.md)
        expect:                        # at least one of:
          status: supplement           # the status
          decided_by: supplement       # the step that set it
          findings: [correct-mg-before-k]        # must be reported
          not_findings: [renal-dose-reduction]   # must not be reported
          regimen: {dose_basis: standard-start, elemental_mmol_per_day: 12}
                                       # or: regimen: none

Files are read like rule files (safe YAML, no aliases, duplicate keys refused), and every id an
expectation names is checked against the rule set, so a misspelt finding can never make a
``not_findings`` check pass by default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mgassist._core.assessment import Regimen
from mgassist._core.contract import LabFlag, Status
from mgassist._core.errors import RulesError, RulesErrors, pydantic_message
from mgassist._core.ruleset import RuleSet
from mgassist._rulebook.source import rule_files
from mgassist._rulebook.yaml_source import Located, read_yaml

__all__ = ["Expect", "Vignette", "load_vignettes", "vignette_files"]

REGIMEN_KEYS = frozenset(f.name for f in fields(Regimen))


class _Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str | None = None
    decided_by: str | None = None
    findings: list[str] = Field(default_factory=list)
    not_findings: list[str] = Field(default_factory=list)
    regimen: Literal["none"] | dict[str, str | int | float | None] | None = None


class _Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    patient: dict[str, Any]
    lab_flags: list[str] = []
    expect: _Expect


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: list[_Case] = Field(min_length=1)


@dataclass(frozen=True)
class Expect:
    """What a case requires; None (or empty) checks nothing for that part."""

    status: Status | None
    decided_by: str | None
    findings: tuple[str, ...]
    not_findings: tuple[str, ...]
    regimen: Literal["none"] | Mapping[str, str | int | float | None] | None


@dataclass(frozen=True)
class Vignette:
    """One test case, with the file and line it comes from."""

    path: Path
    line: int | None
    name: str
    patient: Mapping[str, Any]
    expect: Expect
    lab_flags: tuple[str, ...] = ()  # LabFlag values, as a FHIR document would give them

    @property
    def where(self) -> str:
        """``file:line`` of the case."""
        return f"{self.path}:{self.line}" if self.line is not None else str(self.path)


def vignette_files(paths: Sequence[Path]) -> list[Path]:
    """The vignette files named: files as given, folders as their *.yaml files, sorted (read
    the way rule folders are)."""
    return [file for path in paths for file in rule_files(path)]


def load_vignettes(files: Sequence[Path], rules: RuleSet) -> list[Vignette]:
    """Read and check every file; raise RulesErrors listing every problem in all of them."""
    errors: list[RulesError] = []
    out: list[Vignette] = []
    for file in files:
        try:
            doc = read_yaml(file)
        except RulesErrors as exc:
            errors += exc.errors
            continue
        if not isinstance(doc.data, dict):
            errors.append(doc.error((), "a vignette file is a mapping with a list of cases"))
            continue
        try:
            parsed = _File.model_validate(doc.data)
        except ValidationError as exc:
            errors += [doc.error(tuple(e["loc"]), pydantic_message(e)) for e in exc.errors()]
            continue
        for index, case in enumerate(parsed.cases):
            problems = _check(case.expect, rules)
            where = ("cases", index)
            errors += [doc.error((*where, "expect", *path), message)
                       for path, message in problems]
            flags = [f.value for f in LabFlag]
            bad = [(i, f) for i, f in enumerate(case.lab_flags) if f not in flags]
            errors += [doc.error((*where, "lab_flags", i), f"unknown lab flag {f!r}; one of: "
                                 f"{', '.join(flags)}") for i, f in bad]
            if not problems and not bad:
                out.append(_vignette(doc, where, case))
    if errors:
        raise RulesErrors(errors)
    return out


def _vignette(doc: Located, where: tuple[str | int, ...], case: _Case) -> Vignette:
    e = case.expect
    return Vignette(doc.path, doc.line_of(where), case.name, case.patient, Expect(
        status=Status(e.status) if e.status is not None else None, decided_by=e.decided_by,
        findings=tuple(e.findings), not_findings=tuple(e.not_findings), regimen=e.regimen),
        lab_flags=tuple(case.lab_flags))


def _check(e: _Expect, rules: RuleSet) -> list[tuple[tuple[str | int, ...], str]]:
    """Every expectation that names something the rule set does not have."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if (e.status is None and e.decided_by is None and not e.findings and not e.not_findings
            and e.regimen is None):
        problems.append(((), "expect checks nothing: give status, decided_by, findings, "
                             "not_findings or regimen"))
    statuses = [s.value for s in Status]
    if e.status is not None and e.status not in statuses:
        problems.append((("status",), f"unknown status {e.status!r}; one of: "
                                      f"{', '.join(statuses)}"))
    steps = [s.id for s in rules.steps]
    if e.decided_by is not None and e.decided_by not in [*steps, "none"]:
        problems.append((("decided_by",), f"no step {e.decided_by!r} in the rules; steps: "
                                          f"{', '.join(steps)}"))
    for key in ("findings", "not_findings"):
        for i, fid in enumerate(getattr(e, key)):
            if fid not in rules.findings:
                problems.append(((key, i), f"no finding {fid!r} in the rules "
                                           "(`mgassist rules show` lists them)"))
    both = set(e.findings) & set(e.not_findings)
    if both:
        problems.append((("not_findings",), f"{', '.join(sorted(both))} both expected and "
                                            "not expected"))
    if isinstance(e.regimen, dict):
        for key in e.regimen:
            if key not in REGIMEN_KEYS:
                problems.append((("regimen", key), f"unknown regimen field {key!r}; fields: "
                                                   f"{', '.join(sorted(REGIMEN_KEYS))}"))
    return problems
