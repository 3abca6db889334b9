"""Regimen arithmetic: elemental mmol <-> elemental mg <-> salt mg, and choosing the regimen.

``dose_of`` runs when the rules load and goes through pint with the molar mass of magnesium
and the salt's formula mass, so 12 mmol/day becomes 291.7 mg elemental and 483.6 mg magnesium
oxide without a hand-typed factor. ``choose_regimen`` runs per patient and only picks among
those precomputed doses.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .assessment import Alternative, Regimen
from .contract import Status
from .ruleset import Dose, RegimenRules
from .units import UnitProblem, convert, quantity

__all__ = ["choose_regimen", "dose_of"]


def dose_of(
    amount: str, *, of: str, magnesium_molar_mass: str, formula_mass: str, per_formula: int
) -> Dose:
    """Convert a daily amount, given as elemental magnesium (``of="elemental"``) or as salt
    (``of="product"``), into all three forms. Raises UnitProblem on a wrong unit."""
    mg_mass = quantity(magnesium_molar_mass)
    salt_mass = quantity(formula_mass)
    given = quantity(amount)
    if of == "elemental":
        elemental_mmol = convert(given, "mmol/day", molar_mass=mg_mass)
    else:
        product_mmol = convert(given, "mmol/day", molar_mass=salt_mass)
        elemental_mmol = product_mmol * per_formula
    product_mg = convert(elemental_mmol / per_formula, "mg/day", molar_mass=salt_mass)
    elemental_mg = convert(elemental_mmol, "mg/day", molar_mass=mg_mass)
    values: list[Any] = [elemental_mmol.magnitude, elemental_mg.magnitude, product_mg.magnitude]
    if any(v < 0 for v in values):
        raise UnitProblem(f"{amount!r} is negative")
    return Dose(float(values[0]), float(values[1]), float(values[2]))


def choose_regimen(
    rules: RegimenRules, *, status: Status, step: str | None, fired: Collection[str]
) -> Regimen | None:
    """The regimen of the step that decided (None unless its status gives one): its dose,
    never above its ceiling nor above the maximum."""
    chosen = rules.by_step.get(step) if step is not None and status.gives_regimen else None
    if chosen is None:
        return None
    ceiling = _lower(chosen.ceiling, rules.maximum)
    dose = None if chosen.dose is None else _lower(_lower(chosen.dose, ceiling), rules.maximum)
    cite = [*chosen.cite]
    for dose_id in (chosen.dose_id, chosen.ceiling_id):
        cite += rules.cite_doses.get(dose_id, ()) if dose_id is not None else ()
    alternative = None
    if rules.alternative_finding in fired:
        high = _lower(rules.alternative_high, ceiling)
        low = _lower(rules.alternative_low, high)
        note = rules.alternative_note
        if high.elemental_mmol < rules.alternative_high.elemental_mmol:
            note += (f" Capped here at this regimen's ceiling, {_r1(high.elemental_mg):g} mg/day "
                     "of elemental magnesium.")
        alternative = Alternative(
            product=rules.alternative_label,
            elemental_mg_per_day_min=_r1(low.elemental_mg),
            elemental_mg_per_day_max=_r1(high.elemental_mg),
            elemental_mmol_per_day_min=_r1(low.elemental_mmol),
            elemental_mmol_per_day_max=_r1(high.elemental_mmol),
            product_mg_per_day_min=_r1(low.product_mg),
            product_mg_per_day_max=_r1(high.product_mg),
            note=note,
            citations=list(rules.cite_alternative),
        )
    return Regimen(
        product=rules.product_label,
        product_id=rules.product_id,
        dose_basis=chosen.basis,
        elemental_mmol_per_day=None if dose is None else _r1(dose.elemental_mmol),
        elemental_mg_per_day=None if dose is None else _r1(dose.elemental_mg),
        product_mg_per_day=None if dose is None else _r1(dose.product_mg),
        timing=rules.timing,
        max_product_mg_per_day=_r1(ceiling.product_mg),
        max_elemental_mmol_per_day=_r1(ceiling.elemental_mmol),
        max_elemental_mg_per_day=_r1(ceiling.elemental_mg),
        max_basis=rules.maximum_basis if chosen.ceiling_id == "maximum" else None,
        note=chosen.note,
        alternative=alternative,
        side_effects=list(rules.side_effects),
        side_effects_advice=rules.side_effects_advice,
        citations=_unique([*rules.cite_product, *cite, *rules.cite_timing,
                           *rules.cite_maximum, *rules.cite_side_effects]),
    )


def _lower(dose: Dose, cap: Dose) -> Dose:
    """``dose``, scaled down to ``cap``'s elemental magnesium when above it.

    Scaling keeps the dose's own salt: every conversion is linear, so a glycinate dose capped
    by a magnesium-oxide ceiling stays a glycinate dose carrying the ceiling's magnesium."""
    if dose.elemental_mmol <= cap.elemental_mmol:
        return dose
    scale = cap.elemental_mmol / dose.elemental_mmol
    return Dose(cap.elemental_mmol, dose.elemental_mg * scale, dose.product_mg * scale)


def _r1(value: float) -> float:
    return round(value, 1)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
