"""A large deterministic population of patients, each checked against safety invariants and an
independent oracle of clinical-spec.md's decision table (issue 6).

The population is drawn with ``random.Random(seed)``, not hypothesis, so that 10,000 patients fit
in one CI run: ``MGASSIST_POPULATION`` sets the size (default 10000) and
``MGASSIST_POPULATION_SEED`` the seed. It mixes every unit each quantity accepts (and the
spellings the spec allows), values exactly on and right next to every threshold as printed in each
unit, values anywhere in the plausible range, missing fields, reported and Cockcroft-Gault CrCl
(including CrCl and BMI exactly on a limit), children, symptoms, medications, conditions,
indications, current doses and days on them.

The oracle below is written from the spec alone. It parses the raw input itself, keeps entered
numbers exact (``Decimal``/``Fraction``), applies the boundary rule (a value is compared, as
entered, with the limit as printed in the unit entered) and walks the ten steps in order. Where the
spec can be read more than one way the oracle computes every reading and accepts any of them
(``SPEC AMBIGUITY`` comments); ``test_population_reaches_every_status_and_step`` reports how
often that happened. Nothing here is copied from the rules or the engine.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import product
from typing import Any

import pytest
from conftest import finding_ids

# The spec's vocabulary, written out once for both oracles (test_properties.py).
from test_properties import CONDITIONS, HYPERMG_SIGNS, INDICATIONS, RED_FLAGS, SYMPTOMS

from mgassist import Assessment, InputErrors, RuleSet, evaluate, parse_patient

POPULATION = int(os.environ.get("MGASSIST_POPULATION", "10000"))
SEED = int(os.environ.get("MGASSIST_POPULATION_SEED", "20261106"))
SHOWN = 20  # mismatches printed in full when the population disagrees

D = Decimal
F = Fraction

# ---------------------------------------------------------------------------------------------
# The spec, written out (clinical-spec.md, "Units and thresholds", "Decision", "Regimen")
# ---------------------------------------------------------------------------------------------

# Mg limits as labs print them, per unit: (severe, LLN, ULN). The spec's own table.
MG_PRINTED: dict[str, tuple[Decimal, Decimal, Decimal]] = {
    "mmol/L": (D("0.50"), D("0.70"), D("1.05")),
    "mEq/L": (D("1.0"), D("1.4"), D("2.1")),
    "mg/dL": (D("1.2"), D("1.7"), D("2.6")),
}
MG_CANONICAL = (D("0.50"), D("0.70"), D("1.05"))  # mmol/L
# value in the unit for 1 mmol/L: 1 mmol/L = 2 mEq/L = 2.4305 mg/dL
MG_PER_MMOL_L: dict[str, Decimal] = {"mmol/L": D(1), "mEq/L": D(2), "mg/dL": D("2.4305")}
# "reporting precision — mmol/L 2 decimals, mg/dL and mEq/L 1 decimal"
MG_DECIMALS = {"mmol/L": 2, "mEq/L": 1, "mg/dL": 1}
MG_PLAUSIBLE = (D("0.1"), D("5"))  # mmol/L

CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED = 20, 30, 60  # mL/min
K_LLN = D("3.5")

# SPEC AMBIGUITY: "113.12 g/mol, so 1 mg/dL = 88.4 umol/L". 113.12 g/mol gives 88.4017; both are
# readings of the spec (mg/dL per umol/L below).
CREATININE_MG_DL_PER_UMOL_L = (1 / F("88.4"), F("113.12") / 10_000)
KG_PER_LB = F("0.45359237")
CM_PER_IN = F("2.54")

MG_MG_PER_MMOL = F("24.305")
MGO_MG_PER_MMOL = F("24.305") + F("15.999")
STANDARD_MMOL, STEP_UP_MMOL = 12, 24
# the spec prints these doses in mg as 291.7 and 583.3 (elemental)
DOSE_PRINTED_MG = {STANDARD_MMOL: D("291.7"), STEP_UP_MMOL: D("583.3")}
MGO_CAP_MG = 1500
CAP_MMOL = F(MGO_CAP_MG) / MGO_MG_PER_MMOL  # ~37.2 mmol
CAP_ELEMENTAL_MG = CAP_MMOL * MG_MG_PER_MMOL  # ~905 mg

STATUSES = ("out-of-scope", "urgent", "contraindicated", "insufficient-data",
            "do-not-supplement", "supplement-with-caution", "supplement")
STEPS = ("adults-only", "urgent-severe-mg", "urgent-symptomatic-low-mg",
         "urgent-mg-unknown-red-flags", "urgent-suspected-hypermagnesemia",
         "renal-contraindication", "hypermagnesemia", "mg-unknown", "mg-normal",
         "renal-function-unknown", "renal-caution-severe", "renal-dose-reduction", "supplement")
GIVES_REGIMEN = {"supplement", "supplement-with-caution"}

MED_CLASSES = ["loop-diuretic", "thiazide-diuretic", "ppi", "aminoglycoside",
               "calcineurin-inhibitor", "tetracycline", "fluoroquinolone", "bisphosphonate"]
DRUG_NAMES = ["furosemide", "bumetanide", "torsemide", "hydrochlorothiazide", "chlorthalidone",
              "indapamide", "omeprazole", "esomeprazole", "lansoprazole", "pantoprazole",
              "rabeprazole", "gentamicin", "tobramycin", "amikacin", "tacrolimus", "cyclosporine",
              "doxycycline", "minocycline", "tetracycline", "ciprofloxacin", "levofloxacin",
              "moxifloxacin", "alendronate", "risedronate", "ibandronate"]
POOR_ABSORPTION = frozenset({"chronic-diarrhea", "high-output-stoma", "short-bowel-syndrome",
                             "malabsorption"})

# Accepted units per quantity and spellings a clinician may type ("case-insensitive: mg/dl,
# mmol/l, meq/L, umol/L, µmol/L").
UNITS: dict[str, tuple[str, ...]] = {
    "mg": ("mmol/L", "mEq/L", "mg/dL"),
    "k": ("mmol/L", "mEq/L"),
    "ca": ("mmol/L", "mEq/L", "mg/dL"),
    "creatinine": ("mg/dL", "umol/L"),
    "crcl": ("mL/min",),
    "weight": ("kg", "lb"),
    "height": ("cm", "in", "m"),
    "current_dose": ("mmol/day", "mg/day"),
}
SPELLINGS: dict[str, tuple[str, ...]] = {
    "mmol/L": ("mmol/L", "mmol/l", "MMOL/L"),
    "mEq/L": ("mEq/L", "meq/L", "meq/l"),
    "mg/dL": ("mg/dL", "mg/dl", "MG/DL"),
    "umol/L": ("umol/L", "umol/l", "µmol/L"),
    "mL/min": ("mL/min", "ml/min"),
    "kg": ("kg", "KG"),
    "lb": ("lb",),
    "cm": ("cm",),
    "in": ("in",),
    "m": ("m",),
    "mmol/day": ("mmol/day",),
    "mg/day": ("mg/day",),
}
_CANONICAL_SPELLING = {u.lower(): u for units in UNITS.values() for u in units}


# ---------------------------------------------------------------------------------------------
# The oracle: read the raw input (independently of mgassist's parser)
# ---------------------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(\S.*?)\s*$")


def read_quantity(value: Any) -> tuple[Decimal, str]:
    """(number as entered, unit) of a quantity written "0.62 mmol/L" or {"value", "unit"}."""
    if isinstance(value, dict):
        number = D(repr(value["value"])) if isinstance(value["value"], float) \
            else D(str(value["value"]))
        unit = str(value["unit"])
    else:
        match = _QUANTITY.match(value)
        assert match is not None, value
        number, unit = D(match[1]), match[2]
    unit = unit.replace("µ", "u").replace("μ", "u").lower()
    return number, _CANONICAL_SPELLING[unit]


@dataclass(frozen=True)
class Facts:
    """One patient as the spec sees it: numbers exact, as entered."""

    mg: tuple[Decimal, str] | None
    crcl: Fraction | None
    creatinine: tuple[Decimal, str] | None
    age: Fraction | None
    sex: str | None
    weight_kg: Fraction | None
    height_cm: Fraction | None
    crcl_weight: str
    symptoms: frozenset[str]
    conditions: frozenset[str]
    dose: tuple[Decimal, str] | None
    days: Fraction | None

    @property
    def adult(self) -> bool:
        """Step 1 reads "age < 18": an unknown age is not out of scope."""
        return self.age is None or self.age >= 18

    def mg_band(self) -> tuple[bool, bool, bool] | None:
        """(severe, low, high) by the boundary rule, or None when Mg is unknown."""
        if self.mg is None:
            return None
        value, unit = self.mg
        severe, lln, uln = MG_PRINTED[unit]
        return value < severe, value < lln, value > uln

    def dose_mmol(self) -> Fraction | None:
        if self.dose is None:
            return None
        value, unit = self.dose
        return F(value) / MG_MG_PER_MMOL if unit == "mg/day" else F(value)


def read_facts(raw: dict[str, Any]) -> Facts:
    def number(key: str) -> Fraction | None:
        return None if raw.get(key) is None else F(D(str(raw[key])))

    def quantity(key: str) -> tuple[Decimal, str] | None:
        return None if raw.get(key) is None else read_quantity(raw[key])

    crcl = quantity("crcl")
    weight = quantity("weight")
    height = quantity("height")
    return Facts(
        mg=quantity("mg"),
        crcl=None if crcl is None else F(crcl[0]),
        creatinine=quantity("creatinine"),
        age=number("age"),
        sex=raw.get("sex"),
        weight_kg=None if weight is None
        else F(weight[0]) * (KG_PER_LB if weight[1] == "lb" else 1),
        height_cm=None if height is None
        else F(height[0]) * {"cm": 1, "m": 100, "in": CM_PER_IN}[height[1]],
        crcl_weight=raw.get("crcl_weight", "auto"),
        symptoms=frozenset(raw.get("symptoms", ())),
        conditions=frozenset(raw.get("conditions", ())),
        dose=quantity("current_dose"),
        days=number("days_on_dose"),
    )


# ---------------------------------------------------------------------------------------------
# The oracle: Cockcroft-Gault and the decision table
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Renal:
    """The CrCl the spec uses, how it was obtained, and which weight labels fit."""

    crcl: Fraction | None
    method: str | None
    weight_labels: frozenset[str] = frozenset()


def renal_readings(f: Facts) -> list[Renal]:
    """CrCl per spec: --crcl when given, else Cockcroft-Gault for an adult with creatinine, age,
    sex and weight. One entry per reading of the spec's ambiguities."""
    if f.crcl is not None:
        return [Renal(f.crcl, "reported")]
    if (f.creatinine is None or f.age is None or f.sex is None or f.weight_kg is None
            or f.age < 18):
        return [Renal(None, None)]
    value, unit = f.creatinine
    factors = [F(1)] if unit == "mg/dL" else list(CREATININE_MG_DL_PER_UMOL_L)
    # SPEC AMBIGUITY: Devine's "2.3 kg per inch over 60 in" says nothing below 60 in: either no
    # increment (IBW = base) or a negative one.
    short = f.height_cm is not None and f.height_cm / CM_PER_IN < 60
    clamps = [True, False] if short else [True]
    readings = []
    for factor, clamp in product(factors, clamps):
        creat = F(value) * factor
        weight, labels = cg_weight(f, clamp=clamp)
        crcl = (140 - f.age) * weight / (72 * creat)
        if f.sex == "female":
            crcl *= F("0.85")
        readings.append(Renal(crcl, "cockcroft-gault", labels))
    return readings


