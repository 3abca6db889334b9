"""The regimen and the magnesium salts, every dose converted through pint at load.

    magnesium_molar_mass(quantity_specs, report) -> str       # the load stops without it
    compile_regimen(spec, steps, mg_molar_mass, finding_ids, report) -> RegimenRules
    compile_salts(spec, vocabulary, mg_molar_mass, report) -> (salts, unconvertible, elemental)

Doses are never above the maximum, a step's dose never above its ceiling, and a caution step
never above the standard start. ``compile_regimen`` builds the regimen only from sound doses:
it stops the load if anything failed so far.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mgassist._core.contract import DoseBasis
from mgassist._core.medications import words
from mgassist._core.regimen import dose_of
from mgassist._core.ruleset import Dose, RegimenRules, Salt, StepRegimen, Vocabulary, normalize_term
from mgassist._core.units import UnitProblem

from .report import Report
from .schema import QuantitySpec, RegimenSpec, StepSpec
from .yaml_source import Path_

__all__ = ["compile_regimen", "compile_salts", "magnesium_molar_mass"]


def magnesium_molar_mass(quantity_specs: Mapping[str, QuantitySpec], report: Report) -> str:
    """The molar mass of magnesium the regimen arithmetic needs; without it, the load stops."""
    mg_mass = quantity_specs["mg"].molar_mass
    if mg_mass is None:
        report.fail("quantities", ("mg",), "mg needs a molar_mass for the regimen arithmetic")
        report.raise_if_failed()
    assert mg_mass is not None  # the load stopped above otherwise
    return mg_mass


def compile_regimen(spec: RegimenSpec, steps: Sequence[StepSpec], mg_molar_mass: str,
                    finding_ids: frozenset[str], report: Report) -> RegimenRules:
    """The doses, the maximum, each step's regimen and the alternative salt, checked; then
    the load stops if anything failed so far (in any stage), else the regimen."""
    cite = report.cites

    def dose(where: Path_, amount: str, of: str, salt_id: str) -> Dose | None:
        salt = spec.salts.get(salt_id)
        if salt is None:
            report.fail("regimen", where, f"unknown salt {salt_id!r}; defined: "
                                          f"{', '.join(spec.salts)}")
            return None
        try:
            return dose_of(amount, of=of, magnesium_molar_mass=mg_molar_mass,
                           formula_mass=salt.formula_mass,
                           per_formula=salt.magnesium_per_formula)
        except UnitProblem as exc:
            report.fail("regimen", where, f"{amount!r}: {exc}")
            return None

    doses = {name: dose(("doses", name, "elemental"), d.elemental, "elemental", spec.product)
             for name, d in spec.doses.items()}
    maximum = dose(("maximum", "product"), spec.maximum.product, "product", spec.product)
    for needed in (DoseBasis.STANDARD_START.value, DoseBasis.STEP_UP.value):
        if needed not in spec.doses:
            report.fail("regimen", ("doses",), f"dose {needed!r} is missing")
    for name, value in doses.items():
        if value and maximum and value.elemental_mmol > maximum.elemental_mmol + 1e-9:
            report.fail("regimen", ("doses", name), f"dose {name!r} is above the maximum "
                                                    f"({spec.maximum.product} of the product)")
    by_step = step_regimens(spec, steps, doses, maximum, report)
    alt = spec.alternative
    low = dose(("alternative", "elemental", 0), alt.elemental[0], "elemental", alt.salt)
    high = dose(("alternative", "elemental", 1), alt.elemental[1], "elemental", alt.salt)
    if low and high and low.elemental_mmol > high.elemental_mmol:
        report.fail("regimen", ("alternative", "elemental"), "range minimum is above maximum")
    if alt.finding not in finding_ids:
        report.fail("regimen", ("alternative", "finding"),
                    f"finding {alt.finding!r} is not defined")
    report.raise_if_failed()
    # A dose that could not be converted was reported, so past the line above none is None.
    converted = {name: value for name, value in doses.items() if value is not None}
    assert len(converted) == len(doses)
    assert maximum is not None and low is not None and high is not None
    return RegimenRules(
        product_id=spec.product, product_label=spec.salts[spec.product].label,
        doses=converted, maximum=maximum, by_step=by_step,
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


def step_regimens(spec: RegimenSpec, steps: Sequence[StepSpec],
                  doses: Mapping[str, Dose | None], maximum: Dose | None,
                  report: Report) -> dict[str, StepRegimen]:
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
            report.fail("regimen", where, f"by_step: {step_id!r} is not a step that gives a "
                        "regimen (a step with status supplement or supplement-with-caution)")
            continue
        for key in ("dose", "ceiling"):
            named = getattr(entry, key)
            if named is not None and named not in spec.doses:
                report.fail("regimen", (*where, key), f"unknown dose {named!r}; defined: "
                                                      f"{', '.join(spec.doses)}")
        given = doses.get(entry.dose) if entry.dose is not None else None
        ceiling = doses.get(entry.ceiling) if entry.ceiling is not None else maximum
        caution = status.value == "supplement-with-caution"
        if entry.dose is None and entry.basis is not DoseBasis.REDUCED:
            report.fail("regimen", where, f"by_step {step_id}: only a reduced regimen may go "
                                          "without a dose")
        if caution and entry.basis is not DoseBasis.REDUCED:
            report.fail("regimen", (*where, "basis"), f"by_step {step_id}: status "
                        f"{status.value} gives a reduced regimen, not {entry.basis.value}")
        if not caution and entry.basis is DoseBasis.REDUCED:
            report.fail("regimen", (*where, "basis"), f"by_step {step_id}: a reduced regimen "
                        "is for status supplement-with-caution")
        if caution and entry.ceiling is None:
            report.fail("regimen", where, f"by_step {step_id}: a caution regimen needs a "
                                          "ceiling (a dose id)")
        if given and ceiling and given.elemental_mmol > ceiling.elemental_mmol + 1e-9:
            report.fail("regimen", (*where, "dose"), f"by_step {step_id}: dose "
                        f"{entry.dose!r} is above its ceiling")
        if caution and ceiling and standard and \
                ceiling.elemental_mmol > standard.elemental_mmol + 1e-9:
            report.fail("regimen", (*where, "ceiling"), f"by_step {step_id}: a caution "
                        "regimen is never above the standard start")
        if ceiling is None or (entry.dose is not None and given is None):
            continue
        out[step_id] = StepRegimen(
            entry.basis, entry.dose, given, entry.ceiling or "maximum", ceiling,
            " ".join(entry.note.split()) if entry.note else None,
            report.cites("regimen", (*where, "cite"), entry.cite))
    for step in steps:
        if step.status.gives_regimen and step.id not in spec.by_step:
            report.fail("regimen", ("by_step",), f"step {step.id} gives status "
                        f"{step.status.value} but has no regimen in by_step")
    return out


def compile_salts(spec: RegimenSpec, vocabulary: Vocabulary, mg_molar_mass: str,
                  report: Report) -> tuple[dict[str, Salt], dict[str, str], frozenset[str]]:
    """The salts a current dose may name, each converted once to elemental magnesium per
    mg of salt; every name must also be a magnesium-containing medicine of the vocabulary.
    A name whose mass cannot be converted (it does not say which hydrate) is refused at
    input with the reason the rules give; the elemental names say the mass is magnesium
    itself ("300 mg/day elemental")."""
    out: dict[str, Salt] = {}
    named: dict[str, str] = {}
    for salt_id, salt in spec.salts.items():
        try:
            one = dose_of("1 mg/day", of="product", magnesium_molar_mass=mg_molar_mass,
                          formula_mass=salt.formula_mass,
                          per_formula=salt.magnesium_per_formula)
        except UnitProblem as exc:
            report.fail("regimen", ("salts", salt_id, "formula_mass"),
                        f"{salt.formula_mass!r}: {exc}")
            continue
        names = []
        for i, name in enumerate(salt.names):
            key = normalize_term(name)
            where: Path_ = ("salts", salt_id, "names", i)
            if key in named and named[key] != salt_id:
                report.fail("regimen", where, f"salt name {name!r} is also a name of "
                                              f"{named[key]!r}")
            named[key] = salt_id
            names.append(key)
            if vocabulary.medications.by_words.get(words(name)) != "magnesium-containing":
                report.fail("regimen", where, f"salt name {name!r} is not a "
                            "magnesium-containing medicine in vocabulary.yaml (taking it is "
                            "taking magnesium): add it there too")
        if salt_id != spec.product:  # the product's citations are checked with the regimen
            report.cites("regimen", ("salts", salt_id, "cite"), salt.cite)
        out[salt_id] = Salt(salt_id, salt.label, salt.formula_mass, one.elemental_mmol,
                            tuple(names))
    unconvertible: dict[str, str] = {}
    for name, why in spec.unconvertible.items():
        if normalize_term(name) in named:
            report.fail("regimen", ("unconvertible", name), f"{name!r} is already the "
                        f"name of salt {named[normalize_term(name)]!r}")
        unconvertible[normalize_term(name)] = " ".join(why.split())
    elemental = frozenset(normalize_term(name) for name in spec.elemental_names)
    for i, name in enumerate(spec.elemental_names):
        key = normalize_term(name)
        if key in named or key in unconvertible:
            report.fail("regimen", ("elemental_names", i), f"{name!r} is also a salt name, "
                        "or unconvertible: a name must say one thing")
    return out, unconvertible, elemental
