"""Load a rule set: read every file safely, validate everything, compile, or refuse it whole.

    load_rules(path=None) -> RuleSet      # None: the rules bundled with the package

Checked at load, each failure reported as ``file:line: what is wrong`` (all of them, not only
the first): YAML safety (see yaml_source), the file format (pydantic, no unknown fields), each
section defined once, one version across files, units and dimensions of every threshold and
dose, the contract's canonical units, vocabulary ids against the contract, every condition
(facts, tests, ids, thresholds, predicate cycles, size with predicates written out), every
placeholder in a text, every citation against the bibliography, steps naming existing
findings, and doses never above the maximum.
A rule set with any error is never returned, so nothing half-loaded is ever used.

This module reads, validates and merges the files, then calls each compiling stage in order
(``Compiler.compile``). The stages are in their own modules, each given its section as the
schema's model and exactly the results of earlier stages it reads: ``quantities``
(quantities, thresholds), ``vocabulary``, ``formulas`` (Cockcroft-Gault, calcium adjustment),
``conditions`` (conditions, texts, predicates), ``rules`` (findings, steps, risk factors,
monitoring) and ``regimen`` (regimen, salts). They report into one ``report.Report``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mgassist._core.errors import RulesError, RulesErrors, pydantic_message
from mgassist._core.ruleset import Reference, RuleSet

from .conditions import MAX_TESTS as MAX_TESTS
from .conditions import VALUE_PLACEHOLDERS as VALUE_PLACEHOLDERS
from .conditions import Conditions, compile_predicates, fact_ids
from .fhir import compile_fhir
from .formulas import compile_calcium_adjustment, compile_cockcroft_gault
from .quantities import CONTRACT_CANONICAL as CONTRACT_CANONICAL
from .quantities import DERIVED_NUMBER_FACTS as DERIVED_NUMBER_FACTS
from .quantities import compile_quantities, compile_thresholds
from .regimen import compile_regimen, compile_salts, magnesium_molar_mass
from .report import Report
from .rules import compile_findings, compile_monitoring, compile_risk_factors, compile_steps
from .schema import (
    OPTIONAL_SECTIONS,
    SECTIONS,
    CalciumAdjustmentSpec,
    CockcroftGaultSpec,
    FhirSpec,
    FindingSpec,
    MonitoringSpec,
    QuantitySpec,
    ReferenceSpec,
    RegimenSpec,
    RiskFactorSpec,
    RuleFile,
    StepSpec,
    ThresholdSpec,
    VocabularySpec,
)
from .source import bundled_rules_path, rule_files, rules_digest
from .vocabulary import compile_vocabulary
from .yaml_source import Budget, Located, read_yaml

__all__ = ["bundled_rules_path", "compiler_for", "load_rules", "rule_files"]


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Load, validate and compile a rule set; raise RulesErrors listing every problem."""
    return compiler_for(path).compile().rules


def compiler_for(path: Path | str | None) -> Compiler:
    """The rule files at ``path`` (None: the bundled ones), read safely and ready to compile;
    raises RulesErrors if there are none, or if any cannot be read."""
    root = bundled_rules_path() if path is None else Path(path)
    if not root.exists():
        raise RulesErrors([RulesError(root, None, "no such file or folder")])
    files = rule_files(root)
    if not files:
        raise RulesErrors([RulesError(root, None, "no *.yaml rule files in this folder")])
    located: list[Located] = []
    errors: list[RulesError] = []
    budget = Budget()  # the size limits hold for the rule set, not for each of its files
    for file in files:
        shown = file if path is not None else Path("rules") / file.name
        try:
            located.append(read_yaml(file, display=shown, budget=budget))
        except RulesErrors as exc:
            errors.extend(exc.errors)
            if budget.passed:
                break
    if errors:
        raise RulesErrors(errors)
    source = "bundled" if path is None else str(root)
    return Compiler(tuple(located), rules_digest(files), source)


@dataclass(frozen=True)
class Compiled:
    """A compiled rule set, and the report of its compiling: which file defines each section
    and which references the rules cite (what ``rules validate`` warns from)."""

    rules: RuleSet
    report: Report


@dataclass(frozen=True)
class Sections:
    """Every section of a rule set, as validated, each from the one file that defines it.
    The fields are ``schema.SECTIONS``, in that order."""

    quantities: dict[str, QuantitySpec]
    vocabulary: VocabularySpec
    thresholds: dict[str, ThresholdSpec]
    cockcroft_gault: CockcroftGaultSpec
    calcium_adjustment: CalciumAdjustmentSpec
    predicates: dict[str, Any]  # raw conditions: parsed with their paths, on first use
    steps: list[StepSpec]
    findings: dict[str, FindingSpec]
    risk_factors: list[RiskFactorSpec]
    regimen: RegimenSpec
    monitoring: MonitoringSpec
    references: dict[str, ReferenceSpec]
    fhir: FhirSpec | None = None  # optional (schema.OPTIONAL_SECTIONS)