def cg_weight(f: Facts, *, clamp: bool) -> tuple[Fraction, frozenset[str]]:
    """The weight Cockcroft-Gault uses and the labels that describe it ("the output says which
    weight was used")."""
    actual = f.weight_kg
    assert actual is not None
    if f.height_cm is None:
        return actual, frozenset({"actual"})
    over = f.height_cm / CM_PER_IN - 60
    ibw = (F(50) if f.sex == "male" else F("45.5")) + F("2.3") * (max(over, F(0)) if clamp
                                                                   else over)
    adjusted = ibw + F("0.4") * (actual - ibw)
    candidates = {"actual": actual, "ideal": ibw, "adjusted": adjusted}
    if f.crcl_weight in candidates:
        chosen = f.crcl_weight
    else:
        bmi = actual / (f.height_cm / 100) ** 2
        if bmi < F("18.5"):
            chosen = "actual"
        elif bmi < 25:
            chosen = "ideal" if ibw < actual else "actual"
        else:
            chosen = "adjusted"
    used = candidates[chosen]
    return used, frozenset({chosen} | {k for k, w in candidates.items() if w == used})


def dose_at_least(f: Facts, limit: int) -> set[bool]:
    """Is the current dose >= limit mmol/day? One answer per reading.

    SPEC AMBIGUITY: the boundary rule is written for values "a lab prints"; no lab prints a dose.
    Readings: the exact amount; the amount as printed in mmol/day (1 decimal, so 11.96 mmol/day
    and 291 mg/day read "12.0 mmol/day"); a dose typed in mg/day against the spec's printed
    figure (291.7 mg = 12 mmol, 583.3 mg = 24 mmol)."""
    mmol = f.dose_mmol()
    if mmol is None:
        return {False}
    answers = {mmol >= limit}
    as_decimal = D(mmol.numerator) / D(mmol.denominator)
    for rounding in (ROUND_HALF_UP, ROUND_HALF_EVEN):
        answers.add(as_decimal.quantize(D("0.1"), rounding=rounding) >= limit)
    if f.dose is not None and f.dose[1] == "mg/day":
        answers.add(f.dose[0] >= DOSE_PRINTED_MG[limit])
    return answers


