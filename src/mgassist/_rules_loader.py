"""Load a rule set: read every file safely, validate everything, compile, or refuse it whole.

    load_rules(path=None) -> RuleSet      # None: the rules bundled with the package

Checked at load, each failure reported as ``file:line: what is wrong`` (all of them, not only
the first): YAML safety (see _yaml_source), the file format (pydantic, no unknown fields), each
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

from ._conditions import Condition, ConditionParser, Threshold
from ._contract import VOCABULARIES, DoseBasis, Status
from ._errors import RulesError, RulesErrors, pydantic_message
from ._regimen import dose_of
from ._rules_schema import SECTIONS, RuleFile
from ._rules_source import bundled_rules_path, rule_files, rules_digest
from ._ruleset import (
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
    Step,
    Vocabulary,
    normalize_term,
)
from ._units import UnitProblem, build_unit_table, convert, quantity
from ._yaml_source import MAX_DEPTH, MAX_NODES, Budget, Located, Path_, read_yaml

__all__ = ["bundled_rules_path", "check_rules", "load_rules", "rule_files"]

# The JSON contract names derived values by unit (mg_mmol_l, creatinine_mg_dl, crcl_ml_min...),
# so the rules may not move these quantities to another canonical unit.
CONTRACT_CANONICAL = {
    "mg": "mmol/L", "k": "mmol/L", "ca": "mmol/L", "creatinine": "mg/dL", "crcl": "mL/min",
    "age": "year", "weight": "kg", "height": "cm", "current_dose": "mmol/day",
    "days_on_dose": "day",
}
DERIVED_NUMBER_FACTS = {"crcl_discrepancy": "percent"}
VALUE_PLACEHOLDERS = frozenset(
    {*CONTRACT_CANONICAL, "crcl_reported", "crcl_derived", "crcl_discrepancy", "matched",
     "risk_factors"}
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Load, validate and compile a rule set; raise RulesErrors listing every problem."""
    return _compiler(path).compile()


def check_rules(path: Path | str | None = None) -> tuple[RuleSet, list[RulesError]]:
    """As load_rules, plus warnings that do not stop the rules from loading: references never
    cited, and rules that can never fire (``_rules_reach``), each at its file:line."""
    from ._rules_reach import never_fire

    compiler = _compiler(path)
    rules = compiler.compile()
    warnings = [compiler.owner["references"].error(
        ("references", rid), f"reference {rid!r} is never cited by any rule")
        for rid in rules.references if rid not in compiler.cited]
    reach = never_fire(rules)
    warnings += [compiler.owner[u.rule.section].error((u.rule.section, *u.rule.where),
                                                      u.message) for u in reach.unreachable]
    if reach.skipped:  # once: a huge rule set would otherwise print a line per rule
        first = reach.skipped[0]
        others = len(reach.skipped) - 1
        warnings.append(compiler.owner[first.section].error(
            (first.section, *first.where),
            f"{first.kind} {first.id}{f' and {others} other rule(s)' if others else ''} could "
            "not be searched for conditions that can never be true (too many combinations); "
            "they may still be unreachable"))
    return rules, warnings