@dataclass(frozen=True)
class Compiler:
    """The files of one rule set, read safely (YAML with the line of every value)."""

    files: tuple[Located, ...]
    sha256: str
    source: str

    def compile(self) -> Compiled:
        """Validate and compile the rule set; raise RulesErrors listing every problem.

        Each stage is given its section and what earlier stages made of theirs, so the order
        below is the order the data needs: conditions need the quantities, the vocabulary
        and the thresholds; steps and the regimen need the findings' ids; the salts need the
        vocabulary. Errors are reported in this order, and loading stops (RulesErrors with
        every error so far) at these points only: after validating the files, after merging
        them, once the sections conditions rely on are compiled, in the regimen (magnesium
        has no molar mass; then anything failed so far), and at the end.
        """
        parsed = validate_files(self.files)  # stops on any error
        sections, owner = merge(parsed, self.files)  # stops on any error
        report = Report(owner, bibliography=frozenset(sections.references))
        version = one_version(parsed, report)
        references = compile_references(sections.references)
        quantities = compile_quantities(sections.quantities, report)
        vocabulary = compile_vocabulary(sections.vocabulary, report)
        thresholds = compile_thresholds(sections.thresholds, quantities, sections.quantities,
                                        report)
        cockcroft_gault = compile_cockcroft_gault(sections.cockcroft_gault, thresholds, report)
        calcium_adjustment = compile_calcium_adjustment(sections.calcium_adjustment,
                                                        sections.quantities, report)
        report.raise_if_failed()  # conditions need sound quantities, vocabulary and thresholds
        conditions = Conditions(
            report=report, quantities=quantities, quantity_specs=sections.quantities,
            thresholds=thresholds.by_id, fact_ids=fact_ids(vocabulary, sections.risk_factors),
            predicates=sections.predicates)
        predicates = compile_predicates(sections.predicates, conditions)
        finding_ids = frozenset(sections.findings)
        findings = compile_findings(sections.findings, conditions, report)
        steps = compile_steps(sections.steps, finding_ids, conditions, report)
        risk_factors = compile_risk_factors(sections.risk_factors, conditions, report)
        mg_molar_mass = magnesium_molar_mass(sections.quantities, report)  # stops without it
        regimen = compile_regimen(sections.regimen, sections.steps, mg_molar_mass,
                                  finding_ids, report)  # stops on any error so far
        salts, unconvertible, elemental = compile_salts(sections.regimen, vocabulary,
                                                        mg_molar_mass, report)
        monitoring = compile_monitoring(sections.monitoring, conditions, report)
        fhir = None if sections.fhir is None else \
            compile_fhir(sections.fhir, quantities, vocabulary, report)
        report.raise_if_failed()
        return Compiled(RuleSet(
            version=version, sha256=self.sha256, source=self.source,
            quantities=quantities, vocabulary=vocabulary, thresholds=thresholds.by_id,
            cockcroft_gault=cockcroft_gault, calcium_adjustment=calcium_adjustment,
            salts=salts, unconvertible=unconvertible, elemental_names=elemental,
            predicates=predicates,
            steps=steps, findings=findings, risk_factors=risk_factors, regimen=regimen,
            monitoring=monitoring, references=references, fhir=fhir,
        ), report)


def validate_files(files: tuple[Located, ...]) -> list[tuple[Located, RuleFile]]:
    """Each file checked against the schema; raises RulesErrors with the errors of all."""
    errors: list[RulesError] = []
    parsed = []
    for doc in files:
        if not isinstance(doc.data, dict):
            errors.append(doc.error((), "a rule file is a mapping with a version and "
                                        "sections such as findings or thresholds"))
            continue
        try:
            parsed.append((doc, RuleFile.model_validate(doc.data)))
        except ValidationError as exc:
            for err in exc.errors():
                errors.append(doc.error(tuple(err["loc"]), pydantic_message(err)))
    if errors:
        raise RulesErrors(errors)
    return parsed


def merge(parsed: list[tuple[Located, RuleFile]],
          files: tuple[Located, ...]) -> tuple[Sections, dict[str, Located]]:
    """The sections of all the files, and the file that defines each; raises RulesErrors
    when a section is defined twice or not at all."""
    errors: list[RulesError] = []
    sections: dict[str, Any] = {}
    owner: dict[str, Located] = {}
    for doc, rule_file in parsed:
        for name in (*SECTIONS, *OPTIONAL_SECTIONS):
            value = getattr(rule_file, name)
            if value is None:
                continue
            if name in sections:
                first = owner[name]
                errors.append(doc.error((name,), f"section {name!r} is already "
                                                 f"defined in {first.path}"))
                continue
            sections[name] = value
            owner[name] = doc
    for name in SECTIONS:
        if name not in sections:
            errors.append(RulesError(files[0].path.parent if len(files) > 1
                                     else files[0].path, None,
                                     f"the rule set has no {name!r} section"))
    if errors:
        raise RulesErrors(errors)
    return Sections(**sections), owner


def one_version(parsed: list[tuple[Located, RuleFile]], report: Report) -> str:
    """The rule set's version: the first file's; each file with another one is reported."""
    versions = {rule_file.version for _, rule_file in parsed}
    if len(versions) > 1:
        first = parsed[0][1].version
        for doc, rule_file in parsed:
            if rule_file.version != first:
                report.errors.append(doc.error(("version",), f"version {rule_file.version!r} "
                                               f"differs from {first!r} in {parsed[0][0].path}; "
                                               "a rule set has one version"))
    return parsed[0][1].version


def compile_references(specs: Mapping[str, ReferenceSpec]) -> dict[str, Reference]:
    """The bibliography, by reference id."""
    return {rid: Reference(rid, spec.citation, spec.doi, spec.pmid, spec.pmcid, spec.url,
                           spec.caveat, spec.supports, spec.short)
            for rid, spec in specs.items()}