@dataclass(frozen=True)
class Decision:
    """What the spec says about one patient (under one reading)."""

    status: str = ""
    step: str = ""
    regimen: str | None = None  # None, "standard-start", "step-up", "caution"
    alternative: bool = False
    step_up: bool = False  # finding step-up-dose
    refractory: bool = False  # finding refractory-hypomagnesemia
    renal: Renal = Renal(None, None)
    error_field: str | None = None  # an input error is expected on this field


def decide(f: Facts, renal: Renal, at_least_12: bool, at_least_24: bool) -> Decision:
    """Clinical-spec "Decision": first matching step wins; then the regimen."""
    band = f.mg_band()
    severe, low, high = band if band is not None else (False, False, False)
    red_flags = bool(f.symptoms & RED_FLAGS)
    dose = f.dose_mmol()
    on_supplement = dose is not None and dose > 0
    days = f.days if f.days is not None else F(-1)  # unknown days never satisfy "for >= n days"
    crcl = renal.crcl

    def status() -> tuple[str, str]:
        if not f.adult:
            return "out-of-scope", "adults-only"
        if severe:
            return "urgent", "urgent-severe-mg"
        if low and red_flags:
            return "urgent", "urgent-symptomatic-low-mg"
        if band is None and red_flags:
            return "urgent", "urgent-mg-unknown-red-flags"
        if on_supplement and f.symptoms & HYPERMG_SIGNS and (band is None or high):
            return "urgent", "urgent-suspected-hypermagnesemia"
        if crcl is not None and crcl < CRCL_CONTRAINDICATED:
            return "contraindicated", "renal-contraindication"
        if high:
            return "contraindicated", "hypermagnesemia"
        if band is None:
            return "insufficient-data", "mg-unknown"
        if not low:
            return "do-not-supplement", "mg-normal"
        if crcl is None:
            return "insufficient-data", "renal-function-unknown"
        if crcl < CRCL_SEVERE:
            return "supplement-with-caution", "renal-caution-severe"
        if crcl < CRCL_REDUCED:
            return "supplement-with-caution", "renal-dose-reduction"
        return "supplement", "supplement"

    st, step = status()
    step_up = st == "supplement" and at_least_12 and days >= 7 and low
    regimen = None
    if st == "supplement":
        regimen = "step-up" if step_up else "standard-start"
    elif st == "supplement-with-caution":
        regimen = "caution"
    return Decision(
        status=st, step=step, regimen=regimen,
        alternative=bool(f.conditions & POOR_ABSORPTION),
        step_up=step_up,
        refractory=at_least_24 and days >= 14 and low,
        renal=renal,
    )


def spec_decisions(raw: dict[str, Any]) -> list[Decision]:
    """Every decision the spec allows for this raw patient (one per reading, deduplicated)."""
    f = read_facts(raw)
    if f.crcl_weight in ("ideal", "adjusted") and f.height_cm is None:
        # SPEC AMBIGUITY: the spec defines IBW from height only; an explicit ideal/adjusted
        # basis without a height cannot be honoured, so we expect it refused (field named).
        return [Decision(error_field="crcl_weight")]
    out: list[Decision] = []
    for renal, a12, a24 in product(renal_readings(f), dose_at_least(f, STANDARD_MMOL),
                                   dose_at_least(f, STEP_UP_MMOL)):
        decision = decide(f, renal, a12, a24)
        if decision not in out:
            out.append(decision)
    return out


# ---------------------------------------------------------------------------------------------
# Comparing the program with the oracle, and the safety invariants
# ---------------------------------------------------------------------------------------------

Outcome = Assessment | InputErrors


