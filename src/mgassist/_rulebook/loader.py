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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mgassist._core.conditions import Condition, ConditionParser, Threshold
from mgassist._core.contract import VOCABULARIES, CrclMethod, DoseBasis, Status
from mgassist._core.errors import RulesError, RulesErrors, pydantic_message
from mgassist._core.medications import medication_names, words
from mgassist._core.regimen import dose_of
from mgassist._core.ruleset import (
    PLACEHOLDER,
    CalciumAdjustment,
    CockcroftGault,
    Detail,
    FindingRule,
    MonitoringRules,
    QuantityRule,
    Reason,
    Reference,
    RegimenRules,
    RiskFactor,
    RuleSet,
    Salt,
    ScheduleItem,
    Step,
    StepRegimen,
    Vocabulary,
    normalize_term,
)
from mgassist._core.units import UnitProblem, build_unit_table, convert, quantity

from .schema import SECTIONS, RuleFile
from .source import bundled_rules_path, rule_files, rules_digest
from .yaml_source import MAX_DEPTH, Budget, Located, Path_, read_yaml

__all__ = ["bundled_rules_path", "compiler_for", "load_rules", "rule_files"]

# The JSON contract names derived values by unit (mg_mmol_l, creatinine_mg_dl, crcl_ml_min...),
# so the rules may not move these quantities to another canonical unit.
CONTRACT_CANONICAL = {
    "mg": "mmol/L", "k": "mmol/L", "ca": "mmol/L", "creatinine": "mg/dL", "crcl": "mL/min",
    "egfr": "mL/min/1.73m2", "albumin": "g/L", "age": "year", "weight": "kg", "height": "cm",
    "current_dose": "mmol/day", "days_on_dose": "day",
}
# Numbers the engine derives, with their unit and the input quantity they are printed like
# (None: no lab prints them, so they are compared exactly).
DERIVED_NUMBER_FACTS: dict[str, tuple[str, str | None]] = {
    "crcl_discrepancy": ("percent", None),
    "bmi": ("kg/m**2", None),
    "ca_adjusted": ("mmol/L", "ca"),
}
VALUE_PLACEHOLDERS = frozenset(
    {*CONTRACT_CANONICAL, *DERIVED_NUMBER_FACTS, "crcl_reported", "crcl_derived",
     "crcl_source", "matched", "risk_factors", "meds_not_recognised"}
)
# {name} or {name|unit}: a quantity converted to one of its accepted units


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Load, validate and compile a rule set; raise RulesErrors listing every problem."""
    return compiler_for(path).compile()


def compiler_for(path: Path | str | None) -> _Compiler:
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
    return _Compiler(located, rules_digest(files), source)


@dataclass
class _Compiler:
    files: list[Located]
    sha256: str
    source: str
    errors: list[RulesError] = field(default_factory=list)
    owner: dict[str, Located] = field(default_factory=dict)
    cited: set[str] = field(default_factory=set)  # every reference id a rule cites
    failed_thresholds: set[str] = field(default_factory=set)  # reported: not blamed again

    # -- reporting ---------------------------------------------------------------------------
    def fail(self, section: str, where: Path_, message: str) -> None:
        # called once the sections are merged: every section has the file that defines it
        self.errors.append(self.owner[section].error((section, *where), message))

    def failer(self, section: str) -> Any:
        def fail(where: Path_, message: str) -> None:
            # Predicates are parsed on first use from whichever section referred to them.
            if where and where[0] == "predicates":
                self.fail("predicates", where[1:], message)
            else:
                self.fail(section, where, message)
        return fail

    # -- the whole ---------------------------------------------------------------------------
    def compile(self) -> RuleSet:
        parsed = self.validate_files()
        if self.errors:
            raise RulesErrors(self.errors)
        sections = self.merge(parsed)
        if self.errors:
            raise RulesErrors(self.errors)
        self.version = self.one_version(parsed)
        references = self.references(sections["references"])
        self.reference_ids = frozenset(references)
        quantities = self.quantities(sections["quantities"])
        vocabulary = self.vocabulary(sections["vocabulary"])
        thresholds = self.thresholds(sections["thresholds"], quantities)
        cockcroft_gault = self.cockcroft_gault(sections["cockcroft_gault"], thresholds)
        calcium_adjustment = self.calcium_adjustment(sections["calcium_adjustment"])
        if self.errors:  # conditions need sound quantities, vocabulary and thresholds
            raise RulesErrors(self.errors)
        self.thresholds_by_id = thresholds
        self.quantity_rules = quantities
        vocab_ids = {kind: frozenset(labels) for kind, labels in vocabulary.labels.items()}
        risk_ids = frozenset(r.id for r in sections["risk_factors"])
        self.vocab_ids = {"meds": vocab_ids["meds"], "conditions": vocab_ids["conditions"],
                          "symptoms": vocab_ids["symptoms"], "risk_factors": risk_ids,
                          "indication": vocab_ids["indications"],
                          "sex": frozenset({"female", "male"}),
                          "status": frozenset(s.value for s in Status),
                          "crcl_method": frozenset(m.value for m in CrclMethod),
                          "meds_not_recognised": frozenset()}  # names, not ids: empty only
        self.raw_predicates = sections["predicates"]
        self.predicate_cache: dict[str, Condition | None] = {}
        self.expansion = _Expansion(self.raw_predicates)
        self.finding_ids = frozenset(sections["findings"])
        predicates = {name: self.condition("predicates", (name,), {"is": name})
                      for name in self.raw_predicates}
        findings = self.findings(sections["findings"])
        steps = self.steps(sections["steps"], findings)
        risk_factors = self.risk_factors(sections["risk_factors"])
        regimen = self.regimen(sections["regimen"], sections["steps"])
        salts, unconvertible, elemental = self.salts(sections["regimen"], vocabulary)
        monitoring = self.monitoring(sections["monitoring"])
        if self.errors:
            raise RulesErrors(self.errors)
        return RuleSet(
            version=self.version, sha256=self.sha256, source=self.source,
            quantities=quantities, vocabulary=vocabulary, thresholds=thresholds,
            cockcroft_gault=cockcroft_gault, calcium_adjustment=calcium_adjustment,
            salts=salts, unconvertible=unconvertible, elemental_names=elemental,
            predicates={k: v for k, v in predicates.items() if v is not None},
            steps=steps, findings=findings, risk_factors=risk_factors, regimen=regimen,
            monitoring=monitoring, references=references,
        )

    def validate_files(self) -> list[tuple[Located, RuleFile]]:
        parsed = []
        for doc in self.files:
            if not isinstance(doc.data, dict):
                self.errors.append(doc.error((), "a rule file is a mapping with a version and "
                                                 "sections such as findings or thresholds"))
                continue
            try:
                parsed.append((doc, RuleFile.model_validate(doc.data)))
            except ValidationError as exc:
                for err in exc.errors():
                    self.errors.append(doc.error(tuple(err["loc"]), pydantic_message(err)))
        return parsed

    def merge(self, parsed: list[tuple[Located, RuleFile]]) -> dict[str, Any]:
        sections: dict[str, Any] = {}
        for doc, rule_file in parsed:
            for name in SECTIONS:
                value = getattr(rule_file, name)
                if value is None:
                    continue
                if name in sections:
                    first = self.owner[name]
                    self.errors.append(doc.error((name,), f"section {name!r} is already "
                                                          f"defined in {first.path}"))
                    continue
                sections[name] = value
                self.owner[name] = doc
        for name in SECTIONS:
            if name not in sections:
                self.errors.append(RulesError(self.files[0].path.parent if len(self.files) > 1
                                              else self.files[0].path, None,
                                              f"the rule set has no {name!r} section"))
        return sections

    def one_version(self, parsed: list[tuple[Located, RuleFile]]) -> str:
        versions = {rule_file.version for _, rule_file in parsed}
        if len(versions) > 1:
            first = parsed[0][1].version
            for doc, rule_file in parsed:
                if rule_file.version != first:
                    self.errors.append(doc.error(("version",), f"version {rule_file.version!r} "
                                                 f"differs from {first!r} in {parsed[0][0].path}; "
                                                 "a rule set has one version"))
        return parsed[0][1].version

    # -- sections ----------------------------------------------------------------------------
    def references(self, data: Mapping[str, Any]) -> dict[str, Reference]:
        return {rid: Reference(rid, spec.citation, spec.doi, spec.pmid, spec.pmcid, spec.url,
                               spec.caveat, spec.supports, spec.short)
                for rid, spec in data.items()}

    def cites(self, section: str, where: Path_, ids: list[str]) -> tuple[str, ...]:
        self.cited.update(ids)
        for i, rid in enumerate(ids):
            if rid not in self.reference_ids:
                self.fail(section, (*where, i), f"citation {rid!r} is not in the bibliography "
                                                f"(references.yaml)")
        return tuple(ids)

    def quantities(self, data: Mapping[str, Any]) -> dict[str, QuantityRule]:
        self.quantity_specs = data  # validated QuantitySpec per id, for thresholds and doses
        out: dict[str, QuantityRule] = {}
        for qid, canonical in CONTRACT_CANONICAL.items():
            if qid not in data:
                self.fail("quantities", (), f"quantity {qid!r} is missing (the input contract "
                                            "needs it)")
            elif data[qid].canonical != canonical:
                self.fail("quantities", (qid, "canonical"),
                          f"{qid}: canonical unit must be {canonical} (the JSON output names it)")
        for qid, spec in data.items():
            if qid not in CONTRACT_CANONICAL:
                self.fail("quantities", (qid,), f"unknown quantity {qid!r}; the input contract "
                                                f"has {', '.join(CONTRACT_CANONICAL)}")
                continue
            try:
                table = build_unit_table(
                    canonical=spec.canonical, units=dict(spec.units),
                    spellings=dict(spec.spellings), molar_mass=spec.molar_mass,
                    valence=spec.valence, plain_number=spec.plain_number)
                low = self.to_canonical(spec.plausible.min, spec.canonical, spec)
                high = self.to_canonical(spec.plausible.max, spec.canonical, spec)
            except UnitProblem as exc:
                self.fail("quantities", (qid,), f"{qid}: {exc}")
                continue
            if not low <= high:
                self.fail("quantities", (qid, "plausible"), f"{qid}: min is above max")
            self.cites("quantities", (qid, "cite"), spec.cite)
            out[qid] = QuantityRule(qid, spec.label, table, low, high, spec.plausible.min,
                                    spec.plausible.max, spec.example, spec.shown_as,
                                    spec.compare_in == "canonical", spec.bounds)
        return out

    @staticmethod
    def to_canonical(text: str, canonical: str, spec: Any) -> float:
        mass = quantity(spec.molar_mass) if spec.molar_mass else None
        return float(convert(quantity(text), canonical, molar_mass=mass,
                             valence=spec.valence).magnitude)

    def vocabulary(self, data: Any) -> Vocabulary:
        labels: dict[str, dict[str, str]] = {}
        lookup: dict[str, dict[str, str]] = {}
        for kind, enum in VOCABULARIES.items():
            entries = getattr(data, kind)
            contract = {m.value for m in enum}
            for missing in sorted(contract - set(entries)):
                self.fail("vocabulary", (kind,), f"{kind}: id {missing!r} of the contract is "
                                                 "missing")
            for extra in sorted(set(entries) - contract):
                self.fail("vocabulary", (kind, extra), f"{kind}: {extra!r} is not an id of the "
                          "contract (add it to the contract first; synonyms can be added here)")
            labels[kind] = {item: entry.label for item, entry in entries.items()}
            spellings: dict[str, str] = {}
            for item, entry in entries.items():
                for i, name in enumerate([item, *entry.synonyms]):
                    key = normalize_term(name)
                    if key in spellings and spellings[key] != item:
                        self.fail("vocabulary", (kind, item, "synonyms", i - 1),
                                  f"{kind}: {name!r} already means {spellings[key]!r}")
                    spellings[key] = item
            lookup[kind] = spellings
        by_words: dict[tuple[str, ...], str] = {}
        for name, class_id in lookup["meds"].items():
            other = by_words.setdefault(words(name), class_id)
            if other != class_id:
                self.fail("vocabulary", ("meds", class_id), f"meds: {name!r} reads as the same "
                          f"words as a name of {other!r}; a name may mean one class only")
        not_classed = []
        for i, entry in enumerate(data.meds_not_classed):
            self.cites("vocabulary", ("meds_not_classed", i, "cite"), entry.cite)
            for j, name in enumerate(entry.names):
                not_classed.append(words(name))
                if not_classed[-1] in by_words:
                    self.fail("vocabulary", ("meds_not_classed", i, "names", j),
                              f"meds_not_classed: {name!r} is a name of "
                              f"{by_words[not_classed[-1]]!r}")
        medications = medication_names(by_words, not_classed)
        roles = {item: entry.role for item, entry in data.meds.items()}
        names = {item: tuple(entry.synonyms) for item, entry in data.meds.items()}
        role_words = {role.value: " ".join(text.split()) for role, text in data.med_roles.items()}
        return Vocabulary(labels, lookup, roles, medications, names, role_words)

    def thresholds(self, data: Mapping[str, Any],
                   quantities: Mapping[str, QuantityRule]) -> dict[str, Threshold]:
        out = {}
        for tid, spec in data.items():
            made = self.make_threshold(tid, spec.for_, spec.value, quantities, spec.meaning,
                                       self.cites("thresholds", (tid, "cite"), spec.cite))
            if isinstance(made, str):
                self.fail("thresholds", (tid, "value"), f"threshold {tid}: {made}")
                self.failed_thresholds.add(tid)
            else:
                out[tid] = made
        return out

    def make_threshold(self, tid: str, fact: str, value: str,
                       quantities: Mapping[str, QuantityRule], meaning: str = "",
                       cite: tuple[str, ...] = ()) -> Threshold | str:
        if fact in DERIVED_NUMBER_FACTS:
            canonical_unit, printed_like = DERIVED_NUMBER_FACTS[fact]
            table, spec = None, None
            if printed_like is not None and printed_like in quantities:
                table = quantities[printed_like].table
                spec = self.quantity_specs[printed_like]
        elif fact in quantities:
            rule = quantities[fact]
            canonical_unit, table = rule.table.canonical, rule.table
            spec = self.quantity_specs[fact]
        else:
            return (f"'for: {fact}' is not a quantity; use one of "
                    f"{', '.join([*quantities, *DERIVED_NUMBER_FACTS])}")
        try:
            amount = quantity(value)
            mass = quantity(spec.molar_mass) if spec and spec.molar_mass else None
            canonical = float(convert(amount, canonical_unit, molar_mass=mass,
                                      valence=spec.valence if spec else None).magnitude)
        except UnitProblem as exc:
            return f"{value!r} cannot be compared with {fact} (in {canonical_unit}): {exc}"
        # A zero limit gets no printed forms, so it is compared exactly: rounding as printed
        # must never turn a positive amount into none (1 mg/day prints as 0.0 mmol/day).
        in_unit = {u: table.limit_in(canonical, u) for u in table.units} \
            if table and canonical != 0.0 else {}
        shown_as = spec.shown_as if spec else None
        text = f"{canonical:g} {shown_as}" if shown_as else value
        return Threshold(tid, fact, canonical, text, in_unit, meaning, cite)

    def cockcroft_gault(self, spec: Any, thresholds: Mapping[str, Threshold]) -> CockcroftGault:
        def get(text: str, unit: str, name: str) -> float:
            try:
                return float(convert(quantity(text), unit).magnitude)
            except UnitProblem as exc:
                self.fail("cockcroft_gault", (name,), f"cockcroft_gault.{name}: {exc}")
                return float("nan")
        per_unit = float("nan")
        try:
            unit_result = quantity("1 year") * quantity("1 kg") / (
                quantity(spec.divisor) * quantity("1 mg/dL"))
            per_unit = float(convert(unit_result, "mL/min").magnitude)
        except UnitProblem as exc:
            self.fail("cockcroft_gault", ("divisor",),
                      f"cockcroft_gault.divisor: years x kg / (divisor x mg/dL) must be a "
                      f"flow in mL/min: {exc}")
        discrepancy = thresholds.get(spec.discrepancy)
        if discrepancy is None or discrepancy.fact != "crcl_discrepancy":
            if spec.discrepancy not in self.failed_thresholds:
                self.fail("cockcroft_gault", ("discrepancy",), f"discrepancy: "
                          f"{spec.discrepancy!r} is not a threshold for crcl_discrepancy")
            discrepancy = Threshold("invalid", "crcl_discrepancy", 0.0, "invalid")
        adults_from = thresholds.get(spec.adults_from)
        if adults_from is None or adults_from.fact != "age":
            if spec.adults_from not in self.failed_thresholds:  # else its own error says why
                self.fail("cockcroft_gault", ("adults_from",), f"adults_from: "
                          f"{spec.adults_from!r} is not a threshold for age")
            adults_from = Threshold("invalid", "age", 0.0, "invalid")
        return CockcroftGault(
            adults_from=adults_from,
            age_from_years=get(spec.age_from, "year", "age_from"),
            ml_min_per_unit=per_unit,
            female_factor=spec.female_factor,
            ideal_base_kg={"female": get(spec.ideal_base.female, "kg", "ideal_base"),
                           "male": get(spec.ideal_base.male, "kg", "ideal_base")},
            ideal_kg_per_inch=get(spec.ideal_per_inch, "kg", "ideal_per_inch"),
            ideal_from_height_cm=get(spec.ideal_from_height, "cm", "ideal_from_height"),
            cm_per_inch=float(convert(quantity("1 in"), "cm").magnitude),
            adjusted_fraction=spec.adjusted_fraction,
            underweight_below_bmi=get(spec.underweight_below, "kg/m**2", "underweight_below"),
            overweight_from_bmi=get(spec.overweight_from, "kg/m**2", "overweight_from"),
            result_decimals=spec.result_decimals,
            discrepancy=discrepancy,
            cite=self.cites("cockcroft_gault", ("cite",), spec.cite),
        )

    def calcium_adjustment(self, spec: Any) -> CalciumAdjustment:
        """Payne's adjustment, as data: Ca rises by calcium_step for each albumin_step of
        albumin below reference_albumin; converted here, through pint, to mmol/L per g/L."""
        ca, albumin = self.quantity_specs.get("ca"), self.quantity_specs.get("albumin")
        if ca is None or albumin is None:  # reported by quantities()
            return CalciumAdjustment(float("nan"), float("nan"), ())
        values = []
        for name, text, target, analyte in (
                ("reference_albumin", spec.reference_albumin, albumin.canonical, albumin),
                ("calcium_step", spec.calcium_step, ca.canonical, ca),
                ("albumin_step", spec.albumin_step, albumin.canonical, albumin)):
            try:
                values.append(self.to_canonical(text, target, analyte))
            except UnitProblem as exc:
                self.fail("calcium_adjustment", (name,), f"calcium_adjustment.{name}: {exc}")
                values.append(float("nan"))
        reference, calcium_step, albumin_step = values
        if not albumin_step > 0:
            self.fail("calcium_adjustment", ("albumin_step",),
                      "calcium_adjustment.albumin_step: must be above zero")
        return CalciumAdjustment(reference, calcium_step / albumin_step if albumin_step else
                                 float("nan"),
                                 self.cites("calcium_adjustment", ("cite",), spec.cite))

    # -- conditions and texts ----------------------------------------------------------------
    def condition(self, section: str, where: Path_, data: Any, *,
                  allow_status: bool = False) -> Condition | None:
        problem = self.expansion.admit(data)
        if problem is not None:
            if problem:  # reported once: later conditions only repeat it
                self.fail(section, where, problem)
            return None
        parser = ConditionParser(
            number_facts={name: name for name in [*self.quantity_rules,
                                                   *DERIVED_NUMBER_FACTS]},
            vocabularies=self.vocab_ids,
            resolve_threshold=self.resolve_threshold,
            predicates=self.raw_predicates,
            fail=self.failer(section),
            allow_status=allow_status,
            resolved=self.predicate_cache,
        )
        return parser.parse(data, where)

    def resolve_threshold(self, fact: str, operand: str) -> Threshold | str:
        known = self.thresholds_by_id.get(operand)
        if known is not None:
            printed_like = DERIVED_NUMBER_FACTS.get(fact, ("", None))[1]
            if known.fact != fact and known.fact != printed_like:
                return (f"compares {fact} with threshold {operand!r}, which is for "
                        f"{known.fact} ({known.text})")
            return known
        if re.fullmatch(r"[a-z][a-z0-9-]*", operand):
            import difflib
            close = difflib.get_close_matches(operand, list(self.thresholds_by_id), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown threshold {operand!r}{hint}"
        made = self.make_threshold(operand, fact, operand, self.quantity_rules)
        return made

    def text(self, section: str, where: Path_, text: str) -> str:
        for name, unit in PLACEHOLDER.findall(text):
            if name not in VALUE_PLACEHOLDERS and name not in self.thresholds_by_id:
                self.fail(section, where, f"unknown placeholder {{{name}}}; use a threshold id "
                                          f"or one of {', '.join(sorted(VALUE_PLACEHOLDERS))}")
            elif unit and name == "matched":
                if unit not in VOCABULARIES:
                    self.fail(section, where, f"placeholder {{matched|{unit}}}: {unit!r} is not "
                                              f"a vocabulary ({', '.join(VOCABULARIES)})")
            elif unit:
                quantity = self.quantity_rules.get(name)
                if quantity is None or unit not in quantity.table.units:
                    accepted = ", ".join(quantity.table.units) if quantity else \
                        "none: only an input quantity can be shown in another unit"
                    self.fail(section, where, f"placeholder {{{name}|{unit}}}: {unit!r} is not "
                                              f"an accepted unit of {name} ({accepted})")
        return " ".join(text.split())

    def findings(self, data: Mapping[str, Any]) -> dict[str, FindingRule]:
        out = {}
        for fid, spec in data.items():
            when = self.condition("findings", (fid, "when"), spec.when, allow_status=True)
            details = tuple(
                Detail(self.text("findings", (fid, "details", i), d.text),
                       None if d.when is None else
                       self.condition("findings", (fid, "details", i, "when"), d.when,
                                      allow_status=True),
                       self.cites("findings", (fid, "details", i, "cite"), d.cite))
                for i, d in enumerate(spec.details))
            message = self.text("findings", (fid, "message"), spec.message)
            cite = self.cites("findings", (fid, "cite"), spec.cite)
            title = " ".join((spec.title or "").split())
            if "{" in title or "}" in title:
                self.fail("findings", (fid, "title"), f"finding {fid}: a title is shown as "
                                                      "written; it takes no placeholders")
            action = None if spec.action is None else \
                self.text("findings", (fid, "action"), spec.action)
            if when is not None:
                out[fid] = FindingRule(fid, spec.severity, when, message, details, cite,
                                       title=title, action=action)
        return out

    def steps(self, data: list[Any], findings: Mapping[str, FindingRule]) -> tuple[Step, ...]:
        out, seen = [], set()
        for i, spec in enumerate(data):
            if spec.id in seen:
                self.fail("steps", (i, "id"), f"step id {spec.id!r} is used twice")
            seen.add(spec.id)
            if spec.finding not in self.finding_ids:
                self.fail("steps", (i, "finding"), f"step {spec.id}: finding {spec.finding!r} "
                                                   "is not defined in findings")
            when = self.condition("steps", (i, "when"), spec.when)
            reason = self.text("steps", (i, "reason"), spec.reason)
            if when is not None:
                out.append(Step(spec.id, when, spec.status, spec.finding, reason, spec.severity))
        return tuple(out)

    def risk_factors(self, data: list[Any]) -> tuple[RiskFactor, ...]:
        out = []
        for i, spec in enumerate(data):
            when = self.condition("risk_factors", (i, "when"), spec.when)
            cite = self.cites("risk_factors", (i, "cite"), spec.cite)
            if when is not None:
                out.append(RiskFactor(spec.id, spec.label, when, cite))
        return tuple(out)

    def regimen(self, spec: Any, steps: list[Any]) -> RegimenRules:
        mg_mass = self.quantity_specs["mg"].molar_mass
        cite = self.cites

        def dose(where: Path_, amount: str, of: str, salt_id: str) -> Any:
            salt = spec.salts.get(salt_id)
            if salt is None:
                self.fail("regimen", where, f"unknown salt {salt_id!r}; defined: "
                                            f"{', '.join(spec.salts)}")
                return None
            try:
                return dose_of(amount, of=of, magnesium_molar_mass=mg_mass,
                               formula_mass=salt.formula_mass,
                               per_formula=salt.magnesium_per_formula)
            except UnitProblem as exc:
                self.fail("regimen", where, f"{amount!r}: {exc}")
                return None

        if mg_mass is None:
            self.fail("quantities", ("mg",), "mg needs a molar_mass for the regimen arithmetic")
            raise RulesErrors(self.errors)
        doses = {name: dose(("doses", name, "elemental"), d.elemental, "elemental", spec.product)
                 for name, d in spec.doses.items()}
        maximum = dose(("maximum", "product"), spec.maximum.product, "product", spec.product)
        for needed in (DoseBasis.STANDARD_START.value, DoseBasis.STEP_UP.value):
            if needed not in spec.doses:
                self.fail("regimen", ("doses",), f"dose {needed!r} is missing")
        for name, value in doses.items():
            if value and maximum and value.elemental_mmol > maximum.elemental_mmol + 1e-9:
                self.fail("regimen", ("doses", name), f"dose {name!r} is above the maximum "
                                                      f"({spec.maximum.product} of the product)")
        by_step = self.step_regimens(spec, steps, doses, maximum)
        alt = spec.alternative
        low = dose(("alternative", "elemental", 0), alt.elemental[0], "elemental", alt.salt)
        high = dose(("alternative", "elemental", 1), alt.elemental[1], "elemental", alt.salt)
        if low and high and low.elemental_mmol > high.elemental_mmol:
            self.fail("regimen", ("alternative", "elemental"), "range minimum is above maximum")
        if alt.finding not in self.finding_ids:
            self.fail("regimen", ("alternative", "finding"),
                      f"finding {alt.finding!r} is not defined")
        if self.errors:
            raise RulesErrors(self.errors)
        return RegimenRules(
            product_id=spec.product, product_label=spec.salts[spec.product].label,
            doses=doses, maximum=maximum, by_step=by_step,
            timing=spec.timing.text, alternative_finding=alt.finding,
            alternative_label=spec.salts[alt.salt].label, alternative_low=low,
            alternative_high=high, alternative_note=" ".join(alt.note.split()),
            side_effects=tuple(spec.side_effects.items),
            side_effects_advice=spec.side_effects.advice,
            cite_doses={n: cite("regimen", ("doses", n, "cite"), d.cite)
                        for n, d in spec.doses.items()},
            cite_product=cite("regimen", ("salts", spec.product, "cite"),
                              spec.salts[spec.product].cite),
            cite_maximum=cite("regimen", ("maximum", "cite"), spec.maximum.cite),
            maximum_basis=spec.maximum.basis,
            cite_timing=cite("regimen", ("timing", "cite"), spec.timing.cite),
            cite_alternative=cite("regimen", ("alternative", "cite"), alt.cite),
            cite_side_effects=cite("regimen", ("side_effects", "cite"), spec.side_effects.cite),
        )

    def salts(self, spec: Any, vocabulary: Vocabulary) -> tuple[
            dict[str, Salt], dict[str, str], frozenset[str]]:
        """The salts a current dose may name, each converted once to elemental magnesium per
        mg of salt; every name must also be a magnesium-containing medicine of the vocabulary.
        A name whose mass cannot be converted (it does not say which hydrate) is refused at
        input with the reason the rules give; the elemental names say the mass is magnesium
        itself ("300 mg/day elemental")."""
        mg_mass = self.quantity_specs["mg"].molar_mass
        out: dict[str, Salt] = {}
        named: dict[str, str] = {}
        for salt_id, salt in spec.salts.items():
            try:
                one = dose_of("1 mg/day", of="product", magnesium_molar_mass=mg_mass,
                              formula_mass=salt.formula_mass,
                              per_formula=salt.magnesium_per_formula)
            except UnitProblem as exc:
                self.fail("regimen", ("salts", salt_id, "formula_mass"),
                          f"{salt.formula_mass!r}: {exc}")
                continue
            names = []
            for i, name in enumerate(salt.names):
                key = normalize_term(name)
                where: Path_ = ("salts", salt_id, "names", i)
                if key in named and named[key] != salt_id:
                    self.fail("regimen", where, f"salt name {name!r} is also a name of "
                                                f"{named[key]!r}")
                named[key] = salt_id
                names.append(key)
                if vocabulary.medications.by_words.get(words(name)) != "magnesium-containing":
                    self.fail("regimen", where, f"salt name {name!r} is not a "
                              "magnesium-containing medicine in vocabulary.yaml (taking it is "
                              "taking magnesium): add it there too")
            if salt_id != spec.product:  # the product's citations are checked with the regimen
                self.cites("regimen", ("salts", salt_id, "cite"), salt.cite)
            out[salt_id] = Salt(salt_id, salt.label, salt.formula_mass, one.elemental_mmol,
                                tuple(names))
        unconvertible: dict[str, str] = {}
        for name, why in spec.unconvertible.items():
            if normalize_term(name) in named:
                self.fail("regimen", ("unconvertible", name), f"{name!r} is already the "
                          f"name of salt {named[normalize_term(name)]!r}")
            unconvertible[normalize_term(name)] = " ".join(why.split())
        elemental = frozenset(normalize_term(name) for name in spec.elemental_names)
        for i, name in enumerate(spec.elemental_names):
            key = normalize_term(name)
            if key in named or key in unconvertible:
                self.fail("regimen", ("elemental_names", i), f"{name!r} is also a salt name, "
                          "or unconvertible: a name must say one thing")
        return out, unconvertible, elemental

    def step_regimens(self, spec: Any, steps: list[Any], doses: Mapping[str, Any],
                      maximum: Any) -> dict[str, StepRegimen]:
        """The regimen of each step that gives one, checked: every such step has one; a dose
        is never above its ceiling nor the ceiling above the maximum; a caution step gives a
        reduced regimen capped at the standard start."""
        status_of = {step.id: step.status for step in steps}
        standard = doses.get(DoseBasis.STANDARD_START.value)
        out: dict[str, StepRegimen] = {}
        for step_id, entry in spec.by_step.items():
            where: Path_ = ("by_step", step_id)
            status = status_of.get(step_id)
            if status is None or not status.gives_regimen:
                self.fail("regimen", where, f"by_step: {step_id!r} is not a step that gives a "
                          "regimen (a step with status supplement or supplement-with-caution)")
                continue
            for key in ("dose", "ceiling"):
                named = getattr(entry, key)
                if named is not None and named not in spec.doses:
                    self.fail("regimen", (*where, key), f"unknown dose {named!r}; defined: "
                                                        f"{', '.join(spec.doses)}")
            given = doses.get(entry.dose) if entry.dose is not None else None
            ceiling = doses.get(entry.ceiling) if entry.ceiling is not None else maximum
            caution = status.value == "supplement-with-caution"
            if entry.dose is None and entry.basis is not DoseBasis.REDUCED:
                self.fail("regimen", where, f"by_step {step_id}: only a reduced regimen may go "
                                            "without a dose")
            if caution and entry.basis is not DoseBasis.REDUCED:
                self.fail("regimen", (*where, "basis"), f"by_step {step_id}: status "
                          f"{status.value} gives a reduced regimen, not {entry.basis.value}")
            if not caution and entry.basis is DoseBasis.REDUCED:
                self.fail("regimen", (*where, "basis"), f"by_step {step_id}: a reduced regimen "
                          "is for status supplement-with-caution")
            if caution and entry.ceiling is None:
                self.fail("regimen", where, f"by_step {step_id}: a caution regimen needs a "
                                            "ceiling (a dose id)")
            if given and ceiling and given.elemental_mmol > ceiling.elemental_mmol + 1e-9:
                self.fail("regimen", (*where, "dose"), f"by_step {step_id}: dose "
                          f"{entry.dose!r} is above its ceiling")
            if caution and ceiling and standard and \
                    ceiling.elemental_mmol > standard.elemental_mmol + 1e-9:
                self.fail("regimen", (*where, "ceiling"), f"by_step {step_id}: a caution "
                          "regimen is never above the standard start")
            if ceiling is None or (entry.dose is not None and given is None):
                continue
            out[step_id] = StepRegimen(
                entry.basis, entry.dose, given, entry.ceiling or "maximum", ceiling,
                " ".join(entry.note.split()) if entry.note else None,
                self.cites("regimen", (*where, "cite"), entry.cite))
        for step in steps:
            if step.status.gives_regimen and step.id not in spec.by_step:
                self.fail("regimen", ("by_step",), f"step {step.id} gives status "
                          f"{step.status.value} but has no regimen in by_step")
        return out

    def monitoring(self, spec: Any) -> MonitoringRules:
        schedule = []
        for i, item in enumerate(spec.schedule):
            when = None if item.when is None else self.condition(
                "monitoring", ("schedule", i, "when"), item.when, allow_status=True)
            schedule.append(ScheduleItem(
                " ".join(item.text.split()),
                self.cites("monitoring", ("schedule", i, "cite"), item.cite), item.basis, when))
        reasons = []
        for i, reason in enumerate(spec.more_often.reasons):
            when = self.condition("monitoring", ("more_often", "reasons", i, "when"), reason.when)
            if when is not None:
                reasons.append(Reason(reason.label, when))
        return MonitoringRules(tuple(schedule), spec.more_often.text, tuple(reasons),
                               self.cites("monitoring", ("more_often", "cite"),
                                          spec.more_often.cite))


MAX_TESTS = 10_000  # tests in all the conditions of a rule set, each `is:` written out


class _Expansion:
    """What conditions cost with every ``{is: name}`` written out. Predicates that use
    predicates are the rule language's own aliases, so they get limits like those of YAML:
    MAX_TESTS tests in all the conditions of a rule set, and MAX_DEPTH levels in any one.
    Twenty predicates that each use the one before twice would otherwise cost a million tests
    per assessment, and a long chain of them would exhaust the parser's recursion."""

    def __init__(self, predicates: Mapping[str, Any]) -> None:
        self.known: dict[str, tuple[int, int]] = {}  # predicate: (depth, tests) written out
        self.total = 0  # tests of the conditions admitted so far
        self.refused = False
        for root in predicates:  # measured uses first, without recursion: a chain may be long
            stack, open_ = [(root, False)], set()
            while stack:
                name, ready = stack.pop()
                if name in self.known or (name in open_ and not ready):
                    continue  # measured, or a cycle (the parser reports it)
                if ready:
                    self.known[name] = self.measure(predicates[name])
                    continue
                open_.add(name)
                stack.append((name, True))
                stack += [(used, False) for used in _uses(predicates[name]) if used in predicates]

    def measure(self, data: Any) -> tuple[int, int]:
        """(depth, tests) of a raw condition, its known predicates written out (capped)."""
        if isinstance(data, dict) and len(data) == 1:
            ((key, body),) = data.items()
            if key in ("all", "any") and isinstance(body, list) and body:
                parts = [self.measure(item) for item in body]
                return 1 + max(d for d, _ in parts), min(1 + sum(n for _, n in parts),
                                                         MAX_TESTS + 1)
            if key == "not":
                depth, tests = self.measure(body)
                return depth + 1, min(tests + 1, MAX_TESTS + 1)
            if key == "is" and isinstance(body, str) and body in self.known:
                depth, tests = self.known[body]
                return depth + 1, min(tests + 1, MAX_TESTS + 1)
        return 1, 1

    def admit(self, data: Any) -> str | None:
        """None when the condition fits; else why not ("" once that was said)."""
        if self.refused:
            return ""
        depth, tests = self.measure(data)
        self.total += tests
        if depth > MAX_DEPTH:
            self.refused = True
            return (f"with every is: written out, this condition is nested {depth} levels deep; "
                    f"a condition may be nested at most {MAX_DEPTH} levels")
        if self.total > MAX_TESTS:
            self.refused = True
            return (f"with every is: written out, the conditions of the rule set hold more than "
                    f"{MAX_TESTS:,} tests, passed here (a predicate that uses another one "
                    "several times multiplies it)")
        return None


def _uses(data: Any) -> list[str]:
    """The predicate names a raw condition refers to with ``is:``."""
    if isinstance(data, dict):
        return [name for key, body in data.items()
                for name in ([body] if key == "is" and isinstance(body, str) else _uses(body))]
    if isinstance(data, list):
        return [name for item in data for name in _uses(item)]
    return []
