"""The inputs as people read them: each value as entered beside the value the rules used.

One row per field given, in the fields' order whatever order they came in (the renal value
has its own row, with how it was obtained), then the albumin-adjusted calcium and a
Cockcroft-Gault estimate kept for comparison. Built with the assessment, so the full report
and any other reader need nothing but the Assessment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .assessment import Derived, InputUsed
from .contract import CrclMethod
from .fields import FIELDS, field_label
from .ruleset import RuleSet

__all__ = ["inputs_used"]

# Rows repeat across a batch (the same value typed the same way): each is built once. A row is
# a frozen object, shared safely; its citations list is empty and never appended to.
_ROWS: dict[tuple[int, str, str, float | None, str], tuple[RuleSet, InputUsed]] = {}
_ROWS_LIMIT = 8_192  # small, so it fills early and memory stays flat (as engine._FACTS_LIMIT)


def inputs_used(inputs: Mapping[str, Any], derived: Derived, rules: RuleSet) -> list[InputUsed]:
    """The rows of "Inputs as used" for these inputs and what was derived from them."""
    used = {"mg": derived.mg_mmol_l, "k": derived.k_mmol_l, "ca": derived.ca_mmol_l,
            "albumin": derived.albumin_g_l, "creatinine": derived.creatinine_mg_dl,
            "egfr": derived.egfr_ml_min_173, "age": derived.age_years,
            "weight": derived.weight_kg, "height": derived.height_cm,
            "current_dose": derived.current_dose_mmol_per_day}
    rows = []
    ordered = [spec.name for spec in FIELDS if spec.name in inputs]  # the same on every surface
    ordered += [name for name in inputs if name not in ordered]
    for name in ordered:
        if name == "crcl":
            continue  # the renal row below says what was used, and how
        entered = _shown(inputs[name])
        if name == "meds":
            rows.append(InputUsed(field=name, label=field_label(name, rules), entered=entered,
                                  used=_meds(derived, rules), citations=[]))
            continue
        number = used.get(name)
        bound = (derived.egfr_comparator or "") if name == "egfr" else ""
        key = (id(rules), name, entered, number, bound)
        hit = _ROWS.get(key)
        if hit is None or hit[0] is not rules:  # rules kept alive with the row: ids unique
            if len(_ROWS) >= _ROWS_LIMIT:
                _ROWS.clear()
            rule = rules.quantities.get(name)
            as_used = bound + rule.as_used(number) if rule is not None and number is not None \
                else ""
            hit = rules, InputUsed(field=name, label=field_label(name, rules), entered=entered,
                                   used=as_used, citations=[])
            _ROWS[key] = hit
        rows.append(hit[1])
    if derived.ca_adjusted_mmol_l is not None:
        rows.append(InputUsed(field="ca_adjusted", label="adjusted calcium", entered="-",
                              used=f"{derived.ca_adjusted_mmol_l:.2f} mmol/L (for albumin "
                              f"{derived.albumin_g_l:g} g/L)", citations=[]))
    cg_cite = list(rules.cockcroft_gault.cite)
    if derived.crcl_ml_min is not None:
        method = derived.crcl_method
        if method is CrclMethod.COCKCROFT_GAULT:
            how, cite = "Cockcroft-Gault" + _cg_basis(derived), cg_cite
        else:
            how = "eGFR, in place of creatinine clearance" if method is CrclMethod.EGFR \
                else "reported"
            cite = []
        rows.append(InputUsed(
            field="crcl", label="renal function used", entered=_shown(inputs.get("crcl", "-")),
            used=f"{derived.crcl_comparator or ''}{derived.crcl_ml_min:g} mL/min ({how})",
            citations=cite))
    if derived.crcl_method is not CrclMethod.COCKCROFT_GAULT and \
            derived.crcl_cockcroft_gault_ml_min is not None:
        rows.append(InputUsed(
            field="crcl_cockcroft_gault", label="Cockcroft-Gault", entered="-",
            used=f"{derived.crcl_cockcroft_gault_ml_min:g} mL/min, for comparison"
            + _cg_basis(derived), citations=cg_cite))
    return rows


def _shown(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _meds(derived: Derived, rules: RuleSet) -> str:
    """The classes read from the medication names, then the names not recognised."""
    parts = [rules.vocabulary.label("meds", c) for c in derived.med_classes]
    if derived.meds_not_recognised:
        parts.append("not recognised: " + ", ".join(derived.meds_not_recognised))
    return "; ".join(parts)


def _cg_basis(derived: Derived) -> str:
    basis = derived.crcl_weight_basis.value if derived.crcl_weight_basis else "actual"
    text = f": {basis} weight {derived.crcl_weight_kg:g} kg"
    if derived.bmi is not None and derived.ideal_body_weight_kg is not None:
        text += f", BMI {derived.bmi:g}, ideal {derived.ideal_body_weight_kg:g} kg"
    return text