def differences(expected: Decision, got: Outcome) -> list[str]:
    """How ``got`` differs from one spec reading (empty: it matches)."""
    if expected.error_field is not None:
        if isinstance(got, InputErrors) and any(e.field == expected.error_field
                                                for e in got.errors):
            return []
        return [f"expected an input error on {expected.error_field}"]
    if isinstance(got, InputErrors):
        return [f"input refused: {got}"]
    out = []
    if got.status != expected.status:
        out.append(f"status {got.status} != {expected.status}")
    if got.decided_by != expected.step:
        out.append(f"decided_by {got.decided_by} != {expected.step}")
    r = got.regimen
    if (r is None) != (expected.regimen is None):
        out.append(f"regimen {'absent' if r is None else 'present'}, spec: {expected.regimen}")
    elif r is not None:
        mmol = r.elemental_mmol_per_day
        if expected.regimen in ("standard-start", "step-up"):
            want = STANDARD_MMOL if expected.regimen == "standard-start" else STEP_UP_MMOL
            if r.dose_basis != expected.regimen or mmol is None or abs(mmol - want) > 0.05:
                out.append(f"regimen {r.dose_basis} {mmol} mmol/day, spec: "
                           f"{expected.regimen} {want} mmol/day")
        else:
            # SPEC AMBIGUITY: supplement-with-caution: "never more than the standard start and
            # never a step-up"; no reduced figure exists. 30-60 mL/min is "reduced dose" in the
            # threshold table; 20-30 only "extreme caution", so the standard start is allowed
            # there too.
            allowed = {"reduced"} if expected.step == "renal-dose-reduction" \
                else {"reduced", "standard-start"}
            if r.dose_basis not in allowed or (mmol is not None and mmol > STANDARD_MMOL + 1e-9):
                out.append(f"regimen {r.dose_basis} {mmol} mmol/day, spec: one of "
                           f"{sorted(allowed)}, at most {STANDARD_MMOL} mmol/day")
            if r.dose_basis == "reduced" and mmol is not None:
                out.append(f"reduced dose {mmol} mmol/day: the spec has no figure to give")
        if (r.alternative is not None) != expected.alternative:
            out.append(f"glycinate alternative {'present' if r.alternative else 'absent'}, "
                       f"spec: {'present' if expected.alternative else 'absent'}")
    ids = finding_ids(got)
    for finding, wanted in (("step-up-dose", expected.step_up),
                            ("refractory-hypomagnesemia", expected.refractory)):
        if (finding in ids) != wanted:
            out.append(f"finding {finding} {'fired' if finding in ids else 'missing'}")
    d = got.derived
    if d.crcl_method != expected.renal.method:
        out.append(f"crcl_method {d.crcl_method} != {expected.renal.method}")
    want_crcl = expected.renal.crcl
    if (d.crcl_ml_min is None) != (want_crcl is None):
        out.append(f"crcl {d.crcl_ml_min}, spec: {_num(want_crcl)}")
    elif d.crcl_ml_min is not None and want_crcl is not None:
        # printed to one decimal, never rounded up (so a band is never entered by rounding)
        if not float(want_crcl) - 0.1 - 1e-9 <= d.crcl_ml_min <= float(want_crcl) + 1e-9:
            out.append(f"crcl {d.crcl_ml_min}, spec: {_num(want_crcl)}")
    if expected.renal.method == "cockcroft-gault" \
            and d.crcl_weight_basis not in expected.renal.weight_labels:
        out.append(f"crcl_weight_basis {d.crcl_weight_basis}, spec: "
                   f"{sorted(expected.renal.weight_labels)}")
    return out


def oracle_disagreement(readings: list[Decision], got: Outcome) -> str | None:
    """None when ``got`` matches some reading of the spec, else what differs (closest one)."""
    found = [differences(reading, got) for reading in readings]
    if any(not diff for diff in found):
        return None
    return "; ".join(min(found, key=len))


def safety_problems(raw: dict[str, Any], got: Outcome) -> list[str]:
    """The invariants that must hold whatever the decision table says."""
    if isinstance(got, InputErrors):
        return []  # refusing to answer is always safe; the oracle checks that it was expected
    f = read_facts(raw)
    out = []
    band = f.mg_band()
    renal = renal_readings(f)
    r = got.regimen
    if (got.status in GIVES_REGIMEN) != (r is not None):
        out.append(f"status {got.status} with regimen {'absent' if r is None else 'present'}")
    if band is not None and band[0] and f.adult and got.status != "urgent":
        out.append(f"Mg {f.mg} is below 0.50 mmol/L, status {got.status} (must be urgent)")
    if band is not None and band[0] and "severe-hypomagnesemia" not in finding_ids(got):
        out.append("Mg below 0.50 mmol/L without the severe-hypomagnesemia finding")
    if r is None:
        return out
    if band is None:
        out.append("regimen with Mg unknown")
    elif band[2]:
        out.append("regimen with Mg above the ULN")
    elif not band[1]:
        out.append("regimen with Mg not below the LLN")
    if got.derived.crcl_ml_min is None or all(x.crcl is None for x in renal):
        out.append("regimen with renal function unknown")
    elif got.derived.crcl_ml_min < CRCL_CONTRAINDICATED or all(
            x.crcl is not None and x.crcl < CRCL_CONTRAINDICATED for x in renal):
        out.append(f"regimen with CrCl {got.derived.crcl_ml_min} < {CRCL_CONTRAINDICATED}")
    out += regimen_cap_problems(got)
    return out


