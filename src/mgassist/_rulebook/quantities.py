"""The quantities of the input contract and the thresholds on them, compiled through pint.

    compile_quantities(specs, report) -> {id: QuantityRule}
    compile_thresholds(specs, quantities, quantity_specs, report) -> Thresholds
    make_threshold(...)                   # also for a literal amount in a condition ("20 mL/min")

Every quantity the contract names must be there, in the canonical unit the JSON output names;
every threshold is converted once, here, to its quantity's canonical unit and to each unit
labs print, so the engine only compares floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mgassist._core.conditions import Threshold
from mgassist._core.ruleset import QuantityRule
from mgassist._core.units import UnitProblem, UnitTable, build_unit_table, convert, quantity

from .report import Report
from .schema import QuantitySpec, ThresholdSpec

__all__ = ["CONTRACT_CANONICAL", "DERIVED_NUMBER_FACTS", "Thresholds", "compile_quantities",
           "compile_thresholds", "make_threshold", "to_canonical"]

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


def compile_quantities(specs: Mapping[str, QuantitySpec],
                       report: Report) -> dict[str, QuantityRule]:
    """Each quantity of the contract with its unit table and plausible range (canonical)."""
    out: dict[str, QuantityRule] = {}
    for qid, canonical in CONTRACT_CANONICAL.items():
        if qid not in specs:
            report.fail("quantities", (), f"quantity {qid!r} is missing (the input contract "
                                          "needs it)")
        elif specs[qid].canonical != canonical:
            report.fail("quantities", (qid, "canonical"),
                        f"{qid}: canonical unit must be {canonical} (the JSON output names it)")
    for qid, spec in specs.items():
        if qid not in CONTRACT_CANONICAL:
            report.fail("quantities", (qid,), f"unknown quantity {qid!r}; the input contract "
                                              f"has {', '.join(CONTRACT_CANONICAL)}")
            continue
        try:
            table = build_unit_table(
                canonical=spec.canonical, units=dict(spec.units),
                spellings=dict(spec.spellings), molar_mass=spec.molar_mass,
                valence=spec.valence, plain_number=spec.plain_number)
            low = to_canonical(spec.plausible.min, spec.canonical, spec)
            high = to_canonical(spec.plausible.max, spec.canonical, spec)
        except UnitProblem as exc:
            report.fail("quantities", (qid,), f"{qid}: {exc}")
            continue
        if not low <= high:
            report.fail("quantities", (qid, "plausible"), f"{qid}: min is above max")
        report.cites("quantities", (qid, "cite"), spec.cite)
        out[qid] = QuantityRule(qid, spec.label, table, low, high, spec.plausible.min,
                                spec.plausible.max, spec.example, spec.shown_as,
                                spec.compare_in == "canonical", spec.bounds)
    return out


def to_canonical(text: str, canonical: str, spec: QuantitySpec) -> float:
    """``text`` (an amount with its unit) in ``canonical``, through the quantity's molar mass
    and valence; raises UnitProblem."""
    mass = quantity(spec.molar_mass) if spec.molar_mass else None
    return float(convert(quantity(text), canonical, molar_mass=mass,
                         valence=spec.valence).magnitude)


@dataclass(frozen=True)
class Thresholds:
    """The thresholds that compiled, and the ids of those that did not (already reported:
    a stage that names one does not blame it again)."""

    by_id: dict[str, Threshold]
    failed: frozenset[str]


def compile_thresholds(specs: Mapping[str, ThresholdSpec],
                       quantities: Mapping[str, QuantityRule],
                       quantity_specs: Mapping[str, QuantitySpec],
                       report: Report) -> Thresholds:
    """Each threshold converted to its quantity's units; one that cannot be is reported."""
    out = {}
    failed = set()
    for tid, spec in specs.items():
        made = make_threshold(tid, spec.for_, spec.value, quantities, quantity_specs,
                              spec.meaning, report.cites("thresholds", (tid, "cite"), spec.cite))
        if isinstance(made, str):
            report.fail("thresholds", (tid, "value"), f"threshold {tid}: {made}")
            failed.add(tid)
        else:
            out[tid] = made
    return Thresholds(out, frozenset(failed))


def make_threshold(tid: str, fact: str, value: str, quantities: Mapping[str, QuantityRule],
                   quantity_specs: Mapping[str, QuantitySpec], meaning: str = "",
                   cite: tuple[str, ...] = ()) -> Threshold | str:
    """``value`` as a threshold on ``fact``, or why it cannot be one."""
    table: UnitTable | None
    spec: QuantitySpec | None
    if fact in DERIVED_NUMBER_FACTS:
        canonical_unit, printed_like = DERIVED_NUMBER_FACTS[fact]
        table, spec = None, None
        if printed_like is not None and printed_like in quantities:
            table = quantities[printed_like].table
            spec = quantity_specs[printed_like]
    elif fact in quantities:
        rule = quantities[fact]
        canonical_unit, table = rule.table.canonical, rule.table
        spec = quantity_specs[fact]
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
