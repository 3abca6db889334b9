"""Cockcroft-Gault creatinine clearance, with the weight-basis rule of the clinical contract.

    CrCl = (age_from - age) x weight / (divisor x creatinine) [x female_factor]

Every constant comes from the rules (``cockcroft_gault`` in thresholds.yaml); this module only
knows the shape of the formula and of the weight rule (BMI bands -> actual, lesser of ideal and
actual, or adjusted weight; actual weight without a height).
"""

from __future__ import annotations

import math

from msgspec import Struct

from .contract import Sex, WeightBasis
from .ruleset import CockcroftGault

__all__ = ["CrclEstimate", "cockcroft_gault", "ideal_body_weight", "round_down"]


class CrclEstimate(Struct, frozen=True):
    """A Cockcroft-Gault result and how it was obtained."""

    ml_min: float
    weight_basis: WeightBasis
    weight_kg: float
    ideal_kg: float | None
    bmi: float | None
    notes: tuple[str, ...] = ()


def ideal_body_weight(*, sex: Sex, height_cm: float, params: CockcroftGault) -> float:
    """Devine ideal body weight in kg; nothing is subtracted below the formula's base height."""
    inches_over = max(0.0, (height_cm - params.ideal_from_height_cm) / params.cm_per_inch)
    return params.ideal_base_kg[sex.value] + params.ideal_kg_per_inch * inches_over


def cockcroft_gault(
    *,
    age_years: float,
    sex: Sex,
    weight_kg: float,
    creatinine_mg_dl: float,
    height_cm: float | None,
    basis: WeightBasis,
    params: CockcroftGault,
) -> CrclEstimate:
    """Estimate creatinine clearance in mL/min (rounded as the rules say)."""
    notes: list[str] = []
    ideal: float | None = None
    bmi: float | None = None
    if height_cm is not None:
        ideal = ideal_body_weight(sex=sex, height_cm=height_cm, params=params)
        # The band is chosen on the BMI as printed (one decimal, truncated), like CrCl itself.
        bmi = round_down(weight_kg / (height_cm / 100) ** 2, 1)
        if height_cm < params.ideal_from_height_cm:
            notes.append("height is below the Devine formula's base height: ideal body weight "
                         "is the base value for sex")
    chosen = _choose_basis(basis, bmi, ideal, weight_kg, params)
    if chosen is WeightBasis.ACTUAL or ideal is None:
        used = weight_kg
        chosen = WeightBasis.ACTUAL
    elif chosen is WeightBasis.IDEAL:
        used = ideal
    else:
        used = ideal + params.adjusted_fraction * (weight_kg - ideal)
    if basis is WeightBasis.AUTO and height_cm is None:
        notes.append("no height given: actual body weight used")
    raw = (params.age_from_years - age_years) * used * params.ml_min_per_unit / creatinine_mg_dl
    if sex is Sex.FEMALE:
        raw *= params.female_factor
    return CrclEstimate(round_down(raw, params.result_decimals), chosen, used, ideal, bmi,
                        tuple(notes))


def round_down(value: float, decimals: int) -> float:
    """Truncate a positive value to ``decimals`` places.

    Rounding half-up would print 19.96 mL/min as 20.0 and move it out of the < 20 band;
    truncating keeps the printed value on the same side of every limit that is a multiple of
    the last printed place, so what is shown and what is decided always agree. (The tiny
    epsilon absorbs float error such as 19.999999999999996 for an exact 20.)"""
    scale = 10.0**decimals
    return math.floor(value * scale + 1e-9) / scale


def _choose_basis(
    basis: WeightBasis, bmi: float | None, ideal: float | None, actual: float,
    params: CockcroftGault,
) -> WeightBasis:
    if basis is not WeightBasis.AUTO:
        return basis
    if bmi is None or ideal is None or bmi < params.underweight_below_bmi:
        return WeightBasis.ACTUAL
    if bmi < params.overweight_from_bmi:
        return WeightBasis.IDEAL if ideal < actual else WeightBasis.ACTUAL
    return WeightBasis.ADJUSTED