def regimen_cap_problems(got: Assessment) -> list[str]:
    """Never above magnesium oxide 1,500 mg/day (~37.2 mmol, ~905 mg elemental); 24 mmol/day at
    most (step-up); with caution, never above the standard start; labels side by side agree."""
    r = got.regimen
    assert r is not None
    out = []
    cap_mmol, cap_mg = float(CAP_MMOL), float(CAP_ELEMENTAL_MG)
    if r.max_product_mg_per_day > MGO_CAP_MG + 1e-9:
        out.append(f"max product {r.max_product_mg_per_day} mg/day > {MGO_CAP_MG}")
    if r.max_elemental_mmol_per_day > cap_mmol + 0.05:
        out.append(f"max elemental {r.max_elemental_mmol_per_day} mmol/day > {cap_mmol:.2f}")
    if r.max_elemental_mg_per_day > cap_mg + 0.5:
        out.append(f"max elemental {r.max_elemental_mg_per_day} mg/day > {cap_mg:.1f}")
    mmol = r.elemental_mmol_per_day
    limit = STANDARD_MMOL if got.status == "supplement-with-caution" else STEP_UP_MMOL
    if got.status == "supplement-with-caution" and r.dose_basis == "step-up":
        out.append("step-up dose with supplement-with-caution")
    if got.status == "supplement-with-caution" and r.max_elemental_mmol_per_day > limit + 0.05:
        out.append(f"caution ceiling {r.max_elemental_mmol_per_day} mmol/day > {limit}")
    if mmol is not None:
        if mmol > limit + 1e-9 or mmol > r.max_elemental_mmol_per_day + 1e-9:
            out.append(f"dose {mmol} mmol/day above {limit} or the regimen's own maximum")
        if r.elemental_mg_per_day is None or r.product_mg_per_day is None:
            out.append("dose in mmol/day without the elemental and product amounts")
        else:
            if abs(r.elemental_mg_per_day - mmol * float(MG_MG_PER_MMOL)) > 0.1:
                out.append(f"elemental {r.elemental_mg_per_day} mg != {mmol} mmol")
            if abs(r.product_mg_per_day - mmol * float(MGO_MG_PER_MMOL)) > 0.6:
                out.append(f"magnesium oxide {r.product_mg_per_day} mg != {mmol} mmol")
            if r.product_mg_per_day > MGO_CAP_MG + 1e-9:
                out.append(f"magnesium oxide {r.product_mg_per_day} mg/day > {MGO_CAP_MG}")
    if r.alternative is not None and r.alternative.elemental_mmol_per_day_max > cap_mmol + 0.05:
        out.append(f"alternative up to {r.alternative.elemental_mmol_per_day_max} mmol/day")
    return out


def _num(x: Fraction | None) -> str:
    return "None" if x is None else f"{float(x):.4f}"


def describe_expected(d: Decision) -> str:
    if d.error_field is not None:
        return f"input error on {d.error_field}"
    return (f"{d.status} by {d.step}; regimen {d.regimen}; alternative {d.alternative}; "
            f"step-up-dose {d.step_up}; refractory {d.refractory}; crcl {_num(d.renal.crcl)} "
            f"({d.renal.method}, {sorted(d.renal.weight_labels)})")


def describe_got(got: Outcome) -> str:
    if isinstance(got, InputErrors):
        return f"input error: {got}"
    r = got.regimen
    regimen = "None" if r is None else (
        f"{r.dose_basis} {r.elemental_mmol_per_day} mmol/day "
        f"(max {r.max_elemental_mmol_per_day}), alternative {r.alternative is not None}")
    ids = finding_ids(got)
    return (f"{got.status} by {got.decided_by}; regimen {regimen}; "
            f"step-up-dose {'step-up-dose' in ids}; "
            f"refractory {'refractory-hypomagnesemia' in ids}; "
            f"crcl {got.derived.crcl_ml_min} ({got.derived.crcl_method}, "
            f"{got.derived.crcl_weight_basis})")


def report_line(index: int, raw: dict[str, Any], readings: list[Decision], got: Outcome,
                problem: str) -> str:
    spec = "\n      or ".join(describe_expected(d) for d in readings)
    return (f"#{index} {json.dumps(raw, ensure_ascii=False)}\n"
            f"    problem: {problem}\n    spec: {spec}\n    got:  {describe_got(got)}")


# ---------------------------------------------------------------------------------------------
# The population
# ---------------------------------------------------------------------------------------------

def _text(value: Decimal) -> str:
    return format(value.normalize() if value == value.to_integral() else value, "f")


