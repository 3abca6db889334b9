"""The parameters of the two formulas the engine computes, converted through pint at load.

    compile_cockcroft_gault(spec, thresholds, report) -> CockcroftGault
    compile_calcium_adjustment(spec, quantity_specs, report) -> CalciumAdjustment

A parameter that cannot be converted is reported and becomes NaN; the load stops before any
rule could use it.
"""

from __future__ import annotations

from collections.abc import Mapping

from mgassist._core.conditions import Threshold
from mgassist._core.ruleset import CalciumAdjustment, CockcroftGault
from mgassist._core.units import UnitProblem, convert, quantity

from .quantities import Thresholds, to_canonical
from .report import Report
from .schema import CalciumAdjustmentSpec, CockcroftGaultSpec, QuantitySpec

__all__ = ["compile_calcium_adjustment", "compile_cockcroft_gault"]


def compile_cockcroft_gault(spec: CockcroftGaultSpec, thresholds: Thresholds,
                            report: Report) -> CockcroftGault:
    """Cockcroft-Gault's constants in the units the engine computes in; its two thresholds
    (adults_from, discrepancy) must exist and be on age and on crcl_discrepancy."""
    def get(text: str, unit: str, name: str) -> float:
        try:
            return float(convert(quantity(text), unit).magnitude)
        except UnitProblem as exc:
            report.fail("cockcroft_gault", (name,), f"cockcroft_gault.{name}: {exc}")
            return float("nan")
    per_unit = float("nan")
    try:
        unit_result = quantity("1 year") * quantity("1 kg") / (
            quantity(spec.divisor) * quantity("1 mg/dL"))
        per_unit = float(convert(unit_result, "mL/min").magnitude)
    except UnitProblem as exc:
        report.fail("cockcroft_gault", ("divisor",),
                    f"cockcroft_gault.divisor: years x kg / (divisor x mg/dL) must be a "
                    f"flow in mL/min: {exc}")
    discrepancy = thresholds.by_id.get(spec.discrepancy)
    if discrepancy is None or discrepancy.fact != "crcl_discrepancy":
        if spec.discrepancy not in thresholds.failed:
            report.fail("cockcroft_gault", ("discrepancy",), f"discrepancy: "
                        f"{spec.discrepancy!r} is not a threshold for crcl_discrepancy")
        discrepancy = Threshold("invalid", "crcl_discrepancy", 0.0, "invalid")
    adults_from = thresholds.by_id.get(spec.adults_from)
    if adults_from is None or adults_from.fact != "age":
        if spec.adults_from not in thresholds.failed:  # else its own error says why
            report.fail("cockcroft_gault", ("adults_from",), f"adults_from: "
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
        cite=report.cites("cockcroft_gault", ("cite",), spec.cite),
    )


def compile_calcium_adjustment(spec: CalciumAdjustmentSpec,
                               quantity_specs: Mapping[str, QuantitySpec],
                               report: Report) -> CalciumAdjustment:
    """Payne's adjustment, as data: Ca rises by calcium_step for each albumin_step of
    albumin below reference_albumin; converted here, through pint, to mmol/L per g/L."""
    ca, albumin = quantity_specs.get("ca"), quantity_specs.get("albumin")
    if ca is None or albumin is None:  # reported by compile_quantities
        return CalciumAdjustment(float("nan"), float("nan"), ())
    values = []
    for name, text, target, analyte in (
            ("reference_albumin", spec.reference_albumin, albumin.canonical, albumin),
            ("calcium_step", spec.calcium_step, ca.canonical, ca),
            ("albumin_step", spec.albumin_step, albumin.canonical, albumin)):
        try:
            values.append(to_canonical(text, target, analyte))
        except UnitProblem as exc:
            report.fail("calcium_adjustment", (name,), f"calcium_adjustment.{name}: {exc}")
            values.append(float("nan"))
    reference, calcium_step, albumin_step = values
    if not albumin_step > 0:
        report.fail("calcium_adjustment", ("albumin_step",),
                    "calcium_adjustment.albumin_step: must be above zero")
    return CalciumAdjustment(reference, calcium_step / albumin_step if albumin_step else
                             float("nan"),
                             report.cites("calcium_adjustment", ("cite",), spec.cite))