def _compiler(path: Path | str | None) -> _Compiler:
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
                          "status": frozenset(s.value for s in Status)}
        self.raw_predicates = sections["predicates"]
        self.predicate_cache: dict[str, Condition | None] = {}
        self.expansion = _Expansion(self.raw_predicates)
        self.finding_ids = frozenset(sections["findings"])
        predicates = {name: self.condition("predicates", (name,), {"is": name})
                      for name in self.raw_predicates}
        findings = self.findings(sections["findings"])
        steps = self.steps(sections["steps"], findings)
        risk_factors = self.risk_factors(sections["risk_factors"])
        regimen = self.regimen(sections["regimen"], findings)
        monitoring = self.monitoring(sections["monitoring"])
        if self.errors:
            raise RulesErrors(self.errors)
        return RuleSet(
            version=self.version, sha256=self.sha256, source=self.source,
            quantities=quantities, vocabulary=vocabulary, thresholds=thresholds,
            cockcroft_gault=cockcroft_gault,
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
                               spec.caveat, spec.supports) for rid, spec in data.items()}

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
            out[qid] = QuantityRule(qid, spec.label, table, low, high, spec.plausible.min,
                                    spec.plausible.max, spec.example, spec.shown_as,
                                    spec.compare_in == "canonical")
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
        return Vocabulary(labels, lookup)

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
            canonical_unit, table, spec = DERIVED_NUMBER_FACTS[fact], None, None
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
            cite=self.cites("cockcroft_gault", ("cite",), spec.cite),
        )

    # -- conditions and texts ----------------------------------------------------------------
    def condition(self, section: str, where: Path_, data: Any, *,
                  allow_status: bool = False) -> Condition | None:
        problem = self.expansion.admit(data)
        if problem is not None:
            if problem:  # reported once: later conditions only repeat it
                self.fail(section, where, problem)
            return None
        parser = ConditionParser(
            number_facts={**{q: q for q in self.quantity_rules}, **DERIVED_NUMBER_FACTS},
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
            if known.fact != fact:
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
        for name in _PLACEHOLDER.findall(text):
            if name not in VALUE_PLACEHOLDERS and name not in self.thresholds_by_id:
                self.fail(section, where, f"unknown placeholder {{{name}}}; use a threshold id "
                                          f"or one of {', '.join(sorted(VALUE_PLACEHOLDERS))}")
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
            if when is not None:
                out[fid] = FindingRule(fid, spec.severity, when, message, details, cite)
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

    def regimen(self, spec: Any, findings: Mapping[str, FindingRule]) -> RegimenRules:
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
        if spec.caution.ceiling not in spec.doses:
            self.fail("regimen", ("caution", "ceiling"),
                      f"unknown dose {spec.caution.ceiling!r}")
        alt = spec.alternative
        low = dose(("alternative", "elemental", 0), alt.elemental[0], "elemental", alt.salt)
        high = dose(("alternative", "elemental", 1), alt.elemental[1], "elemental", alt.salt)
        if low and high and low.elemental_mmol > high.elemental_mmol:
            self.fail("regimen", ("alternative", "elemental"), "range minimum is above maximum")
        for where, fid in ((("step_up_finding",), spec.step_up_finding),
                           (("alternative", "finding"), alt.finding)):
            if fid not in self.finding_ids:
                self.fail("regimen", where, f"finding {fid!r} is not defined")
        if self.errors:
            raise RulesErrors(self.errors)
        return RegimenRules(
            product_id=spec.product, product_label=spec.salts[spec.product].label,
            doses=doses, step_up_finding=spec.step_up_finding, maximum=maximum,
            caution_ceiling=spec.caution.ceiling,
            caution_note=" ".join(spec.caution.note.split()),
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
            cite_caution=cite("regimen", ("caution", "cite"), spec.caution.cite),
            cite_timing=cite("regimen", ("timing", "cite"), spec.timing.cite),
            cite_alternative=cite("regimen", ("alternative", "cite"), alt.cite),
            cite_side_effects=cite("regimen", ("side_effects", "cite"), spec.side_effects.cite),
        )

    def monitoring(self, spec: Any) -> MonitoringRules:
        schedule = tuple((" ".join(item.text.split()),
                          self.cites("monitoring", ("schedule", i, "cite"), item.cite))
                         for i, item in enumerate(spec.schedule))
        reasons = []
        for i, reason in enumerate(spec.more_often.reasons):
            when = self.condition("monitoring", ("more_often", "reasons", i, "when"), reason.when)
            if when is not None:
                reasons.append(Reason(reason.label, when))
        basis = tuple(f"{item.text} - {item.basis}" for item in spec.schedule if item.basis)
        return MonitoringRules(schedule, basis, spec.more_often.text, tuple(reasons),
                               self.cites("monitoring", ("more_often", "cite"),
                                          spec.more_often.cite))


class _Expansion:
    """What conditions cost with every ``{is: name}`` written out. Predicates that use
    predicates are the rule language's own aliases, so they get the limits of YAML itself:
    MAX_NODES tests in all the conditions of a rule set, and MAX_DEPTH levels in any one.
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
                                                         MAX_NODES + 1)
            if key == "not":
                depth, tests = self.measure(body)
                return depth + 1, min(tests + 1, MAX_NODES + 1)
            if key == "is" and isinstance(body, str) and body in self.known:
                depth, tests = self.known[body]
                return depth + 1, min(tests + 1, MAX_NODES + 1)
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
        if self.total > MAX_NODES:
            self.refused = True
            return (f"with every is: written out, the conditions of the rule set hold more than "
                    f"{MAX_NODES:,} tests, passed here (a predicate that uses another one "
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