class Generator:
    """Draws raw patients (JSON-input shape) from one ``random.Random``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items: Any) -> Any:
        return self.rng.choice(list(items))

    def decimal(self, low: float, high: float, places: int) -> Decimal:
        scale = 10 ** places
        return D(self.rng.randint(round(low * scale), round(high * scale))).scaleb(-places)

    def quantity(self, value: Decimal, unit: str) -> Any:
        """Written the ways the spec allows: "0.62 mmol/L", "1.5mg/dL", {"value", "unit"}."""
        spelled = self.pick(SPELLINGS[unit])
        style = self.rng.random()
        if style < 0.08:
            return {"value": float(value), "unit": spelled}
        if style < 0.16:
            return f"{_text(value)}{spelled}"
        return f"{_text(value)} {spelled}"

    # --- fields -------------------------------------------------------------------------------

    def mg(self) -> Any:
        if self.chance(0.08):
            return None
        unit = self.pick(UNITS["mg"])
        places = MG_DECIMALS[unit]
        step = D(1).scaleb(-places)
        per = MG_PER_MMOL_L[unit]
        while True:
            roll = self.rng.random()
            if roll < 0.40:  # on a printed limit or one or two printed steps away
                value = self.pick(MG_PRINTED[unit]) + self.pick([0, 0, 0, -1, 1, -2, 2]) * step
            elif roll < 0.52:  # finer than labs print, right next to a limit
                limit = self.pick(range(3))
                canonical = MG_CANONICAL[limit] * per
                printed = MG_PRINTED[unit][limit]
                value = self.pick([
                    canonical, canonical.quantize(D("0.001")), printed - step / 10,
                    printed + step / 10, printed - step / 2, printed + step / 2,
                    (canonical + printed) / 2,
                ]).quantize(D("0.00001")).normalize()
            elif roll < 0.90:  # anywhere clinically usual, at lab precision
                value = (self.decimal(0.15, 1.4, 4) * per).quantize(step)
            else:  # anywhere plausible, more decimals than labs print
                value = (self.decimal(0.1, 5.0, 4) * per).quantize(D("0.001"))
            if MG_PLAUSIBLE[0] <= value / per <= MG_PLAUSIBLE[1]:
                return self.quantity(value, unit)

    def crcl(self) -> Any:
        if self.chance(0.5):
            value = D(self.pick([CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED])) + D(
                self.pick(["0", "0", "0", "-1", "1", "-0.1", "0.1", "-0.5", "0.5", "-0.01"]))
        elif self.chance(0.7):
            value = D(self.rng.randint(1, 250))
        else:
            value = self.decimal(1, 250, 1)
        return self.quantity(value, "mL/min")

    def age(self) -> Any:
        roll = self.rng.random()
        if roll < 0.06:
            return None
        if roll < 0.16:
            return self.pick([0, 1, 5, 12, 16, 17, 17, "17.9", "17.5", self.rng.randint(0, 17)])
        if roll < 0.24:
            return self.pick([18, 18, "18", "18.0", 64, 65, 65])
        return self.rng.randint(18, 100)

    def creatinine(self) -> Any:
        if self.chance(0.55):
            value = D(round(10 ** self.rng.uniform(-0.6, 1.0), 2)).quantize(D("0.01")) \
                if self.chance(0.9) else self.decimal(0.1, 25, 2)
            return self.quantity(max(value, D("0.10")), "mg/dL")
        value = D(round(10 ** self.rng.uniform(1.55, 2.95))) if self.chance(0.9) \
            else D(self.rng.randint(9, 2210))
        return self.quantity(value, "umol/L")

    def weight(self) -> Any:
        if self.chance(0.6):
            value = self.decimal(40, 160, 1) if self.chance(0.9) else self.decimal(20, 400, 1)
            return self.quantity(value, "kg")
        pounds = self.rng.randint(90, 350) if self.chance(0.9) else self.rng.randint(45, 880)
        return self.quantity(D(pounds), "lb")

    def height(self) -> Any:
        cm = self.rng.randint(150, 200) if self.chance(0.85) else self.rng.randint(100, 152)
        unit = self.pick(UNITS["height"])
        if unit == "cm":
            return self.quantity(D(cm), "cm")
        if unit == "m":
            return self.quantity(D(cm).scaleb(-2), "m")
        return self.quantity(D(max(40, round(cm / 2.54))), "in")

    def dose(self) -> Any:
        if self.chance(0.55):
            if self.chance(0.5):
                value = D(self.pick(["0", "0.04", "0.1", "11.9", "11.94", "11.95", "11.96", "12",
                                     "12.0", "12.04", "12.1", "23.9", "23.95", "24", "24.1"]))
            else:
                value = self.decimal(0, 60, 1)
            return self.quantity(value, "mmol/day")
        if self.chance(0.5):
            value = D(self.pick(["0", "1", "290", "290.4", "290.5", "291", "291.6", "291.7",
                                 "292", "582", "583", "583.3", "584"]))
        else:
            value = D(self.rng.randint(0, 1458))
        return self.quantity(value, "mg/day")

    def potassium(self) -> Any:
        unit = self.pick(UNITS["k"])
        value = K_LLN + D(self.pick(["0", "-0.1", "0.1", "-0.05"])) if self.chance(0.4) \
            else self.decimal(2.0, 6.5, 1)
        return self.quantity(value, unit)

    def calcium(self) -> Any:
        unit = self.pick(UNITS["ca"])
        mmol = self.decimal(1.6, 3.0, 2)
        value = {"mmol/L": mmol, "mEq/L": (mmol * 2).quantize(D("0.1")),
                 "mg/dL": (mmol * D("4.0078")).quantize(D("0.1"))}[unit]
        return self.quantity(value, unit)

    def subset(self, items: list[str], most: int) -> list[str]:
        return self.rng.sample(items, self.rng.randint(1, most))

    # --- patients -----------------------------------------------------------------------------

    def patient(self, index: int) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        if self.chance(0.03):
            raw["id"] = f"pop-{index}"
        fields = {
            "mg": self.mg(),
            "k": self.potassium() if self.chance(0.5) else None,
            "ca": self.calcium() if self.chance(0.25) else None,
            "crcl": self.crcl() if self.chance(0.35) else None,
            "creatinine": self.creatinine() if self.chance(0.8) else None,
            "age": self.age(),
            "sex": self.pick(["female", "male"]) if self.chance(0.92) else None,
            "weight": self.weight() if self.chance(0.88) else None,
            "height": self.height() if self.chance(0.5) else None,
        }
        raw.update({k: v for k, v in fields.items() if v is not None})
        roll = self.rng.random()
        if roll < 0.11:
            self.cockcroft_gault_on_a_limit(raw)
        elif roll < 0.16:
            self.bmi_on_a_limit(raw)
        if self.chance(0.3):
            choices = ["auto", "actual"] + (["ideal", "adjusted"] * 2 if "height" in raw else [])
            raw["crcl_weight"] = self.pick(choices)
        elif "height" not in raw and self.chance(0.01):
            raw["crcl_weight"] = self.pick(["ideal", "adjusted"])  # an input error, per spec
        if self.chance(0.45):
            raw["current_dose"] = self.dose()
            if self.chance(0.88):
                raw["days_on_dose"] = self.pick([0, 6, 7, 13, 14, 15]) if self.chance(0.4) \
                    else self.rng.randint(0, 400)
        elif self.chance(0.04):
            raw["days_on_dose"] = self.rng.randint(0, 60)
        if self.chance(0.5):
            raw["symptoms"] = self.subset(SYMPTOMS, 3)
        if self.chance(0.5):
            raw["meds"] = self.subset(MED_CLASSES + DRUG_NAMES, 3)
        if self.chance(0.45):
            raw["conditions"] = self.subset(CONDITIONS, 2)
        if self.chance(0.6):
            raw["indication"] = self.pick(INDICATIONS)
        return raw

    def cockcroft_gault_on_a_limit(self, raw: dict[str, Any]) -> None:
        """Creatinine, age, sex and weight whose Cockcroft-Gault CrCl is exactly 20, 30 or 60
        mL/min (actual weight), sometimes nudged just off it."""
        for key in ("crcl", "height", "crcl_weight"):
            raw.pop(key, None)
        limit = self.pick([CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED])
        for _ in range(400):
            age = self.rng.randint(18, 100)
            sex = self.pick(["female", "male"])
            creat = self.decimal(0.3, 8.0, 2)
            weight = F(72 * limit) * F(creat) / ((140 - age) * (F("0.85") if sex == "female"
                                                               else 1))
            if 20 <= weight <= 400 and (weight * 100).denominator == 1:
                break
        else:
            age, sex, creat, weight = 68, "male", D("3.00"), F(3 * limit)  # 72 x w / (72 x 3)
        kg = D(weight.numerator) / D(weight.denominator)
        if self.chance(0.35):
            kg += self.pick([D("-0.1"), D("0.1"), D("-0.01"), D("0.01")])
        raw.update(age=age, sex=sex, weight=self.quantity(kg, "kg"),
                   creatinine=self.quantity(creat, "mg/dL"))
        if self.chance(0.3):
            raw["height"] = self.quantity(D(self.rng.randint(150, 200)), "cm")
            raw["crcl_weight"] = "actual"

    def bmi_on_a_limit(self, raw: dict[str, Any]) -> None:
        """Weight and height whose BMI is exactly 18.5 or 25 (the weight-basis bands)."""
        raw.pop("crcl", None)
        raw.pop("crcl_weight", None)
        cm = D(self.rng.randint(150, 200))
        kg = D(self.pick(["18.5", "25"])) * (cm / 100) ** 2
        if self.chance(0.3):
            kg += self.pick([D("-0.01"), D("0.01")])
        raw["height"] = self.quantity(cm, "cm") if self.chance(0.5) \
            else self.quantity(cm.scaleb(-2), "m")
        raw["weight"] = self.quantity(kg.normalize(), "kg")
        raw.setdefault("creatinine", self.creatinine())
        raw["age"] = self.rng.randint(18, 100)
        raw["sex"] = self.pick(["female", "male"])


def make_population(size: int, seed: int) -> list[dict[str, Any]]:
    generator = Generator(seed)
    return [generator.patient(i) for i in range(size)]


@dataclass
class Case:
    index: int
    raw: dict[str, Any]
    readings: list[Decision]
    got: Outcome


@dataclass
class Population:
    cases: list[Case]
    generate_s: float
    engine_s: float
    oracle_s: float


def run_engine(raw: dict[str, Any], rules: RuleSet) -> Outcome:
    try:
        return evaluate(parse_patient(raw, rules), rules)
    except InputErrors as error:
        return error


@pytest.fixture(scope="module")
def population(rules: RuleSet) -> Population:
    t0 = time.perf_counter()
    raws = make_population(POPULATION, SEED)
    t1 = time.perf_counter()
    outcomes = [run_engine(raw, rules) for raw in raws]
    t2 = time.perf_counter()
    readings = [spec_decisions(raw) for raw in raws]
    t3 = time.perf_counter()
    cases = [Case(i, raw, r, got)
             for i, (raw, r, got) in enumerate(zip(raws, readings, outcomes, strict=True))]
    return Population(cases, t1 - t0, t2 - t1, t3 - t2)


def collect(cases: list[Case], check: Callable[[Case], str | None]) -> Iterator[str]:
    for case in cases:
        problem = check(case)
        if problem:
            yield report_line(case.index, case.raw, case.readings, case.got, problem)


def fail_with(problems: list[str], what: str, total: int) -> None:
    if problems:
        shown = "\n".join(problems[:SHOWN])
        pytest.fail(f"{len(problems)} of {total} patients {what} (seed {SEED}; first "
                    f"{min(SHOWN, len(problems))} shown):\n{shown}", pytrace=False)


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

def test_population_follows_the_spec_oracle(population: Population) -> None:
    problems = list(collect(population.cases,
                            lambda c: oracle_disagreement(c.readings, c.got)))
    fail_with(problems, "disagree with the spec oracle", len(population.cases))


def test_population_safety_invariants(population: Population) -> None:
    problems = list(collect(population.cases,
                            lambda c: "; ".join(safety_problems(c.raw, c.got)) or None))
    fail_with(problems, "break a safety invariant", len(population.cases))


def test_population_reaches_every_status_and_step(population: Population) -> None:
    """The generator is not vacuous: every status, every step, every printed limit in every
    unit, and CrCl exactly on each limit (reported and derived) occur."""
    if POPULATION < 2000:
        pytest.skip("coverage is only asserted for populations of 2000 or more")
    statuses: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    on_limit: Counter[str] = Counter()
    bases: Counter[str] = Counter()
    ambiguous = errors = 0
    for case in population.cases:
        got = case.got
        if isinstance(got, InputErrors):
            errors += 1
            continue
        statuses[str(got.status)] += 1
        steps[got.decided_by] += 1
        bases[str(got.regimen.dose_basis) if got.regimen else "none"] += 1
        ambiguous += len(case.readings) > 1
        facts = read_facts(case.raw)
        if facts.mg is not None and facts.mg[0] in MG_PRINTED[facts.mg[1]]:
            value, unit = facts.mg
            printed = MG_PRINTED[unit][MG_PRINTED[unit].index(value)]  # "0.5" counts as 0.50
            on_limit[f"mg {printed} {unit}"] += 1
        renal = case.readings[0].renal
        if renal.crcl in (CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED):
            on_limit[f"crcl {renal.crcl} {renal.method}"] += 1
    print(f"\npopulation {len(population.cases)} seed {SEED}: generate "
          f"{population.generate_s:.2f} s, engine {population.engine_s:.2f} s, oracle "
          f"{population.oracle_s:.2f} s; {ambiguous} patients with more than one spec reading; "
          f"{errors} input errors")
    print("statuses:", dict(statuses.most_common()))
    print("steps:", dict(steps.most_common()))
    print("on a limit:", dict(sorted(on_limit.items())))
    print("dose basis:", dict(bases.most_common()))
    assert set(statuses) == set(STATUSES), statuses
    assert set(steps) == set(STEPS), steps
    wanted = {f"mg {v} {unit}" for unit, limits in MG_PRINTED.items() for v in limits}
    wanted |= {f"crcl {v} {m}" for v in (20, 30, 60) for m in ("reported", "cockcroft-gault")}
    assert wanted <= set(on_limit), sorted(wanted - set(on_limit))
    assert min(statuses.values()) >= 10 and min(steps.values()) >= 10, (statuses, steps)
    assert {"standard-start", "step-up", "reduced"} <= set(bases), bases


def test_the_printed_limits_are_the_canonical_limits_rounded() -> None:
    """The spec's table of printed limits is its own boundary rule applied (convert the limit
    into the unit, round to the unit's reporting precision)."""
    for unit, printed in MG_PRINTED.items():
        step = D(1).scaleb(-MG_DECIMALS[unit])
        rounded = tuple((limit * MG_PER_MMOL_L[unit]).quantize(step, rounding=ROUND_HALF_UP)
                        for limit in MG_CANONICAL)
        assert rounded == printed, unit


def test_the_population_is_deterministic() -> None:
    assert make_population(300, SEED) == make_population(300, SEED)
    assert make_population(300, SEED) != make_population(300, SEED + 1)


def test_the_oracle_reads_the_spec_examples() -> None:
    """The oracle itself, on the spec's own worked boundaries (no program involved)."""
    def band(text: str) -> tuple[bool, bool, bool] | None:
        return read_facts({"mg": text}).mg_band()

    for text in ("0.70 mmol/L", "1.7 mg/dL", "1.4 mEq/L", "1.4meq/l"):
        assert band(text) == (False, False, False), text
    for text in ("0.69 mmol/L", "1.6 mg/dL", "1.3 mEq/L", "0.69mmol/l"):
        assert band(text) == (False, True, False), text
    assert band("0.49 mmol/L") == (True, True, False)
    assert band("1.2 mg/dL") == (False, True, False)
    assert band("2.6 mg/dL") == (False, False, False)
    assert band("2.7 mg/dL") == (False, False, True)
    # CG: (140 - 68) x 60 / (72 x 3.00) = 20 exactly; x 0.85 for a woman
    man = {"mg": "0.6 mmol/L", "age": 68, "sex": "male", "weight": "60 kg",
           "creatinine": "3.00 mg/dL"}
    [decision] = spec_decisions(man)
    assert decision.renal.crcl == 20
    assert (decision.status, decision.step) == ("supplement-with-caution", "renal-caution-severe")
    [woman] = spec_decisions({**man, "sex": "female"})
    assert woman.renal.crcl == 17
    assert woman.step == "renal-contraindication"
    umol = spec_decisions({**man, "creatinine": "265 umol/L"})
    assert [float(d.renal.crcl) for d in umol] == pytest.approx([20.015, 20.015], abs=1e-3)


def test_the_checks_can_fail(assess: Callable[..., Assessment]) -> None:
    """Mutated assessments are caught, so a passing population run means something."""
    raw = {"mg": "0.6 mmol/L", "crcl": "90 mL/min", "current_dose": "12 mmol/day",
           "days_on_dose": 10, "conditions": ["chronic-diarrhea"]}
    readings = spec_decisions(raw)
    good = assess(**raw)
    assert oracle_disagreement(readings, good) is None
    assert safety_problems(raw, good) == []
    assert good.regimen is not None

    wrong_status = replace(good, status="do-not-supplement")
    assert "status" in (oracle_disagreement(readings, wrong_status) or "")
    assert safety_problems(raw, wrong_status)
    wrong_step = replace(good, decided_by="renal-dose-reduction")
    assert "decided_by" in (oracle_disagreement(readings, wrong_step) or "")
    no_regimen = replace(good, regimen=None)
    assert "regimen" in (oracle_disagreement(readings, no_regimen) or "")
    assert safety_problems(raw, no_regimen)
    over_cap = replace(good, regimen=replace(good.regimen, elemental_mmol_per_day=48.0,
                                             product_mg_per_day=48 * 40.304))
    assert any("above" in p or "1500" in p for p in safety_problems(raw, over_cap))
    no_alternative = replace(good, regimen=replace(good.regimen, alternative=None))
    assert "alternative" in (oracle_disagreement(readings, no_alternative) or "")

    severe = {"mg": "1.1 mg/dL", "crcl": "90 mL/min"}  # < 1.2 mg/dL: severe
    severe_got = assess(**severe)
    unsafe = replace(severe_got, status="supplement", decided_by="supplement",
                     regimen=good.regimen)
    problems = safety_problems(severe, unsafe)
    assert any("must be urgent" in p for p in problems), problems
    renal = {"mg": "0.6 mmol/L", "crcl": "19 mL/min"}
    unsafe_renal = replace(assess(**renal), status="supplement", regimen=good.regimen)
    assert any("CrCl" in p for p in safety_problems(renal, unsafe_renal))

    # the collector shows the raw patient and both answers
    case = Case(7, raw, readings, wrong_status)
    [line] = collect([case], lambda c: oracle_disagreement(c.readings, c.got))
    assert line.startswith("#7 ") and '"mg": "0.6 mmol/L"' in line
    assert "spec: supplement by supplement" in line and "got:  do-not-supplement" in line
