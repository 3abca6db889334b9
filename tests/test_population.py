"""A large deterministic population of patients, each checked against safety invariants and an
independent oracle of clinical-spec.md's decision table, revision 2 (issues 6 and 13).

The population is drawn with ``random.Random(seed)``, not hypothesis, so that 10,000 patients fit
in one CI run: ``MGASSIST_POPULATION`` sets the size (default 10000) and
``MGASSIST_POPULATION_SEED`` the seed. It mixes every unit each quantity accepts (and the
spellings the spec allows), values exactly on and right next to every threshold as printed in each
unit (Mg 0.50 / 0.70 / 1.05 / 2.0 mmol/L, K 2.5 / 3.5 / 5.5 / 6.5, albumin-adjusted Ca 1.90 /
2.20), values anywhere in the plausible range, missing fields, reported and Cockcroft-Gault CrCl
(on 20/30/60, and pairs on both sides of the 25 % discrepancy), eGFR with and without a bound
(">60") on and next to 20/30/60, eGFR-only patients around 75 years and BMI 18 and 40, children,
pregnancy, pre-eclampsia, dialysis, acute kidney injury, symptoms, indications, current doses
on and next to 6, 12 and 24 mmol/day, and days on them, and medication lists drawn from every
class of revision 2 (by class id, generic or brand name, in any case; magnesium-containing
medicines with and without a current dose) mixed with medicines no class includes
(atorvastatin, metformin...).

The oracle below is written from the spec alone. It parses the raw input itself, keeps entered
numbers exact (``Decimal``/``Fraction``), applies the boundary rule (a value is compared, as
entered, with the limit as printed in the unit entered; revision 2's "≥" limits include the
printed limit) and walks revision 2's steps in order (1a-1k red flags, then 2-12). Where the spec
can be read more than one way the oracle enumerates every reading (``Readings``, ``SPEC
AMBIGUITY`` comments) and accepts any of them; ``test_population_reaches_every_status_and_step``
reports how often that happened. Nothing here is copied from the rules or the engine.

For every patient the program must match some reading in status, deciding step, regimen (dose
basis and dose), monitoring, every finding whose trigger the spec states (the medication findings
of revision 2 included: risk-factors-present, review-ppi, digoxin-risk,
magnesium-containing-medicine, separate-dosing, medication-not-recognised), the renal value used
and its source, and the values echoed in ``derived`` (``meds_not_recognised`` too); and,
whatever the table says, the safety invariants hold: no regimen under a red flag (or with Mg,
renal function or the MHRA exception against it), never a dose above its cap (24 mmol/day; 12
for a renal value of 30-59; 6 for 20-29; magnesium oxide 1,500 mg/day), stop-magnesium whenever
a contraindicated or hypermagnesaemic patient takes magnesium (a current dose or a
magnesium-containing medicine; pre-eclampsia aside), maintain only on a current dose,
out-of-scope-age for every child, and every red flag urgent (Mg < 0.50 mmol/L included) unless
pre-eclampsia.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, TypeVar

import pytest
from conftest import finding_ids

# The spec's vocabulary, written out once for both oracles (test_properties.py).
from test_properties import (
    CONDITIONS,
    CONFUSION,
    HYPERMG_SIGNS,
    INDICATIONS,
    INTERACTING_MEDS,
    MED_CLASSES,
    MED_FINDING_SEVERITY,
    MED_NAMES,
    MG_SOURCE,
    NEUROMUSCULAR,
    POOR_ABSORPTION,
    RED_FLAGS,
    SPASM_INDICATIONS,
    SYMPTOMS,
    UNRECOGNISED_MEDS,
    med_class,
    risk_factors,
)

from mgassist import (
    Assessment,
    InputErrors,
    RuleSet,
    Severity,
    Status,
    evaluate,
    parse_patient,
)

POPULATION = int(os.environ.get("MGASSIST_POPULATION", "10000"))
SEED = int(os.environ.get("MGASSIST_POPULATION_SEED", "20261106"))
SHOWN = 20  # mismatches printed in full when the population disagrees

D = Decimal
F = Fraction
T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# The spec, written out (clinical-spec.md, "Units and thresholds", revision 2)
# ---------------------------------------------------------------------------------------------

# Mg limits as labs print them, per unit: (severe, LLN, ULN, severe hypermagnesaemia). The spec's
# own table, and revision 2 step 1f "Mg ≥ 2.0 mmol/L (as printed: 4.9 mg/dL, 4.0 mEq/L)".
MG_PRINTED: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = {
    "mmol/L": (D("0.50"), D("0.70"), D("1.05"), D("2.00")),
    "mEq/L": (D("1.0"), D("1.4"), D("2.1"), D("4.0")),
    "mg/dL": (D("1.2"), D("1.7"), D("2.6"), D("4.9")),
}
MG_CANONICAL = (D("0.50"), D("0.70"), D("1.05"), D("2.0"))  # mmol/L
# value in the unit for 1 mmol/L: 1 mmol/L = 2 mEq/L = 2.4305 mg/dL
MG_PER_MMOL_L: dict[str, Decimal] = {"mmol/L": D(1), "mEq/L": D(2), "mg/dL": D("2.4305")}
# "reporting precision — mmol/L 2 decimals, mg/dL and mEq/L 1 decimal" (for every analyte)
DECIMALS = {"mmol/L": 2, "mEq/L": 1, "mg/dL": 1}
MG_PLAUSIBLE = (D("0.1"), D("5"))  # mmol/L

# K: 1 mmol/L = 1 mEq/L, so the limits print the same in both units.
K_SEVERE_LOW, K_LLN, K_ULN, K_SEVERE_HIGH = D("2.5"), D("3.5"), D("5.5"), D("6.5")

# Ca: 40.078 g/mol, divalent: 1 mmol/L = 2 mEq/L = 4.0078 mg/dL.
CA_PER_MMOL_L: dict[str, Fraction] = {"mmol/L": F(1), "mEq/L": F(2), "mg/dL": F("4.0078")}
# Payne: adjusted Ca (mg/dL) = Ca (mg/dL) - albumin (g/dL) + 4.0, "computed through the units":
# in another unit the correction (4.0 - albumin g/dL) mg/dL is worth this much of that unit.
CA_PER_MG_DL: dict[str, Fraction] = {u: per / F("4.0078") for u, per in CA_PER_MMOL_L.items()}
CA_CANONICAL = (D("1.90"), D("2.20"))  # severe-hypocalcemia (adjusted), hypocalcaemia
CA_PRINTED: dict[str, tuple[Decimal, Decimal]] = {  # the boundary rule applied, checked below
    "mmol/L": (D("1.90"), D("2.20")),
    "mEq/L": (D("3.8"), D("4.4")),
    "mg/dL": (D("7.6"), D("8.8")),
}
ALBUMIN_G_DL_PER_G_L = F(1, 10)

CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED = 20, 30, 60  # mL/min, also eGFR
MHRA_AGE, MHRA_BMI_LOW, MHRA_BMI_HIGH = 75, 18, 40

# SPEC AMBIGUITY: "113.12 g/mol, so 1 mg/dL = 88.4 umol/L". 113.12 g/mol gives 88.4017; both are
# readings of the spec (mg/dL per umol/L below).
CREATININE_MG_DL_PER_UMOL_L = (1 / F("88.4"), F("113.12") / 10_000)
KG_PER_LB = F("0.45359237")
CM_PER_IN = F("2.54")

MG_MG_PER_MMOL = F("24.305")
MGO_MG_PER_MMOL = F("24.305") + F("15.999")
REDUCED_MMOL, STANDARD_MMOL, STEP_UP_MMOL = 6, 12, 24
# the spec prints these doses in mg elemental as 145.8, 291.7 and 583.3
DOSE_PRINTED_MG = {0: D(0), REDUCED_MMOL: D("145.8"), STANDARD_MMOL: D("291.7"),
                   STEP_UP_MMOL: D("583.3")}
MGO_CAP_MG = 1500
CAP_MMOL = F(MGO_CAP_MG) / MGO_MG_PER_MMOL  # ~37.2 mmol
CAP_ELEMENTAL_MG = CAP_MMOL * MG_MG_PER_MMOL  # ~905 mg

STATUSES = ("out-of-scope", "urgent", "contraindicated", "insufficient-data", "maintain",
            "do-not-supplement", "supplement-with-caution", "supplement")
URGENT_STEPS = ("urgent-severe-mg", "urgent-symptomatic-low-mg", "urgent-neuromuscular-low-mg",
                "urgent-mg-unknown-red-flags", "urgent-symptomatic-hypermagnesemia",
                "urgent-severe-hypermagnesemia", "urgent-suspected-hypermagnesemia",
                "urgent-severe-hypokalemia", "urgent-severe-hyperkalemia",
                "urgent-severe-hypocalcemia", "urgent-possible-eclampsia")
STEPS = URGENT_STEPS + (
    "adults-only", "pre-eclampsia", "dialysis", "renal-contraindication", "hypermagnesemia",
    "renal-function-unstable", "mg-unknown", "maintain-renal-unknown",
    "maintain-egfr-not-for-dosing", "maintain", "mg-normal", "renal-function-unknown",
    "egfr-not-for-dosing", "renal-caution-severe", "renal-dose-reduction",
    "supplement-at-maximum", "supplement-step-up", "supplement")
GIVES_REGIMEN = {"supplement", "supplement-with-caution"}
GIVES_MONITORING = GIVES_REGIMEN | {"maintain"}
# the findings that say a patient is hypermagnesaemic ("any hypermagnesaemia finding")
HYPERMG_FINDINGS = frozenset({"hypermagnesemia", "symptomatic-hypermagnesemia",
                              "severe-hypermagnesemia", "suspected-hypermagnesemia"})
RED_FLAG_FINDINGS = frozenset({
    "severe-hypomagnesemia", "symptomatic-hypomagnesemia", "symptomatic-hypermagnesemia",
    "severe-hypermagnesemia", "suspected-hypermagnesemia", "severe-hypokalemia",
    "severe-hyperkalemia", "severe-hypocalcemia", "possible-eclampsia"})

# Revision 2's medication vocabulary (every class of "New medication classes" and revision 1's,
# each by class id and a few generic and brand names, and medicines no class includes) is
# written out once, in test_properties.py: MED_NAMES, MED_CLASSES, med_class, RISK_FACTOR_MEDS,
# INTERACTING_MEDS, MG_SOURCE, UNRECOGNISED_MEDS.

# Accepted units per quantity and spellings a clinician may type ("case-insensitive: mg/dl,
# mmol/l, meq/L, umol/L, µmol/L"; eGFR "also mL/min/1.73 m², UCUM mL/min/{1.73_m2}").
EGFR_UNIT = "mL/min/1.73m2"
UNITS: dict[str, tuple[str, ...]] = {
    "mg": ("mmol/L", "mEq/L", "mg/dL"),
    "k": ("mmol/L", "mEq/L"),
    "ca": ("mmol/L", "mEq/L", "mg/dL"),
    "albumin": ("g/L", "g/dL"),
    "creatinine": ("mg/dL", "umol/L"),
    "crcl": ("mL/min",),
    "egfr": (EGFR_UNIT,),
    "weight": ("kg", "lb"),
    "height": ("cm", "in", "m"),
    "current_dose": ("mmol/day", "mg/day"),
}
SPELLINGS: dict[str, tuple[str, ...]] = {
    "mmol/L": ("mmol/L", "mmol/l", "MMOL/L"),
    "mEq/L": ("mEq/L", "meq/L", "meq/l"),
    "mg/dL": ("mg/dL", "mg/dl", "MG/DL"),
    "g/L": ("g/L", "g/l"),
    "g/dL": ("g/dL", "g/dl"),
    "umol/L": ("umol/L", "umol/l", "µmol/L"),
    "mL/min": ("mL/min", "ml/min"),
    EGFR_UNIT: (EGFR_UNIT, "mL/min/1.73 m²", "mL/min/{1.73_m2}"),
    "kg": ("kg", "KG"),
    "lb": ("lb",),
    "cm": ("cm",),
    "in": ("in",),
    "m": ("m",),
    "mmol/day": ("mmol/day",),
    "mg/day": ("mg/day",),
}
_CANONICAL_SPELLING = {s.replace("µ", "u").lower(): unit
                       for unit, spelled in SPELLINGS.items() for s in spelled}
# "a bound as labs print it": FHIR's comparators, and the signs labs print
COMPARATORS = {">": ">", "<": "<", ">=": ">=", "<=": "<=", "≥": ">=", "≤": "<="}


# ---------------------------------------------------------------------------------------------
# Readings: every way the spec can be read, enumerated
# ---------------------------------------------------------------------------------------------

class Readings:
    """One walk of the oracle under one reading of the spec's ambiguities.

    ``choose(key, options)`` is a point where the spec allows several answers: within one walk
    a key always gets the same answer (one reading is one consistent choice), and
    ``every_reading`` walks again until every combination of the choices actually met has been
    tried. Options that agree are merged, so an unambiguous patient is walked once."""

    def __init__(self, path: Sequence[int]) -> None:
        self.path = path
        self.picks: list[tuple[int, int]] = []  # (option taken, options offered)
        self.taken: dict[str, Any] = {}
        self.keys: list[str] = []

    def choose(self, key: str, options: Sequence[T]) -> T:
        if key in self.taken:
            return self.taken[key]  # type: ignore[no-any-return]
        distinct = list(dict.fromkeys(options))
        if len(distinct) == 1:
            value = distinct[0]
        else:
            at = len(self.picks)
            index = self.path[at] if at < len(self.path) else 0
            self.picks.append((index, len(distinct)))
            self.keys.append(key)
            value = distinct[index]
        self.taken[key] = value
        return value


def every_reading(walk: Callable[[Readings], T]) -> tuple[list[T], set[str]]:
    """``walk`` under every reading (deduplicated), and the ambiguities that were met."""
    results: list[T] = []
    keys: set[str] = set()
    path: list[int] = []
    while True:
        readings = Readings(path)
        result = walk(readings)
        if result not in results:
            results.append(result)
        keys.update(readings.keys)
        trail = list(readings.picks)
        while trail and trail[-1][0] + 1 >= trail[-1][1]:
            trail.pop()
        if not trail:
            return results, keys
        path = [index for index, _ in trail[:-1]] + [trail[-1][0] + 1]


# ---------------------------------------------------------------------------------------------
# The oracle: read the raw input (independently of mgassist's parser)
# ---------------------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^\s*(>=|<=|≥|≤|>|<)?\s*(\d+(?:\.\d*)?|\.\d+)\s*(\S.*?)\s*$")


def read_quantity(value: Any) -> tuple[Decimal, str, str | None]:
    """(number as entered, unit, comparator) of "0.62 mmol/L", ">60 mL/min/1.73m2" or
    {"value", "unit"}."""
    comparator = None
    if isinstance(value, dict):
        number = D(repr(value["value"])) if isinstance(value["value"], float) \
            else D(str(value["value"]))
        unit = str(value["unit"])
    else:
        match = _QUANTITY.match(value)
        assert match is not None, value
        comparator = None if match[1] is None else COMPARATORS[match[1]]
        number, unit = D(match[2]), match[3]
    unit = unit.replace("µ", "u").replace("μ", "u").lower()
    return number, _CANONICAL_SPELLING[unit], comparator


def truncate(x: Fraction, places: int = 1) -> Fraction:
    """Printed to ``places`` decimals, never rounded up."""
    scale = 10 ** places
    return F(x.numerator * scale // x.denominator, scale)


def round_half_up(x: Fraction, places: int) -> Fraction:
    return F((D(x.numerator) / D(x.denominator)).quantize(D(1).scaleb(-places),
                                                          rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class MgBand:
    known: bool
    severe: bool = False  # < 0.50 mmol/L
    low: bool = False  # < LLN
    high: bool = False  # > ULN
    severe_high: bool = False  # ≥ 2.0 mmol/L


@dataclass(frozen=True)
class Dose:
    """The comparisons the spec makes with the current dose, in mmol/day (one reading)."""

    taking: bool = False  # > 0
    above_6: bool = False
    at_least_6: bool = False
    above_12: bool = False
    at_least_12: bool = False
    at_least_24: bool = False
    above_24: bool = False


@dataclass(frozen=True)
class Facts:
    """One patient as the spec sees it: numbers exact, as entered."""

    mg: tuple[Decimal, str] | None
    k: Decimal | None
    ca: tuple[Decimal, str] | None
    albumin_g_dl: Fraction | None
    crcl: Fraction | None
    egfr: tuple[Decimal, str | None] | None
    creatinine: tuple[Decimal, str] | None
    age: Fraction | None
    sex: str | None
    weight_kg: Fraction | None
    height_cm: Fraction | None
    crcl_weight: str
    symptoms: frozenset[str]
    conditions: frozenset[str]
    meds: frozenset[str]  # classes
    meds_not_recognised: tuple[str, ...]  # the names no class has, as entered
    indication: str | None
    dose: tuple[Decimal, str] | None
    days: Fraction | None

    @property
    def adult(self) -> bool:
        """Step 2 reads "age < 18": an unknown age is not out of scope."""
        return self.age is None or self.age >= 18

    @property
    def bmi(self) -> Fraction | None:
        if self.weight_kg is None or self.height_cm is None:
            return None
        return self.weight_kg / (self.height_cm / 100) ** 2

    def mg_band(self, readings: Readings) -> MgBand:
        """By the boundary rule ("<", ">": a value printed at the limit is on the normal side;
        "≥": the printed limit itself is included)."""
        if self.mg is None:
            return MgBand(known=False)
        value, unit = self.mg
        severe, lln, uln, top = MG_PRINTED[unit]
        # SPEC AMBIGUITY: "Mg ≥ 2.0 mmol/L (as printed: 4.9 mg/dL, 4.0 mEq/L)". A value typed
        # with more decimals than a lab prints, between 2.0 mmol/L converted (4.861 mg/dL) and
        # the printed 4.9 mg/dL, is >= 2.0 mmol/L but below the printed limit: either reading.
        severe_high = readings.choose("mg >= 2.0", [
            value >= top, value >= MG_CANONICAL[3] * MG_PER_MMOL_L[unit]])
        return MgBand(True, value < severe, value < lln, value > uln, severe_high)

    def dose_readings(self) -> list[Dose]:
        """The dose comparisons, one per reading.

        SPEC AMBIGUITY: the boundary rule is written for values "a lab prints"; no lab prints a
        dose. Readings: the exact amount; the amount as printed in mmol/day (1 decimal, so
        11.96 mmol/day and 291 mg/day read "12.0 mmol/day"); a dose typed in mg/day against the
        spec's printed figure (145.8 mg = 6 mmol, 291.7 mg = 12 mmol, 583.3 mg = 24 mmol)."""
        if self.dose is None:
            return [Dose()]
        value, unit = self.dose
        mmol = F(value) / MG_MG_PER_MMOL if unit == "mg/day" else F(value)

        def compare(x: Any, limits: dict[int, Any]) -> Dose:
            return Dose(x > limits[0], x > limits[6], x >= limits[6], x > limits[12],
                        x >= limits[12], x >= limits[24], x > limits[24])

        plain = {n: n for n in DOSE_PRINTED_MG}
        out = [compare(mmol, plain)]
        as_decimal = D(mmol.numerator) / D(mmol.denominator)
        for rounding in (ROUND_HALF_UP, ROUND_HALF_EVEN):
            out.append(compare(as_decimal.quantize(D("0.1"), rounding=rounding), plain))
        if unit == "mg/day":
            out.append(compare(value, DOSE_PRINTED_MG))
        return out

    def calcium(self, readings: Readings) -> tuple[bool, bool, Fraction] | None:
        """(Ca < 1.90, Ca < 2.20, Ca in mmol/L), albumin-adjusted when albumin is given."""
        if self.ca is None:
            return None
        value, unit = self.ca
        severe, low = CA_PRINTED[unit]
        if self.albumin_g_dl is None:
            return value < severe, value < low, F(value) / CA_PER_MMOL_L[unit]
        adjusted = F(value) + (4 - self.albumin_g_dl) * CA_PER_MG_DL[unit]
        mmol = adjusted / CA_PER_MMOL_L[unit]
        # SPEC AMBIGUITY: revision 2 does not say how a computed value meets the boundary rule.
        # Readings: adjusted Ca in the unit Ca was entered in, rounded half-up to that unit's
        # decimals as a lab would print it (the lead's reading), then against the printed limit;
        # unrounded against the printed limit; unrounded in mmol/L against 1.90 / 2.20.
        printed = round_half_up(adjusted, DECIMALS[unit])
        a, b = readings.choose("adjusted calcium", [
            (printed < severe, printed < low), (adjusted < severe, adjusted < low),
            (mmol < CA_CANONICAL[0], mmol < CA_CANONICAL[1])])
        return a, b, mmol


def read_facts(raw: dict[str, Any]) -> Facts:
    def number(key: str) -> Fraction | None:
        return None if raw.get(key) is None else F(D(str(raw[key])))

    def quantity(key: str) -> tuple[Decimal, str] | None:
        if raw.get(key) is None:
            return None
        value, unit, _ = read_quantity(raw[key])
        return value, unit

    crcl = quantity("crcl")
    weight = quantity("weight")
    height = quantity("height")
    albumin = quantity("albumin")
    k = quantity("k")
    egfr = None if raw.get("egfr") is None else read_quantity(raw["egfr"])
    return Facts(
        mg=quantity("mg"),
        k=None if k is None else k[0],  # mmol/L = mEq/L
        ca=quantity("ca"),
        albumin_g_dl=None if albumin is None
        else F(albumin[0]) * (ALBUMIN_G_DL_PER_G_L if albumin[1] == "g/L" else 1),
        crcl=None if crcl is None else F(crcl[0]),
        egfr=None if egfr is None else (egfr[0], egfr[2]),
        creatinine=quantity("creatinine"),
        age=number("age"),
        sex=raw.get("sex"),
        weight_kg=None if weight is None
        else F(weight[0]) * (KG_PER_LB if weight[1] == "lb" else 1),
        height_cm=None if height is None
        else F(height[0]) * {"cm": F(1), "m": F(100), "in": CM_PER_IN}[height[1]],
        crcl_weight=raw.get("crcl_weight", "auto"),
        symptoms=frozenset(raw.get("symptoms", ())),
        conditions=frozenset(raw.get("conditions", ())),
        meds=frozenset(c for c in map(med_class, raw.get("meds", ())) if c is not None),
        meds_not_recognised=tuple(m for m in raw.get("meds", ()) if med_class(m) is None),
        indication=raw.get("indication"),
        dose=quantity("current_dose"),
        days=number("days_on_dose"),
    )


# ---------------------------------------------------------------------------------------------
# The oracle: the renal value (revision 2, "Renal function")
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Renal:
    """The renal value the bands use under one reading.

    A value is the interval [lo, hi] (None: no edge), a point unless the lab gave a bound.
    ``known`` is false when there is no value, or a bound that falls in more than one band."""

    known: bool = False
    lo: Fraction | None = None
    hi: Fraction | None = None
    lo_open: bool = False
    hi_open: bool = False
    method: str | None = None
    shown: Fraction | None = None  # derived.crcl_ml_min
    comparator: str | None = None
    egfr_only: bool = False  # no CrCl (reported or Cockcroft-Gault), eGFR given
    mhra: bool = False  # eGFR only, with age >= 75 or BMI < 18 or > 40: not for dosing
    discrepancy: bool = False  # reported and Cockcroft-Gault differ by > 25 % of the smaller
    cg: Fraction | None = None  # the Cockcroft-Gault estimate, whether used or not
    weight_labels: frozenset[str] = frozenset()
    egfr: tuple[Fraction, str | None] | None = None  # as entered, when eGFR is the only value

    @staticmethod
    def point(value: Fraction, method: str, **more: Any) -> Renal:
        return Renal(True, value, value, method=method, shown=value, **more)

    def interval_below(self, limit: int) -> bool | None:
        """All of the interval < limit (True), all >= limit (False), or both (None)."""
        if self.hi is not None and (self.hi < limit or (self.hi == limit and self.hi_open)):
            return True
        if self.lo is not None and self.lo >= limit:
            return False
        return None

    def below(self, limit: int) -> bool | None:
        """Renal value < limit; None when the renal value is unknown."""
        return self.interval_below(limit) if self.known else None

    @property
    def band(self) -> str | None:
        """"<20", "20-29", "30-59", ">=60" or None (unknown)."""
        if not self.known:
            return None
        if self.below(CRCL_CONTRAINDICATED):
            return "<20"
        if self.below(CRCL_SEVERE):
            return "20-29"
        if self.below(CRCL_REDUCED):
            return "30-59"
        return ">=60"


def cockcroft_gault(f: Facts, readings: Readings) -> tuple[Fraction, frozenset[str]] | None:
    """CrCl = (140 - age) x weight / (72 x creatinine mg/dL), x 0.85 if female, for an adult
    with creatinine, age, sex and weight; and the labels of the weight used."""
    if (f.creatinine is None or f.age is None or f.sex is None or f.weight_kg is None
            or f.age < 18):
        return None
    value, unit = f.creatinine
    factor = F(1) if unit == "mg/dL" else readings.choose("umol/L", CREATININE_MG_DL_PER_UMOL_L)
    weight, labels = cg_weight(f, readings)
    crcl = (140 - f.age) * weight / (72 * F(value) * factor)
    if f.sex == "female":
        crcl *= F("0.85")
    return crcl, labels


def cg_weight(f: Facts, readings: Readings) -> tuple[Fraction, frozenset[str]]:
    """The weight Cockcroft-Gault uses and the labels that describe it ("the output says which
    weight was used")."""
    actual = f.weight_kg
    assert actual is not None
    if f.height_cm is None:
        return actual, frozenset({"actual"})
    over = f.height_cm / CM_PER_IN - 60
    if over < 0:
        # SPEC AMBIGUITY: Devine's "2.3 kg per inch over 60 in" says nothing below 60 in: either
        # no increment (IBW = base) or a negative one.
        over = readings.choose("devine below 60 in", [F(0), over])
    ibw = (F(50) if f.sex == "male" else F("45.5")) + F("2.3") * over
    adjusted = ibw + F("0.4") * (actual - ibw)
    candidates = {"actual": actual, "ideal": ibw, "adjusted": adjusted}
    if f.crcl_weight in candidates:
        chosen = f.crcl_weight
    else:
        bmi = f.bmi
        assert bmi is not None
        if bmi < F("18.5"):
            chosen = "actual"
        elif bmi < 25:
            chosen = "ideal" if ibw < actual else "actual"
        else:
            chosen = "adjusted"
    used = candidates[chosen]
    return used, frozenset({chosen} | {k for k, w in candidates.items() if w == used})


def renal_value(f: Facts, readings: Readings) -> Renal:
    """"Sources, in order: reported CrCl, Cockcroft-Gault, eGFR" - with the lower of reported and
    Cockcroft-Gault when they differ by > 25 % of the smaller, and eGFR only when no CrCl is
    known."""
    cg = cockcroft_gault(f, readings)
    cg_value, labels = cg if cg is not None else (None, frozenset[str]())
    if f.crcl is not None:
        if cg_value is None:
            return Renal.point(f.crcl, "reported")
        # SPEC AMBIGUITY: the 25 % may be judged on the Cockcroft-Gault estimate as computed or
        # as printed (one decimal, truncated).
        judged = readings.choose("cockcroft-gault for the 25 %", [cg_value, truncate(cg_value)])
        differ = abs(f.crcl - judged) > min(f.crcl, judged) / 4
        if differ and cg_value < f.crcl:
            return Renal.point(cg_value, "cockcroft-gault", discrepancy=True, cg=cg_value,
                               weight_labels=labels)
        return Renal.point(f.crcl, "reported", discrepancy=differ, cg=cg_value,
                           weight_labels=labels)
    if cg_value is not None:
        return Renal.point(cg_value, "cockcroft-gault", cg=cg_value, weight_labels=labels)
    if f.egfr is None:
        return Renal()
    number, comparator = f.egfr
    value = F(number)
    lo: Fraction | None = value
    hi: Fraction | None = value
    lo_open = hi_open = False
    if comparator is not None:
        # SPEC AMBIGUITY: a bound is read over all real values (">59": above 59) or, eGFR being
        # printed in whole numbers, over whole numbers (">59": 60 or more).
        whole = readings.choose("bound over whole numbers", [False, True]) \
            if comparator in (">", "<") and value.denominator == 1 else False
        if comparator in (">", ">="):
            hi = None
            lo_open = comparator == ">"
            if whole:
                lo, lo_open = value + 1, False
        else:
            lo = None
            hi_open = comparator == "<"
            if whole:
                hi, hi_open = value - 1, False
    interval = Renal(False, lo, hi, lo_open, hi_open, egfr_only=True, egfr=(value, comparator))
    decided = all(interval.interval_below(x) is not None
                  for x in (CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED))
    age_75 = f.age is not None and f.age >= MHRA_AGE
    bmi = f.bmi
    # SPEC AMBIGUITY (the lead reads BMI truncated to one decimal, as Cockcroft-Gault's BMI is
    # printed): BMI 40.05 is > 40 exactly but prints 40.0.
    extreme = bmi is not None and readings.choose("bmi", [
        (bmi < MHRA_BMI_LOW or bmi > MHRA_BMI_HIGH),
        (truncate(bmi) < MHRA_BMI_LOW or truncate(bmi) > MHRA_BMI_HIGH)])
    mhra = age_75 or extreme
    if not decided:
        # "otherwise it is treated as unknown". SPEC AMBIGUITY: whether an eGFR that decides
        # nothing still makes an elderly patient "eGFR only" (egfr-not-for-dosing) or simply one
        # whose renal function is unknown.
        return replace(interval, mhra=mhra and readings.choose("mhra undecided", [True, False]))
    # A bound whose whole range is in one band is known (the lead's reading: ">60" is an eGFR
    # for every purpose, shown as its edge with its comparator).
    known = replace(interval, known=True, method="egfr", shown=value, comparator=comparator)
    if not mhra:
        return known
    # SPEC AMBIGUITY: with the MHRA exception "eGFR alone is not used for a supplement
    # decision". Readings: it still counts where it forbids (renal value < 20 contraindicates,
    # < 30 makes confusion a toxicity sign, stop-magnesium, the band's ceiling), or it is not
    # the renal value at all.
    if readings.choose("mhra egfr still forbids", [True, False]):
        return replace(known, mhra=True)
    return replace(interval, mhra=True)


# ---------------------------------------------------------------------------------------------
# The oracle: revision 2's decision steps, regimen and findings
# ---------------------------------------------------------------------------------------------

# fires: True / False, or None when the spec allows both
Expected = tuple[tuple[str, bool | None], ...]


@dataclass(frozen=True)
class Decision:
    """What the spec says about one patient (under one reading)."""

    status: str = ""
    step: str = ""
    # None, "standard-start", "step-up", "regimen-maximum", "reduced-6" (6 mmol/day) or
    # "reduced" (no figure)
    regimen: str | None = None
    alternative: bool = False
    findings: Expected = ()
    egfr_severity: str | None = None  # renal-function-from-egfr
    renal: Renal = Renal()
    error_field: str | None = None  # an input error is expected on this field


def decide(f: Facts, readings: Readings) -> Decision:
    """Clinical-spec revision 2 "Decision": first matching step wins; then regimen and
    findings."""
    mg = f.mg_band(readings)
    renal = renal_value(f, readings)
    dose = readings.choose("dose", f.dose_readings())
    symptoms, conditions = f.symptoms, f.conditions
    pe = "pre-eclampsia" in conditions
    dialysis = "dialysis" in conditions
    pregnancy = "pregnancy" in conditions
    days = f.days if f.days is not None else F(-1)  # unknown days never satisfy "for >= n days"
    k = f.k
    calcium = f.calcium(readings)
    spasm = f.indication in SPASM_INDICATIONS
    # Revision 2: "taking magnesium (current dose > 0, or a magnesium-containing medicine)" for
    # 1g and stop-magnesium; maintain (step 7) reads "taking magnesium (current dose > 0)" only.
    mg_medicine = MG_SOURCE in f.meds
    taking = dose.taking or mg_medicine

    below_30 = renal.below(CRCL_SEVERE) is True
    if not renal.known and renal.egfr_only and renal.interval_below(CRCL_SEVERE):
        # SPEC AMBIGUITY: a bound such as "<25" is treated as unknown for the bands, yet is
        # below 30 for 1e's confusion.
        below_30 = readings.choose("undecided bound below 30", [False, True])
    confusion = CONFUSION in symptoms
    # 1e: "confusion also counts when the renal value is < 30". SPEC AMBIGUITY (the lead also
    # counts it with dialysis, which is contraindicated "whatever renal value is entered").
    confusion_1e = confusion and (below_30 or (
        dialysis and readings.choose("confusion with dialysis", [True, False])))
    signs_1e = bool(symptoms & HYPERMG_SIGNS) or confusion_1e
    # 1g: "with the toxicity symptoms of 1e". SPEC AMBIGUITY: confusion as in 1e (renal value
    # < 30), or unconditionally as in revision 1's step 2d ("as before, widened").
    confusion_1g = confusion and readings.choose("confusion in 1g", [confusion_1e, True])
    signs_1g = bool(symptoms & HYPERMG_SIGNS) or confusion_1g

    flag_1a = mg.severe
    flag_1b = mg.low and bool(symptoms & RED_FLAGS)
    flag_1c = mg.low and bool(symptoms & NEUROMUSCULAR)
    flag_1d = not mg.known and bool(symptoms & RED_FLAGS)
    flag_1e = mg.high and signs_1e
    flag_1f = mg.severe_high and not pe  # "Not with pre-eclampsia ...: that is step 2"
    flag_1g = taking and signs_1g and not mg.known
    flag_1h = k is not None and k < K_SEVERE_LOW
    flag_1i = k is not None and k >= K_SEVERE_HIGH
    flag_1j = f.albumin_g_dl is not None and calcium is not None and calcium[0]
    flag_1k = pregnancy and "seizure" in symptoms
    flags = (flag_1a, flag_1b, flag_1c, flag_1d, flag_1e, flag_1f, flag_1g, flag_1h, flag_1i,
             flag_1j, flag_1k)
    urgent_with_pe = {"urgent-symptomatic-hypermagnesemia"}
    if pe and flag_1g and readings.choose("1g with pre-eclampsia", [True, False]):
        # SPEC AMBIGUITY: "With pre-eclampsia only 1e's toxicity signs stay urgent": 1g is
        # those signs on a dose with Mg unknown (the lead's reading), or it is not 1e.
        urgent_with_pe.add("urgent-suspected-hypermagnesemia")
    urgent = [step for step, fired in zip(URGENT_STEPS, flags, strict=True)
              if fired and (not pe or step in urgent_with_pe)]

    def steps() -> tuple[str, str]:
        if urgent:
            return "urgent", urgent[0]
        if not f.adult:
            return "out-of-scope", "adults-only"
        if pe:
            return "out-of-scope", "pre-eclampsia"
        if dialysis:  # "When both dialysis and renal < 20 hold, dialysis decides"
            return "contraindicated", "dialysis"
        if renal.below(CRCL_CONTRAINDICATED):
            return "contraindicated", "renal-contraindication"
        if mg.high:
            return "contraindicated", "hypermagnesemia"
        if "acute-kidney-injury" in conditions:
            return "insufficient-data", "renal-function-unstable"
        if not mg.known:
            return "insufficient-data", "mg-unknown"
        if not mg.low and dose.taking and not spasm:
            if renal.mhra:
                return "insufficient-data", "maintain-egfr-not-for-dosing"
            if not renal.known:
                return "insufficient-data", "maintain-renal-unknown"
            return "maintain", "maintain"
        if not mg.low:
            return "do-not-supplement", "mg-normal"
        if renal.mhra:
            return "insufficient-data", "egfr-not-for-dosing"
        if not renal.known:
            return "insufficient-data", "renal-function-unknown"
        if renal.below(CRCL_SEVERE):
            return "supplement-with-caution", "renal-caution-severe"
        if renal.below(CRCL_REDUCED):
            return "supplement-with-caution", "renal-dose-reduction"
        if dose.at_least_24:
            return "supplement", "supplement-at-maximum"
        if dose.at_least_12 and days >= 7:
            return "supplement", "supplement-step-up"
        return "supplement", "supplement"

    status, step = steps()
    regimen = {"supplement": "standard-start", "supplement-step-up": "step-up",
               "supplement-at-maximum": "regimen-maximum", "renal-caution-severe": "reduced-6",
               "renal-dose-reduction": "reduced"}.get(step)

    # The ceiling of the 20-29 band. SPEC AMBIGUITY: its dose is 6 mmol/day ("half the standard
    # start"), while revision 1's caution ceiling ("never more than the standard start") is 12
    # and revision 2 names no other for that band.
    band = renal.band
    ceiling_6 = readings.choose("20-29 ceiling", [True, False]) if band == "20-29" else False
    above_ceiling = (band == "20-29" and (dose.above_6 if ceiling_6 else dose.above_12)) or \
        (band == "30-59" and dose.above_12)
    at_ceiling = (band == "20-29" and (dose.at_least_6 if ceiling_6 else dose.at_least_12)) or \
        (band == "30-59" and dose.at_least_12)
    ca_low = calcium is not None and calcium[1]
    mg_normal = mg.known and not mg.low and not mg.high
    # separate-dosing: "only when magnesium is being given or taken - a regimen, a current dose
    # or a magnesium-containing medicine"
    given_or_taken = regimen is not None or dose.taking or mg_medicine
    risk = risk_factors(f.meds, conditions, f.age)
    # magnesium-containing-medicine: "with CrCl < 60 or unknown" - the renal value the bands use
    # ("every step and finding below that says CrCl or renal value uses it"), so it follows the
    # readings of renal_value (the MHRA exception, an undecided bound). SPEC AMBIGUITY: with
    # dialysis ("whatever renal value is entered") or acute kidney injury ("no estimate is
    # reliable") a renal value of 60 or more may or may not silence the warning.
    renal_below_60_or_unknown = renal.below(CRCL_REDUCED) is not False
    if mg_medicine and not renal_below_60_or_unknown and \
            conditions & {"dialysis", "acute-kidney-injury"}:
        renal_below_60_or_unknown = readings.choose("mg medicine, dialysis or aki at >= 60",
                                                    [True, False])

    def band_finding(finding: str, in_band: str) -> bool | None:
        if band != in_band:
            return False
        return True if step == finding else None

    def red_flag(fired: bool) -> bool | None:
        """A red flag's own finding; with pre-eclampsia it is not urgent, and whether it is
        still listed the spec does not say (SPEC AMBIGUITY)."""
        return (None if pe else True) if fired else False

    findings: dict[str, bool | None] = {
        "severe-hypomagnesemia": red_flag(flag_1a or flag_1b),
        # 1c "Also fires with 1b". SPEC AMBIGUITY: it is not silenced when 1b decides, or it
        # fires whenever 1b does (tetany, seizure, arrhythmia are symptoms too).
        "symptomatic-hypomagnesemia": red_flag(flag_1c) if flag_1c or not flag_1b else None,
        "mg-level-required": False if mg.known else True if step in (
            "urgent-mg-unknown-red-flags", "mg-unknown") else None,
        "symptomatic-hypermagnesemia": flag_1e,  # stays urgent with pre-eclampsia
        "severe-hypermagnesemia": flag_1f,
        "suspected-hypermagnesemia": (
            True if "urgent-suspected-hypermagnesemia" in urgent else None) if flag_1g
        else False,
        "severe-hypokalemia": red_flag(flag_1h),
        "severe-hyperkalemia": red_flag(flag_1i),
        "severe-hypocalcemia": red_flag(flag_1j),
        "calcium-needs-albumin": f.albumin_g_dl is None and calcium is not None and calcium[0],
        # SPEC AMBIGUITY: pre-eclampsia is a disorder of pregnancy, so with a seizure the
        # (non-urgent) possible-eclampsia may be listed even without `pregnancy`.
        "possible-eclampsia": None if pe and "seizure" in symptoms else red_flag(flag_1k),
        "out-of-scope-age": not f.adult,
        "pre-eclampsia": pe,
        "pregnancy-caution": pregnancy,
        "dialysis": dialysis,
        "renal-contraindication": renal.below(CRCL_CONTRAINDICATED) is True,
        "renal-function-unstable": "acute-kidney-injury" in conditions,
        "renal-function-required": True if step in (
            "renal-function-unknown", "maintain-renal-unknown") else None if (
            not renal.known or renal.mhra) else False,
        "renal-function-from-egfr": (None if not renal.known and not renal.mhra else True)
        if renal.egfr_only else False,
        # SPEC AMBIGUITY: "a renal finding fires beside urgent" - every band finding beside every
        # status, or only where magnesium would be given (Mg < LLN), as steps 10 and 11 read.
        "renal-caution-severe": band_finding("renal-caution-severe", "20-29"),
        "renal-dose-reduction": band_finding("renal-dose-reduction", "30-59"),
        "crcl-discrepancy": renal.discrepancy,
        # SPEC AMBIGUITY: with pre-eclampsia a level above the ULN is the therapeutic level of
        # intravenous magnesium sulfate (the reason 1f does not apply): listed or not.
        "hypermagnesemia": (None if pe else True) if mg.high else False,
        "hypomagnesemia": mg.low,
        # "while taking magnesium ... and not pre-eclampsia: when Mg > ULN or any
        # hypermagnesaemia finding fires, or when the renal value is < 20 or dialysis with Mg
        # not below LLN (or unknown)"
        "stop-magnesium": taking and not pe and (
            mg.high or flag_1g or ((renal.below(CRCL_CONTRAINDICATED) is True or dialysis)
                                   and not mg.low)),
        "mg-normal": True if step == "mg-normal" else None if mg_normal else False,
        "maintenance-continue": status == "maintain",
        "correct-mg-before-k": mg.low and k is not None and k < K_LLN,
        # "K < 3.5 with Mg not below LLN". SPEC AMBIGUITY: below 2.5 severe-hypokalemia says
        # more; whether the warning is listed beside it is not said.
        "hypokalemia": (None if k < K_SEVERE_LOW else True)
        if k is not None and k < K_LLN and not mg.low else False,
        "hyperkalemia": k is not None and K_ULN < k < K_SEVERE_HIGH,
        "hypocalcemia-with-hypomagnesemia": mg.low and ca_low,
        "correct-volume-first": mg.low and "volume-depletion" in conditions,
        "step-up-dose": step == "supplement-step-up",
        "refractory-hypomagnesemia": mg.low and days >= 14 and (dose.at_least_24 or at_ceiling),
        "current-dose-above-renal-ceiling": above_ceiling,
        "current-dose-above-regimen": dose.above_24,
        "no-evidence-for-spasm": spasm,
        "prefer-better-tolerated-salt": bool(conditions & POOR_ABSORPTION),
        # "only when magnesium is being given or taken - a regimen, a current dose or a
        # magnesium-containing medicine"; the interacting classes widened by revision 2.
        # SPEC AMBIGUITY: a current dose recorded as 0.
        "separate-dosing": (True if given_or_taken else None if f.dose is not None else False)
        if f.meds & INTERACTING_MEDS else False,
        # "any risk factor (the med classes ..., GI losses, ..., age ≥ 65)" with revision 2's
        # risk-factor classes; None where only volume-depletion could be one (SPEC AMBIGUITY,
        # see test_properties.RISK_FACTOR_CONDITIONS)
        "risk-factors-present": risk,
        # "Mg ≥ LLN with risk factors". SPEC AMBIGUITY: whether Mg above the ULN (hypermagnesaemia,
        # not a possible deficiency) counts as "≥ LLN" here.
        "normal-mg-does-not-exclude-deficiency": (
            None if risk is None or mg.high else risk) if mg.known and not mg.low else False,
        "review-ppi": "ppi" in f.meds and mg.low,  # "a PPI with Mg < LLN"
        "digoxin-risk": "digoxin" in f.meds and mg.low,  # "digoxin with Mg < LLN"
        # "a magnesium-containing medicine with CrCl < 60 or unknown"
        "magnesium-containing-medicine": mg_medicine and renal_below_60_or_unknown,
        # "Any other name is accepted, listed in derived.meds_not_recognised, and raises the
        # finding medication-not-recognised"
        "medication-not-recognised": bool(f.meds_not_recognised),
    }
    return Decision(
        status=status, step=step, regimen=regimen,
        alternative=regimen is not None and bool(conditions & POOR_ABSORPTION),
        findings=tuple(findings.items()),
        # With the MHRA exception the finding is the warning when it decides ("→ insufficient-data
        # with renal-function-from-egfr (warning)"). SPEC AMBIGUITY: where eGFR still decides
        # something else (a red flag, a contraindication) it is either that warning or the info
        # note that eGFR "was used in place of creatinine clearance".
        egfr_severity=("warning" if step in ("maintain-egfr-not-for-dosing", "egfr-not-for-dosing")
                       else None) if renal.mhra else "info" if renal.known and renal.egfr_only
        else None,
        renal=renal,
    )


def spec_decisions(raw: dict[str, Any]) -> list[Decision]:
    """Every decision the spec allows for this raw patient (one per reading, deduplicated)."""
    return spec_readings(raw)[0]


def spec_readings(raw: dict[str, Any]) -> tuple[list[Decision], set[str]]:
    f = read_facts(raw)
    if f.crcl_weight in ("ideal", "adjusted") and f.height_cm is None:
        # SPEC AMBIGUITY: the spec defines IBW from height only; an explicit ideal/adjusted
        # basis without a height cannot be honoured, so we expect it refused (field named).
        return [Decision(error_field="crcl_weight")], set()
    return every_reading(lambda readings: decide(f, readings))


# ---------------------------------------------------------------------------------------------
# Comparing the program with the oracle, and the safety invariants
# ---------------------------------------------------------------------------------------------

Outcome = Assessment | InputErrors


def _near(got: float | None, want: Fraction | None, *, below: float = 0.1,
          above: float = 1e-9) -> bool:
    """Printed to one decimal, never rounded up (so a band is never entered by rounding)."""
    if got is None or want is None:
        return got is None and want is None
    return float(want) - below - 1e-9 <= got <= float(want) + above


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
    out += regimen_differences(expected, got)
    if expected.step == "supplement-step-up" and \
            "step up to 24 mmol/day" not in got.status_reason.lower():
        out.append(f"status_reason {got.status_reason!r} does not say 'step up to 24 mmol/day'")
    if (got.monitoring is not None) != (expected.status in GIVES_MONITORING):
        out.append(f"monitoring {'present' if got.monitoring else 'absent'}")
    ids = finding_ids(got)
    for finding, wanted in expected.findings:
        if wanted is not None and (finding in ids) != wanted:
            out.append(f"finding {finding} {'fired' if finding in ids else 'missing'}")
    if "current-dose-above-renal-ceiling" in ids and dict(expected.findings)["hypomagnesemia"]:
        # "With Mg < LLN: do not increase; ... never a plain 'reduce' while the patient is still
        # deficient"
        text = " ".join(f.message + " " + " ".join(f.details) for f in got.findings
                        if f.id == "current-dose-above-renal-ceiling").lower()
        if "do not increase" not in text:
            out.append("current-dose-above-renal-ceiling with Mg < LLN does not say 'do not "
                       "increase'")
    for found in got.findings:
        # revision 2 gives these findings a severity
        if found.id in MED_FINDING_SEVERITY and found.severity != MED_FINDING_SEVERITY[found.id]:
            out.append(f"{found.id} is {found.severity}, spec: {MED_FINDING_SEVERITY[found.id]}")
    if expected.egfr_severity is not None:
        for found in got.findings:
            if found.id == "renal-function-from-egfr" and found.severity != expected.egfr_severity:
                out.append(f"renal-function-from-egfr is {found.severity}, spec: "
                           f"{expected.egfr_severity}")
    out += renal_differences(expected.renal, got)
    return out


def regimen_differences(expected: Decision, got: Assessment) -> list[str]:
    r = got.regimen
    if (r is None) != (expected.regimen is None):
        return [f"regimen {'absent' if r is None else 'present'}, spec: {expected.regimen}"]
    if r is None:
        return []
    out = []
    mmol = r.elemental_mmol_per_day
    basis, want = {"standard-start": ("standard-start", STANDARD_MMOL),
                   "step-up": ("step-up", STEP_UP_MMOL),
                   "regimen-maximum": ("regimen-maximum", STEP_UP_MMOL),
                   "reduced-6": ("reduced", REDUCED_MMOL),
                   "reduced": ("reduced", None)}[str(expected.regimen)]
    if r.dose_basis != basis or (mmol is None) != (want is None) or (
            mmol is not None and want is not None and abs(mmol - want) > 0.05):
        out.append(f"regimen {r.dose_basis} {mmol} mmol/day, spec: {basis} {want} mmol/day")
    if expected.regimen == "reduced" and r.max_elemental_mmol_per_day > STANDARD_MMOL + 0.05:
        out.append(f"30-59 ceiling {r.max_elemental_mmol_per_day} mmol/day, spec: the standard "
                   f"start ({STANDARD_MMOL})")
    if (r.alternative is not None) != expected.alternative:
        out.append(f"glycinate alternative {'present' if r.alternative else 'absent'}, "
                   f"spec: {'present' if expected.alternative else 'absent'}")
    return out


def renal_differences(renal: Renal, got: Assessment) -> list[str]:
    """derived: the renal value used and its source, the other estimates beside it."""
    d = got.derived
    out = []
    shown = [(renal.method, renal.shown, renal.comparator)] if renal.known \
        else [(None, None, None)]
    if renal.mhra and renal.egfr is not None:
        # SPEC AMBIGUITY: an eGFR not used for dosing may still be shown as the value used.
        shown = [(None, None, None), ("egfr", *renal.egfr)]
    if not any(d.crcl_method == method and _near(d.crcl_ml_min, value)
               and (method != "egfr" or d.crcl_comparator == comparator)
               for method, value, comparator in shown):
        out.append(f"crcl {d.crcl_ml_min} ({d.crcl_method}, {d.crcl_comparator}), spec: "
                   + " or ".join(f"{_num(v)} ({m}, {c})" for m, v, c in shown))
    if renal.cg is not None or renal.method == "cockcroft-gault":
        if not _near(d.crcl_cg_ml_min, renal.cg):
            out.append(f"crcl_cg_ml_min {d.crcl_cg_ml_min}, spec: {_num(renal.cg)}")
        if d.crcl_weight_basis not in renal.weight_labels:
            out.append(f"crcl_weight_basis {d.crcl_weight_basis}, spec: "
                       f"{sorted(renal.weight_labels)}")
    elif d.crcl_cg_ml_min is not None:
        out.append(f"crcl_cg_ml_min {d.crcl_cg_ml_min}: the spec derives none")
    return out


def echo_problems(raw: dict[str, Any], got: Outcome) -> list[str]:
    """Revision 2 "Output fields added": the inputs that are echoed, converted."""
    if isinstance(got, InputErrors):
        return []
    f = read_facts(raw)
    d = got.derived
    out = []
    if not _near(d.crcl_reported_ml_min, f.crcl):
        out.append(f"crcl_reported_ml_min {d.crcl_reported_ml_min}, entered {_num(f.crcl)}")
    egfr = None if f.egfr is None else F(f.egfr[0])
    if not _near(d.egfr_ml_min_173, egfr):  # "always echoed when given"
        out.append(f"egfr_ml_min_173 {d.egfr_ml_min_173}, entered {_num(egfr)}")
    if (d.egfr_comparator or None) != (None if f.egfr is None else f.egfr[1]):
        out.append(f"egfr_comparator {d.egfr_comparator}, entered {raw.get('egfr')}")
    albumin = None if f.albumin_g_dl is None else f.albumin_g_dl / ALBUMIN_G_DL_PER_G_L
    if not _near(d.albumin_g_l, albumin, below=0.05, above=0.05):
        out.append(f"albumin_g_l {d.albumin_g_l}, entered {_num(albumin)}")
    if f.ca is not None and f.albumin_g_dl is not None:
        calcium = f.calcium(Readings([]))
        assert calcium is not None
        if not _near(d.ca_adjusted_mmol_l, calcium[2], below=0.006, above=0.006):
            out.append(f"ca_adjusted_mmol_l {d.ca_adjusted_mmol_l}, spec {_num(calcium[2])}")
    elif d.ca_adjusted_mmol_l is not None and not (
            f.ca is not None and d.ca_mmol_l is not None
            and abs(d.ca_adjusted_mmol_l - d.ca_mmol_l) < 1e-9):
        # SPEC AMBIGUITY: without albumin "the total calcium is used": either no adjusted value
        # or the total one.
        out.append(f"ca_adjusted_mmol_l {d.ca_adjusted_mmol_l} without albumin")
    if f.ca is not None and f.albumin_g_dl is None and \
            "not adjusted for albumin" not in got.to_json().lower():
        out.append("calcium without albumin, and the output does not say 'not adjusted for "
                   "albumin'")
    mmol = None
    if f.dose is not None:  # "derived.current_dose_mmol_day (elemental, as read)"
        value, unit = f.dose
        mmol = F(value) / MG_MG_PER_MMOL if unit == "mg/day" else F(value)
    if not _near(d.current_dose_mmol_day, mmol, below=1e-3, above=1e-3):
        out.append(f"current_dose_mmol_day {d.current_dose_mmol_day}, spec {_num(mmol)}")
    bmi = f.bmi
    if bmi is not None and not _near(d.bmi, bmi, below=0.1, above=0.05):
        out.append(f"bmi {d.bmi}, spec {_num(bmi)}")
    # "Any other name is accepted, listed in derived.meds_not_recognised, and raises the finding
    # medication-not-recognised (warning): 'not recognised, so not checked for effects on
    # magnesium: atorvastatin. Check these by hand.'" SPEC AMBIGUITY: a name may be listed as
    # typed or in another case.
    unknown = sorted(m.lower() for m in f.meds_not_recognised)
    if sorted(m.lower() for m in d.meds_not_recognised) != unknown:
        out.append(f"meds_not_recognised {d.meds_not_recognised}, spec {unknown}")
    for found in got.findings:
        text = " ".join([found.message, *found.details]).lower()
        if found.id == "medication-not-recognised" and not all(m in text for m in unknown):
            out.append(f"medication-not-recognised does not name {unknown}: {text!r}")
    return out


def oracle_disagreement(readings: list[Decision], got: Outcome) -> str | None:
    """None when ``got`` matches some reading of the spec, else what differs (closest one)."""
    found: list[list[str]] = [differences(reading, got) for reading in readings]
    if any(not diff for diff in found):
        return None
    closest = min(found, key=len)
    return "; ".join(closest)


def always(raw: dict[str, Any], predicate: Callable[[Facts, Readings], bool]) -> bool:
    """``predicate`` holds under every reading of the spec."""
    f = read_facts(raw)
    return all(every_reading(lambda readings: predicate(f, readings))[0])


def got_renal(got: Assessment) -> Renal:
    """The renal value the program says it used, as an interval."""
    d = got.derived
    if d.crcl_ml_min is None:
        return Renal()
    value = F(d.crcl_ml_min)
    c = d.crcl_comparator if d.crcl_method == "egfr" else None
    return Renal(True, None if c in ("<", "<=") else value, None if c in (">", ">=") else value,
                 lo_open=c == ">", hi_open=c == "<")


def safety_problems(raw: dict[str, Any], got: Outcome) -> list[str]:
    """The invariants that must hold whatever the decision table says (the issue's list)."""
    if isinstance(got, InputErrors):
        return []  # refusing to answer is always safe; the oracle checks that it was expected
    f = read_facts(raw)
    out = []
    ids = finding_ids(got)
    status = str(got.status)
    r = got.regimen
    pe = "pre-eclampsia" in f.conditions
    if status not in STATUSES:
        out.append(f"status {status} is not one of the spec's")
    if (status in GIVES_REGIMEN) != (r is not None):
        out.append(f"status {status} with regimen {'absent' if r is None else 'present'}")
    if (status in GIVES_MONITORING) != (got.monitoring is not None):
        out.append(f"status {status} with monitoring "
                   f"{'absent' if got.monitoring is None else 'present'}")
    if not f.adult:
        if "out-of-scope-age" not in ids:
            out.append("a child without out-of-scope-age")
        if status not in ("out-of-scope", "urgent"):
            out.append(f"a child with status {status}")
    band = f.mg_band(Readings([]))  # severe, low and high are not ambiguous
    if band.severe and not pe:
        if status != "urgent":
            out.append(f"Mg {f.mg} is below 0.50 mmol/L, status {status} (must be urgent)")
        if "severe-hypomagnesemia" not in ids:
            out.append("Mg below 0.50 mmol/L without the severe-hypomagnesemia finding")
    red_flag = {
        "K < 2.5": f.k is not None and f.k < K_SEVERE_LOW,
        "K >= 6.5": f.k is not None and f.k >= K_SEVERE_HIGH,
        "Mg >= 2.0 mmol/L": always(raw, lambda g, rd: g.mg_band(rd).severe_high),
        "adjusted Ca < 1.90": f.albumin_g_dl is not None and always(
            raw, lambda g, rd: bool((g.calcium(rd) or (False,))[0])),
    }
    for what, fired in red_flag.items():
        if fired and not pe and status != "urgent":
            out.append(f"{what} (a red flag), status {status} (must be urgent)")
    dosed = f.dose is not None and always(raw, lambda g, rd: rd.choose(
        "dose", g.dose_readings()).taking)
    maybe_dosed = f.dose is not None and not always(raw, lambda g, rd: not rd.choose(
        "dose", g.dose_readings()).taking)
    # "taking magnesium (current dose > 0 or magnesium-containing)"
    taking = dosed or MG_SOURCE in f.meds
    maybe_taking = maybe_dosed or MG_SOURCE in f.meds
    dialysis = "dialysis" in f.conditions
    hypermg = bool(ids & HYPERMG_FINDINGS) or band.high
    contraindicated = status == "contraindicated" or dialysis or \
        got_renal(got).below(CRCL_CONTRAINDICATED) is True
    if taking and not pe and (hypermg or (contraindicated and not band.low)) \
            and "stop-magnesium" not in ids:
        out.append("taking magnesium while contraindicated or hypermagnesaemic, without "
                   "stop-magnesium")
    if "stop-magnesium" in ids and (pe or not maybe_taking):
        out.append("stop-magnesium with pre-eclampsia or without a current dose or a "
                   "magnesium-containing medicine")
    # maintain: "taking magnesium (current dose > 0)" - a magnesium-containing medicine alone is
    # not a dose to maintain
    if status == "maintain" and (band.low or not band.known or not maybe_dosed
                                 or not got_renal(got).known):
        out.append("maintain without Mg in range on a current dose with renal function known")
    if r is None:
        return out
    if not band.known or not band.low or band.high:
        out.append(f"regimen with Mg {f.mg}: not known to be below the LLN")
    if pe or dialysis or "acute-kidney-injury" in f.conditions or not f.adult:
        out.append("regimen with pre-eclampsia, dialysis, acute kidney injury or a child")
    if ids & RED_FLAG_FINDINGS:
        out.append(f"regimen beside a red flag: {sorted(ids & RED_FLAG_FINDINGS)}")
    if always(raw, lambda g, rd: renal_value(g, rd).mhra):
        out.append("regimen from an eGFR alone for the elderly or an extreme BMI (MHRA)")
    renal = got_renal(got)
    if not renal.known or always(raw, lambda g, rd: not renal_value(g, rd).known):
        out.append("regimen with renal function unknown")
    elif renal.below(CRCL_CONTRAINDICATED) is not False or always(
            raw, lambda g, rd: renal_value(g, rd).below(CRCL_CONTRAINDICATED) is not False):
        out.append(f"regimen with a renal value < {CRCL_CONTRAINDICATED}")
    out += regimen_cap_problems(got)
    return out


def regimen_cap_problems(got: Assessment) -> list[str]:
    """Never above its cap: 24 mmol/day; 12 for 30-59; 6 for 20-29; magnesium oxide 1,500
    mg/day (~37.2 mmol, ~905 mg elemental); the labels side by side agree."""
    r = got.regimen
    assert r is not None
    out = []
    band = got_renal(got).band
    cap = {"20-29": REDUCED_MMOL, "30-59": STANDARD_MMOL}.get(str(band), STEP_UP_MMOL)
    if got.decided_by == "renal-caution-severe":
        cap = min(cap, REDUCED_MMOL)
    if got.decided_by == "renal-dose-reduction":
        cap = min(cap, STANDARD_MMOL)
    caution = got.status == "supplement-with-caution"
    cap_mmol, cap_mg = float(CAP_MMOL), float(CAP_ELEMENTAL_MG)
    if r.max_product_mg_per_day > MGO_CAP_MG + 1e-9:
        out.append(f"max product {r.max_product_mg_per_day} mg/day > {MGO_CAP_MG}")
    if r.max_elemental_mmol_per_day > cap_mmol + 0.05:
        out.append(f"max elemental {r.max_elemental_mmol_per_day} mmol/day > {cap_mmol:.2f}")
    if r.max_elemental_mg_per_day > cap_mg + 0.5:
        out.append(f"max elemental {r.max_elemental_mg_per_day} mg/day > {cap_mg:.1f}")
    if caution and r.dose_basis in ("step-up", "regimen-maximum"):
        out.append(f"{r.dose_basis} with supplement-with-caution")
    if caution and r.max_elemental_mmol_per_day > STANDARD_MMOL + 0.05:
        out.append(f"caution ceiling {r.max_elemental_mmol_per_day} mmol/day > {STANDARD_MMOL}")
    mmol = r.elemental_mmol_per_day
    if mmol is not None:
        if mmol > cap + 1e-9 or mmol > r.max_elemental_mmol_per_day + 1e-9:
            out.append(f"dose {mmol} mmol/day above {cap} or the regimen's own maximum")
        if r.elemental_mg_per_day is None or r.product_mg_per_day is None:
            out.append("dose in mmol/day without the elemental and product amounts")
        else:
            if abs(r.elemental_mg_per_day - mmol * float(MG_MG_PER_MMOL)) > 0.1:
                out.append(f"elemental {r.elemental_mg_per_day} mg != {mmol} mmol")
            if abs(r.product_mg_per_day - mmol * float(MGO_MG_PER_MMOL)) > 0.6:
                out.append(f"magnesium oxide {r.product_mg_per_day} mg != {mmol} mmol")
            if r.product_mg_per_day > MGO_CAP_MG + 1e-9:
                out.append(f"magnesium oxide {r.product_mg_per_day} mg/day > {MGO_CAP_MG}")
    if r.alternative is not None and r.alternative.elemental_mmol_per_day_max > cap + 0.05:
        out.append(f"alternative up to {r.alternative.elemental_mmol_per_day_max} mmol/day "
                   f"above {cap}")
    return out


def _num(x: Fraction | None) -> str:
    return "None" if x is None else f"{float(x):.4f}"


def describe_expected(d: Decision) -> str:
    if d.error_field is not None:
        return f"input error on {d.error_field}"
    fires = sorted(k for k, v in d.findings if v)
    either = sorted(k for k, v in d.findings if v is None)
    renal = d.renal
    return (f"{d.status} by {d.step}; regimen {d.regimen}; alternative {d.alternative}; "
            f"renal {_num(renal.shown)} ({renal.method}, {renal.comparator}"
            f"{', mhra' if renal.mhra else ''}, {sorted(renal.weight_labels)}); "
            f"findings {fires}; either {either}")


def describe_got(got: Outcome) -> str:
    if isinstance(got, InputErrors):
        return f"input error: {got}"
    r = got.regimen
    regimen = "None" if r is None else (
        f"{r.dose_basis} {r.elemental_mmol_per_day} mmol/day "
        f"(max {r.max_elemental_mmol_per_day}), alternative {r.alternative is not None}")
    d = got.derived
    return (f"{got.status} by {got.decided_by}; regimen {regimen}; crcl {d.crcl_ml_min} "
            f"({d.crcl_method}, {d.crcl_comparator}, {d.crcl_weight_basis}); findings "
            f"{sorted(finding_ids(got))}")


def report_line(index: int, raw: dict[str, Any], readings: list[Decision], got: Outcome,
                problem: str) -> str:
    spec = "\n      or ".join(describe_expected(d) for d in readings)
    return (f"#{index} {json.dumps(raw, ensure_ascii=False)}\n"
            f"    problem: {problem}\n    spec: {spec}\n    got:  {describe_got(got)}")


# ---------------------------------------------------------------------------------------------
# The population
# ---------------------------------------------------------------------------------------------

def _decimal(x: Fraction) -> Decimal:
    return D(x.numerator) / D(x.denominator)


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

    def quantity(self, value: Decimal, unit: str, comparator: str = "") -> Any:
        """Written the ways the spec allows: "0.62 mmol/L", "1.5mg/dL", {"value", "unit"},
        a bound ">60 mL/min/1.73m2"."""
        spelled = self.pick(SPELLINGS[unit])
        style = self.rng.random()
        if comparator:
            return f"{comparator}{' ' if style < 0.3 else ''}{_text(value)} {spelled}"
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
        places = DECIMALS[unit]
        step = D(1).scaleb(-places)
        per = MG_PER_MMOL_L[unit]
        while True:
            roll = self.rng.random()
            if roll < 0.40:  # on a printed limit or one or two printed steps away
                value = self.pick(MG_PRINTED[unit]) + self.pick([0, 0, 0, -1, 1, -2, 2]) * step
            elif roll < 0.52:  # finer than labs print, right next to a limit
                limit = self.pick(range(4))
                canonical = MG_CANONICAL[limit] * per
                printed = MG_PRINTED[unit][limit]
                value = self.pick([
                    canonical, canonical.quantize(D("0.001")), printed - step / 10,
                    printed + step / 10, printed - step / 2, printed + step / 2,
                    (canonical + printed) / 2,
                ]).quantize(D("0.00001")).normalize()
            elif roll < 0.94:  # anywhere clinically usual, at lab precision
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

    def egfr(self) -> Any:
        roll = self.rng.random()
        if roll < 0.35:  # on and next to a band limit
            value = D(self.pick([CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED])) + D(
                self.pick(["0", "0", "0", "-1", "1", "-0.5", "0.5"]))
        elif roll < 0.65:  # a bound, as labs print it: some decide a band, some do not
            comparator = self.pick(["<", ">", "<=", ">=", "≥", "≤", ">", ">"])
            number = self.pick([15, 19, 20, 21, 29, 30, 31, 45, 59, 60, 60, 60, 61, 90, 90])
            return self.quantity(D(number), EGFR_UNIT, comparator)
        else:
            value = D(self.rng.randint(1, 200)) if self.chance(0.8) else self.decimal(1, 200, 1)
        return self.quantity(value, EGFR_UNIT)

    def age(self) -> Any:
        roll = self.rng.random()
        if roll < 0.06:
            return None
        if roll < 0.15:
            return self.pick([0, 1, 5, 12, 16, 17, 17, "17.9", "17.5", self.rng.randint(0, 17)])
        if roll < 0.22:
            return self.pick([18, 18, "18", "18.0", 64, 65, 65])
        if roll < 0.32:
            return self.pick([74, "74.9", 75, 75, "75", "75.0", 76])
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
            if self.chance(0.55):
                value = D(self.pick([
                    "0", "0.04", "0.1", "5.9", "5.95", "5.96", "6", "6.04", "6.1", "11.9",
                    "11.94", "11.95", "11.96", "12", "12.0", "12.04", "12.1", "23.9", "23.95",
                    "24", "24", "24.04", "24.1", "30"]))
            else:
                value = self.decimal(0, 60, 1)
            return self.quantity(value, "mmol/day")
        if self.chance(0.55):
            value = D(self.pick(["0", "1", "145", "145.8", "145.83", "146", "290", "290.4",
                                 "290.5", "291", "291.6", "291.7", "292", "582", "583",
                                 "583.3", "584", "600"]))
        else:
            value = D(self.rng.randint(0, 1458))
        return self.quantity(value, "mg/day")

    def potassium(self) -> Any:
        unit = self.pick(UNITS["k"])
        if self.chance(0.4):
            value = self.pick([K_SEVERE_LOW, K_LLN, K_ULN, K_SEVERE_HIGH]) + D(
                self.pick(["0", "0", "-0.1", "0.1", "-0.05", "0.05", "-0.01", "0.01"]))
        else:
            value = self.decimal(2.2, 6.8, 1)
        return self.quantity(value, unit)

    def calcium(self) -> Any:
        unit = self.pick(UNITS["ca"])
        step = D(1).scaleb(-DECIMALS[unit])
        if self.chance(0.4):  # on and next to the printed limits (total calcium)
            value = self.pick(CA_PRINTED[unit]) + self.pick([0, 0, -1, 1]) * step
        else:
            mmol = self.decimal(1.4, 3.0, 2)
            value = (mmol * D(str(float(CA_PER_MMOL_L[unit])))).quantize(step)
        return self.quantity(value, unit)

    def albumin(self) -> Any:
        if self.chance(0.6):
            return self.quantity(D(self.pick([40] * 3 + list(range(15, 51)))), "g/L")
        return self.quantity(self.decimal(1.5, 5.0, 1), "g/dL")

    def subset(self, items: list[str], most: int) -> list[str]:
        return self.rng.sample(items, self.rng.randint(1, most))

    def medication(self) -> str:
        """A class id, one of its generic or brand names, or a medicine no class includes
        (atorvastatin, metformin...), sometimes in another case ("case-insensitive")."""
        roll = self.rng.random()
        if roll < 0.07:
            name = str(self.pick(UNRECOGNISED_MEDS))
        else:
            cls = self.pick(MED_CLASSES)
            name = cls if roll < 0.3 else str(self.pick(MED_NAMES[cls]))
        if self.chance(0.15):
            name = self.pick([name.lower(), name.upper(), name.title()])
        return name

    def medications(self, most: int) -> list[str]:
        """A medication list of 1 to ``most`` names, none repeated (in any case)."""
        names: list[str] = []
        for _ in range(self.rng.randint(1, most)):
            name = self.medication()
            if name.lower() not in {n.lower() for n in names}:
                names.append(name)
        return names

    # --- patients -----------------------------------------------------------------------------

    def patient(self, index: int) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        if self.chance(0.03):
            raw["id"] = f"pop-{index}"
        fields = {
            "mg": self.mg(),
            "k": self.potassium() if self.chance(0.45) else None,
            "ca": self.calcium() if self.chance(0.3) else None,
            "albumin": self.albumin() if self.chance(0.15) else None,
            "crcl": self.crcl() if self.chance(0.35) else None,
            "egfr": self.egfr() if self.chance(0.15) else None,
            "creatinine": self.creatinine() if self.chance(0.8) else None,
            "age": self.age(),
            "sex": self.pick(["female", "male"]) if self.chance(0.92) else None,
            "weight": self.weight() if self.chance(0.88) else None,
            "height": self.height() if self.chance(0.5) else None,
        }
        raw.update({k: v for k, v in fields.items() if v is not None})
        roll = self.rng.random()
        if roll < 0.09:
            self.cockcroft_gault_on_a_limit(raw)
        elif roll < 0.14:
            self.bmi_on_a_limit(raw)
        elif roll < 0.21:
            self.reported_against_cockcroft_gault(raw)
        elif roll < 0.35:
            self.egfr_only(raw)
        if self.chance(0.08):
            self.adjusted_calcium_on_a_limit(raw)
        # eGFR-only patients reach the MHRA exception only past the red flags: half of them are
        # made supplement candidates
        candidate = self.chance(0.5 if 0.21 <= roll < 0.35 else 0.1)
        if self.chance(0.3):
            choices = ["auto", "actual"] + (["ideal", "adjusted"] * 2 if "height" in raw else [])
            raw["crcl_weight"] = self.pick(choices)
        elif "height" not in raw and self.chance(0.01):
            raw["crcl_weight"] = self.pick(["ideal", "adjusted"])  # an input error, per spec
        if self.chance(0.5):
            raw["current_dose"] = self.dose()
            if self.chance(0.88):
                raw["days_on_dose"] = self.pick([0, 6, 7, 13, 14, 15]) if self.chance(0.4) \
                    else self.rng.randint(0, 400)
        elif self.chance(0.04):
            raw["days_on_dose"] = self.rng.randint(0, 60)
        if self.chance(0.4):
            raw["symptoms"] = self.subset(SYMPTOMS, 3)
        if self.chance(0.5):
            raw["meds"] = self.medications(3)
        if self.chance(0.06):
            # a magnesium-containing medicine, half the time without a current dose: taking
            # magnesium for 1g, stop-magnesium and separate-dosing, yet not a dose to maintain
            meds = raw.setdefault("meds", [])
            name = self.pick(MED_NAMES[MG_SOURCE])
            if name.lower() not in {n.lower() for n in meds}:
                meds.append(name)
            if self.chance(0.5):
                raw.pop("current_dose", None)
                raw.pop("days_on_dose", None)
        if self.chance(0.4):
            raw["conditions"] = self.subset(CONDITIONS, 2)
        if self.chance(0.02):
            raw["conditions"] = ["pregnancy"]
            raw["symptoms"] = ["seizure"]
            raw["sex"] = "female"
        if self.chance(0.6):
            raw["indication"] = self.pick(INDICATIONS)
        if candidate:
            self.supplement_candidate(raw)
        return raw

    def supplement_candidate(self, raw: dict[str, Any]) -> None:
        """No red flag and nothing that settles the decision before the renal bands: Mg low (not
        severe), K and Ca unremarkable, an adult who is not pre-eclamptic, on dialysis or with
        an acute kidney injury - so that the bands, the regimens and maintenance are reached."""
        unit = self.pick(UNITS["mg"])
        per = MG_PER_MMOL_L[unit]
        if self.chance(0.75):
            mmol = self.decimal(0.50, 0.69, 2)
        else:
            mmol = self.decimal(0.70, 1.05, 2)  # in range: maintain or do-not-supplement
        raw["mg"] = self.quantity((mmol * per).quantize(D(1).scaleb(-DECIMALS[unit]),
                                                        rounding=ROUND_DOWN), unit)
        for key in ("k", "ca", "albumin"):
            raw.pop(key, None)
        if isinstance(raw.get("age"), int | str) and F(D(str(raw["age"]))) < 18:
            raw["age"] = self.rng.randint(18, 100)
        quiet = [s for s in SYMPTOMS if s not in RED_FLAGS | NEUROMUSCULAR | HYPERMG_SIGNS
                 and s != CONFUSION]
        raw["symptoms"] = self.rng.sample(quiet, self.rng.randint(0, 2))
        raw["conditions"] = [c for c in raw.get("conditions", ())
                             if c not in ("pre-eclampsia", "dialysis", "acute-kidney-injury")]
        if self.chance(0.5):
            raw["current_dose"] = self.dose()
            raw["days_on_dose"] = self.pick([0, 6, 7, 13, 14, 15, 30, 90])

    def cg_patient(self, target: Fraction) -> tuple[int, str, Decimal, Decimal]:
        """Age, sex, creatinine (mg/dL) and weight (kg, 2 decimals) whose Cockcroft-Gault CrCl
        on actual weight is exactly ``target`` mL/min."""
        for _ in range(400):
            age = self.rng.randint(18, 100)
            sex = self.pick(["female", "male"])
            creat = self.decimal(0.3, 8.0, 2)
            weight = F(72) * target * F(creat) / ((140 - age) * (F("0.85") if sex == "female"
                                                                 else 1))
            if 20 <= weight <= 400 and (weight * 100).denominator == 1:
                return age, sex, creat, _decimal(weight)
        # 72 x w / (72 x 3) = w / 3
        return 68, "male", D("3.00"), _decimal(3 * target).quantize(D("0.01"))

    def cockcroft_gault_on_a_limit(self, raw: dict[str, Any]) -> None:
        """Creatinine, age, sex and weight whose Cockcroft-Gault CrCl is exactly 20, 30 or 60
        mL/min (actual weight), sometimes nudged just off it."""
        for key in ("crcl", "height", "crcl_weight"):
            raw.pop(key, None)
        limit = F(self.pick([CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED]))
        age, sex, creat, kg = self.cg_patient(limit)
        if self.chance(0.35):
            kg = min(max(kg + self.pick([D("-0.1"), D("0.1"), D("-0.01"), D("0.01")]), D(20)),
                     D(400))  # inside the plausible weights
        raw.update(age=age, sex=sex, weight=self.quantity(kg, "kg"),
                   creatinine=self.quantity(creat, "mg/dL"))
        if self.chance(0.3):
            raw["height"] = self.quantity(D(self.rng.randint(150, 200)), "cm")
            raw["crcl_weight"] = "actual"

    def reported_against_cockcroft_gault(self, raw: dict[str, Any]) -> None:
        """A reported CrCl exactly 25 % above or below a Cockcroft-Gault estimate (of the
        smaller), or just inside or outside that."""
        for key in ("height", "crcl_weight"):
            raw.pop(key, None)
        cg = F(self.pick([CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED, 24, 40, 48, 80,
                          F("19.2"), F("19.2"), F("48")]))  # x 1.25: 24 and 60, across a limit
        age, sex, creat, kg = self.cg_patient(cg)
        reported = _decimal(cg) * self.pick([D("1.25"), D("0.8")]) + self.pick(
            [D(0), D(0), D("0.01"), D("-0.01"), D("0.1"), D("-0.1"), D(1), D(-1)])
        raw.update(age=age, sex=sex, weight=self.quantity(kg, "kg"),
                   creatinine=self.quantity(creat, "mg/dL"),
                   crcl=self.quantity(max(reported, D(1)), "mL/min"))

    def bmi_on_a_limit(self, raw: dict[str, Any]) -> None:
        """Weight and height whose BMI is exactly 18, 18.5, 25 or 40 (the weight-basis bands and
        the MHRA limits), or just off it."""
        raw.pop("crcl", None)
        raw.pop("crcl_weight", None)
        cm = D(self.rng.randint(150, 200))
        kg = D(self.pick(["18", "18.5", "25", "40"])) * (cm / 100) ** 2
        if self.chance(0.4):
            kg += self.pick([D("-0.01"), D("0.01"), D("0.2"), D("-0.2")])
        raw["height"] = self.quantity(cm, "cm") if self.chance(0.5) \
            else self.quantity(cm.scaleb(-2), "m")
        raw["weight"] = self.quantity(kg.normalize(), "kg")
        if self.chance(0.5):
            raw.pop("creatinine", None)  # eGFR only: the MHRA limits
            raw["egfr"] = self.egfr()
        else:
            raw.setdefault("creatinine", self.creatinine())
        raw["age"] = self.rng.randint(18, 100)
        raw["sex"] = self.pick(["female", "male"])

    def egfr_only(self, raw: dict[str, Any]) -> None:
        """eGFR and no creatinine clearance (reported or derivable), often around 75 years."""
        raw.pop("crcl", None)
        raw.pop(self.pick(["creatinine", "creatinine", "creatinine", "sex", "weight"]), None)
        raw["egfr"] = self.egfr()
        if self.chance(0.5):
            raw["age"] = self.pick([60, 74, "74.9", 75, "75.0", 76, 90])
        elif self.chance(0.6) and "weight" in raw:
            # BMI just either side of 18 or 40 (MHRA), over a range wider than a printed step
            cm = D(self.rng.randint(150, 200))
            bmi = D(self.pick(["18", "40"])) + self.decimal(-1, 1, 2)
            raw["height"] = self.quantity(cm, "cm")
            raw["weight"] = self.quantity((bmi * (cm / 100) ** 2).quantize(D("0.01")), "kg")
            if isinstance(raw.get("age"), int | str) and F(D(str(raw["age"]))) >= MHRA_AGE:
                raw["age"] = self.rng.randint(18, 74)

    def adjusted_calcium_on_a_limit(self, raw: dict[str, Any]) -> None:
        """Calcium and albumin whose Payne-adjusted calcium is on or next to 1.90 or 2.20 mmol/L
        as printed in the unit calcium is entered in."""
        unit = self.pick(UNITS["ca"])
        places = DECIMALS[unit]
        step = D(1).scaleb(-places)
        if self.chance(0.6):
            g_l = self.pick([40] * 2 + list(range(15, 51)))
            albumin_g_dl = F(g_l) * ALBUMIN_G_DL_PER_G_L
            raw["albumin"] = self.quantity(D(g_l), "g/L")
        else:
            albumin_g_dl = F(self.decimal(1.5, 5.0, 1))
            raw["albumin"] = self.quantity(D(albumin_g_dl.numerator) / albumin_g_dl.denominator,
                                           "g/dL")
        target = self.pick(CA_PRINTED[unit]) + self.pick([0, 0, 0, -1, 1]) * step
        total = F(target) - (4 - albumin_g_dl) * CA_PER_MG_DL[unit]
        exact = D(total.numerator) / D(total.denominator)
        value = exact.quantize(D("0.0001") if self.chance(0.2) else step, rounding=ROUND_DOWN
                               if self.chance(0.5) else ROUND_HALF_UP)
        if D("0.5") <= value / D(str(float(CA_PER_MMOL_L[unit]))) <= D(5):
            raw["ca"] = self.quantity(value, unit)


def make_population(size: int, seed: int) -> list[dict[str, Any]]:
    generator = Generator(seed)
    return [generator.patient(i) for i in range(size)]


@dataclass
class Case:
    index: int
    raw: dict[str, Any]
    readings: list[Decision]
    ambiguities: set[str]
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
    readings = [spec_readings(raw) for raw in raws]
    t3 = time.perf_counter()
    cases = [Case(i, raw, r, keys, got)
             for i, (raw, (r, keys), got) in enumerate(zip(raws, readings, outcomes,
                                                           strict=True))]
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


def test_population_echoes_the_new_inputs(population: Population) -> None:
    problems = list(collect(population.cases,
                            lambda c: "; ".join(echo_problems(c.raw, c.got)) or None))
    fail_with(problems, "do not echo eGFR, albumin, adjusted Ca or BMI as the spec says",
              len(population.cases))


def test_population_safety_invariants(population: Population) -> None:
    problems = list(collect(population.cases,
                            lambda c: "; ".join(safety_problems(c.raw, c.got)) or None))
    fail_with(problems, "break a safety invariant", len(population.cases))


def test_population_reaches_every_status_and_step(population: Population) -> None:
    """The generator is not vacuous: every status, every step, every printed limit in every
    unit, CrCl and eGFR exactly on each limit, both sides of the 25 % rule, the MHRA exception
    and every dose basis occur."""
    if POPULATION < 2000:
        pytest.skip("coverage is only asserted for populations of 2000 or more")
    statuses: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    on_limit: Counter[str] = Counter()
    bases: Counter[str] = Counter()
    ambiguities: Counter[str] = Counter()
    meds: Counter[str] = Counter()
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
        ambiguities.update(case.ambiguities)
        facts = read_facts(case.raw)
        if facts.mg is not None and facts.mg[0] in MG_PRINTED[facts.mg[1]]:
            value, unit = facts.mg
            printed = MG_PRINTED[unit][MG_PRINTED[unit].index(value)]  # "0.5" counts as 0.50
            on_limit[f"mg {printed} {unit}"] += 1
        if facts.k in (K_SEVERE_LOW, K_LLN, K_ULN, K_SEVERE_HIGH):
            on_limit[f"k {facts.k}"] += 1
        if facts.ca is not None and facts.albumin_g_dl is not None:
            value, unit = facts.ca
            adjusted = F(value) + (4 - facts.albumin_g_dl) * CA_PER_MG_DL[unit]
            printed_adjusted = round_half_up(adjusted, DECIMALS[unit])
            for ca_limit in CA_PRINTED[unit]:
                if printed_adjusted == ca_limit:
                    on_limit[f"adjusted ca {ca_limit} {unit}"] += 1
        renal = case.readings[0].renal
        if renal.shown in (CRCL_CONTRAINDICATED, CRCL_SEVERE, CRCL_REDUCED):
            on_limit[f"renal {renal.shown} {renal.method} {renal.comparator or ''}".strip()] += 1
        if renal.cg is not None and facts.crcl is not None:
            small, large = sorted((facts.crcl, renal.cg))
            side = "=" if large - small == small / 4 else ">" if large - small > small / 4 \
                else "<"
            on_limit[f"reported vs cockcroft-gault {side} 25 %"] += 1
        if renal.mhra:
            on_limit["mhra exception"] += 1
        if facts.age == MHRA_AGE:
            on_limit["age 75"] += 1
        if facts.bmi is not None and truncate(facts.bmi) in (MHRA_BMI_LOW, MHRA_BMI_HIGH):
            on_limit[f"bmi {truncate(facts.bmi)}"] += 1
        if facts.dose is not None:
            value, unit = facts.dose
            for limit, printed in DOSE_PRINTED_MG.items():
                if limit and value == (printed if unit == "mg/day" else limit):
                    on_limit[f"dose {limit} mmol/day as {unit}"] += 1
        count_medications(meds, case.raw, facts, got)
    print(f"\npopulation {len(population.cases)} seed {SEED}: generate "
          f"{population.generate_s:.2f} s, engine {population.engine_s:.2f} s, oracle "
          f"{population.oracle_s:.2f} s; {ambiguous} patients with more than one spec reading; "
          f"{errors} input errors")
    print("statuses:", dict(statuses.most_common()))
    print("steps:", dict(steps.most_common()))
    print("on a limit:", dict(sorted(on_limit.items())))
    print("dose basis:", dict(bases.most_common()))
    print("ambiguities met:", dict(ambiguities.most_common()))
    print("medications:", dict(sorted(meds.items())))
    assert set(statuses) == set(STATUSES), statuses
    assert set(steps) == set(STEPS), set(STEPS) - set(steps)
    wanted = {f"mg {v} {unit}" for unit, limits in MG_PRINTED.items() for v in limits}
    wanted |= {f"renal {v} {m}" for v in (20, 30, 60)
               for m in ("reported", "cockcroft-gault", "egfr")}
    wanted |= {f"renal 60 egfr {c}" for c in (">", ">=")}
    wanted |= {f"k {v}" for v in (K_SEVERE_LOW, K_LLN, K_ULN, K_SEVERE_HIGH)}
    wanted |= {f"adjusted ca {v} {unit}" for unit, limits in CA_PRINTED.items() for v in limits}
    wanted |= {f"reported vs cockcroft-gault {side} 25 %" for side in "<=>"}
    wanted |= {"mhra exception", "age 75", "bmi 18", "bmi 40"}
    wanted |= {f"dose {n} mmol/day as {unit}" for n in (REDUCED_MMOL, STANDARD_MMOL, STEP_UP_MMOL)
               for unit in UNITS["current_dose"]}
    assert wanted <= set(on_limit), sorted(wanted - set(on_limit))
    least = max(2, len(population.cases) // 1000)  # 10 in the default 10,000
    assert min(statuses.values()) >= least and min(steps.values()) >= least, (statuses, steps)
    assert {"standard-start", "step-up", "reduced", "regimen-maximum"} <= set(bases), bases
    wanted_meds = {f"class {c}" for c in MED_CLASSES} | set(MED_FINDINGS) | {
        f"separate-dosing with {c}" for c in INTERACTING_MEDS} | {
        f"{finding} on a magnesium-containing medicine alone"
        for finding in ("suspected-hypermagnesemia", "stop-magnesium", "separate-dosing",
                        "magnesium-containing-medicine")} | {
        "not recognised", "a name in another case", "esomeprazole magnesium",
        "mg in range on a magnesium-containing medicine alone: not maintain",
        "magnesium-containing medicine, renal value >= 60: no warning"}
    assert wanted_meds <= set(meds), sorted(wanted_meds - set(meds))


MED_FINDINGS = ("risk-factors-present", "normal-mg-does-not-exclude-deficiency", "review-ppi",
               "digoxin-risk", "magnesium-containing-medicine", "separate-dosing",
               "medication-not-recognised")


AS_WRITTEN = frozenset(MED_CLASSES) | {n for names in MED_NAMES.values() for n in names} | set(
    UNRECOGNISED_MEDS)


def count_medications(meds: Counter[str], raw: dict[str, Any], facts: Facts,
                      got: Assessment) -> None:
    """What the medication lists reached: every class, every medication finding, and a
    magnesium-containing medicine taken without a current dose."""
    ids = finding_ids(got)
    names = list(raw.get("meds", ()))
    meds.update(f"class {c}" for c in facts.meds)
    meds.update(finding for finding in MED_FINDINGS if finding in ids)
    if facts.meds_not_recognised:
        meds["not recognised"] += 1
    if any(n not in AS_WRITTEN for n in names):
        meds["a name in another case"] += 1
    if "esomeprazole magnesium" in (n.lower() for n in names):
        meds["esomeprazole magnesium"] += 1
    if "separate-dosing" in ids:
        meds.update(f"separate-dosing with {c}" for c in facts.meds & INTERACTING_MEDS)
    if MG_SOURCE not in facts.meds:
        return
    if facts.dose is None:
        for finding in ("suspected-hypermagnesemia", "stop-magnesium", "separate-dosing",
                        "magnesium-containing-medicine"):
            if finding in ids and got.regimen is None:
                meds[f"{finding} on a magnesium-containing medicine alone"] += 1
        if got.decided_by == "mg-normal" and got.derived.crcl_ml_min is not None:
            meds["mg in range on a magnesium-containing medicine alone: not maintain"] += 1
    if got.derived.crcl_ml_min is not None and got.derived.crcl_ml_min >= CRCL_REDUCED and \
            "magnesium-containing-medicine" not in ids:
        meds["magnesium-containing medicine, renal value >= 60: no warning"] += 1


def test_the_printed_limits_are_the_canonical_limits_rounded() -> None:
    """The spec's table of printed limits is its own boundary rule applied (convert the limit
    into the unit, round to the unit's reporting precision), for Mg and for Ca."""
    for unit, printed in MG_PRINTED.items():
        step = D(1).scaleb(-DECIMALS[unit])
        rounded = tuple((limit * MG_PER_MMOL_L[unit]).quantize(step, rounding=ROUND_HALF_UP)
                        for limit in MG_CANONICAL)
        assert rounded == printed, unit
    for unit, printed_ca in CA_PRINTED.items():
        step = D(1).scaleb(-DECIMALS[unit])
        per = D(str(float(CA_PER_MMOL_L[unit])))
        assert tuple((limit * per).quantize(step, rounding=ROUND_HALF_UP)
                     for limit in CA_CANONICAL) == printed_ca, unit
    # "so in SI it is about + 0.025 mmol/L per g/L below 40": 10 / 40.078 per g/dL
    assert float(CA_PER_MG_DL["mmol/L"] * ALBUMIN_G_DL_PER_G_L) == pytest.approx(0.025,
                                                                                abs=5e-4)


def test_the_population_is_deterministic() -> None:
    assert make_population(300, SEED) == make_population(300, SEED)
    assert make_population(300, SEED) != make_population(300, SEED + 1)


def test_readings_enumerate_every_combination() -> None:
    def walk(readings: Readings) -> tuple[int, str]:
        a = readings.choose("a", [1, 2, 3])
        b = readings.choose("b", ["x", "y"]) if a != 2 else "-"
        assert readings.choose("a", [9]) == a  # one reading: one answer per key
        return a, b

    results, keys = every_reading(walk)
    assert sorted(results) == [(1, "x"), (1, "y"), (2, "-"), (3, "x"), (3, "y")]
    assert keys == {"a", "b"}
    assert every_reading(lambda r: r.choose("same", [1, 1]))[0] == [1]


def test_the_oracle_reads_the_spec_examples() -> None:
    """The oracle itself, on the spec's own worked boundaries (no program involved)."""
    def band(text: str) -> MgBand:
        return read_facts({"mg": text}).mg_band(Readings([]))

    for text in ("0.70 mmol/L", "1.7 mg/dL", "1.4 mEq/L", "1.4meq/l"):
        assert not band(text).low, text
    for text in ("0.69 mmol/L", "1.6 mg/dL", "1.3 mEq/L", "0.69mmol/l"):
        assert band(text).low and not band(text).severe, text
    assert band("0.49 mmol/L").severe
    assert not band("1.2 mg/dL").severe
    assert not band("2.6 mg/dL").high and band("2.7 mg/dL").high
    # "Mg 2.0 mmol/L and K 6.5 mmol/L are severe" (≥ includes the printed limit)
    for text in ("2.0 mmol/L", "4.9 mg/dL", "4.0 mEq/L"):
        assert band(text).severe_high, text
    for text in ("1.99 mmol/L", "4.8 mg/dL", "3.9 mEq/L"):
        assert not band(text).severe_high, text

    def decided(raw: dict[str, Any]) -> set[tuple[str, str]]:
        return {(d.status, d.step) for d in spec_decisions(raw)}

    assert decided({"mg": "0.6 mmol/L", "k": "6.5 mmol/L"}) == {
        ("urgent", "urgent-severe-hyperkalemia")}
    assert decided({"mg": "0.6 mmol/L", "k": "6.4 mmol/L", "crcl": "90 mL/min"}) == {
        ("supplement", "supplement")}
    # a child's red flag is urgent; pre-eclampsia keeps only 1e urgent
    assert decided({"mg": "0.4 mmol/L", "age": 10}) == {("urgent", "urgent-severe-mg")}
    assert decided({"mg": "0.4 mmol/L", "conditions": ["pre-eclampsia"]}) == {
        ("out-of-scope", "pre-eclampsia")}
    assert decided({"mg": "1.5 mmol/L", "conditions": ["pre-eclampsia"],
                    "symptoms": ["hyporeflexia"]}) == {
        ("urgent", "urgent-symptomatic-hypermagnesemia")}
    # atrial fibrillation is not a red flag
    assert decided({"mg": "0.6 mmol/L", "crcl": "90 mL/min",
                    "symptoms": ["atrial-fibrillation"]}) == {("supplement", "supplement")}
    # Payne: 2.00 mmol/L with albumin 30 g/L is 2.00 + 10 / 40.078 = 2.25 adjusted
    calcium = read_facts({"ca": "2.00 mmol/L", "albumin": "30 g/L"}).calcium(Readings([]))
    assert calcium is not None and float(calcium[2]) == pytest.approx(2.2495, abs=1e-4)
    assert decided({"mg": "0.8 mmol/L", "ca": "1.70 mmol/L", "albumin": "25 g/L"}) == {
        ("do-not-supplement", "mg-normal")}  # 1.70 + 15 / 40.078 = 2.07 adjusted
    assert decided({"mg": "0.8 mmol/L", "ca": "1.60 mmol/L", "albumin": "40 g/L"}) == {
        ("urgent", "urgent-severe-hypocalcemia")}
    assert decided({"mg": "0.8 mmol/L", "ca": "1.60 mmol/L"}) == {
        ("do-not-supplement", "mg-normal")}  # total calcium is not a red flag
    # eGFR: ">60" is the >= 60 band; ">25" decides nothing; elderly: not for dosing
    low = {"mg": "0.6 mmol/L"}
    assert decided({**low, "egfr": ">60 mL/min/1.73m2"}) == {("supplement", "supplement")}
    assert decided({**low, "egfr": ">25 mL/min/1.73m2"}) == {
        ("insufficient-data", "renal-function-unknown")}
    assert decided({**low, "egfr": "45 mL/min/1.73m2"}) == {
        ("supplement-with-caution", "renal-dose-reduction")}
    assert decided({**low, "egfr": "45 mL/min/1.73m2", "age": 75}) == {
        ("insufficient-data", "egfr-not-for-dosing")}
    assert decided({**low, "egfr": "10 mL/min/1.73m2", "age": 80}) == {
        ("contraindicated", "renal-contraindication"),
        ("insufficient-data", "egfr-not-for-dosing")}
    # CG: (140 - 68) x 60 / (72 x 3.00) = 20 exactly; x 0.85 for a woman
    man = {"mg": "0.6 mmol/L", "age": 68, "sex": "male", "weight": "60 kg",
           "creatinine": "3.00 mg/dL"}
    [decision] = spec_decisions(man)
    assert decision.renal.shown == 20
    assert (decision.status, decision.step, decision.regimen) == (
        "supplement-with-caution", "renal-caution-severe", "reduced-6")
    [woman] = spec_decisions({**man, "sex": "female"})
    assert woman.renal.shown == 17
    assert woman.step == "renal-contraindication"
    umol = spec_decisions({**man, "creatinine": "265 umol/L"})
    assert [float(d.renal.shown or 0) for d in umol] == pytest.approx([20.015, 20.015],
                                                                     abs=1e-3)
    # reported 25 vs CG 20: exactly 25 % of the smaller, so the reported value stands; 25.01 is
    # more than 25 %, so the lower (CG) is used
    [same] = spec_decisions({**man, "crcl": "25 mL/min"})
    assert (same.renal.method, same.renal.shown, same.renal.discrepancy) == ("reported", F(25),
                                                                             False)
    [lower] = spec_decisions({**man, "crcl": "25.01 mL/min"})
    assert (lower.renal.method, lower.renal.shown, lower.renal.discrepancy) == (
        "cockcroft-gault", F(20), True)
    # the regimen follows the deciding step
    ok = {"mg": "0.6 mmol/L", "crcl": "90 mL/min"}
    assert [d.regimen for d in spec_decisions({**ok, "current_dose": "24 mmol/day"})] == [
        "regimen-maximum"]
    assert [d.regimen for d in spec_decisions({**ok, "current_dose": "12 mmol/day",
                                               "days_on_dose": 7})] == ["step-up"]
    assert [d.regimen for d in spec_decisions({**ok, "current_dose": "6 mmol/day",
                                               "days_on_dose": 7})] == ["standard-start"]
    assert decided({"mg": "0.8 mmol/L", "crcl": "90 mL/min", "current_dose": "12 mmol/day"}) \
        == {("maintain", "maintain")}
    assert decided({"mg": "0.8 mmol/L", "current_dose": "12 mmol/day"}) == {
        ("insufficient-data", "maintain-renal-unknown")}

    # medications (revision 2): names by class id, generic or brand, any case; others listed
    facts = read_facts({"meds": ["esomeprazole magnesium", "ATORVASTATIN", "Lanoxin", "iron"]})
    assert facts.meds == {"ppi", "digoxin", "iron"}  # "esomeprazole magnesium stays a PPI"
    assert facts.meds_not_recognised == ("ATORVASTATIN",)

    def fires(raw: dict[str, Any], finding: str) -> set[bool | None]:
        return {dict(d.findings)[finding] for d in spec_decisions(raw)}

    # a magnesium-containing medicine is taking magnesium (1g, stop-magnesium), not a dose to
    # maintain; it warns with CrCl < 60 or unknown
    epsom = {"meds": ["Epsom salts"]}
    assert decided({**epsom, "symptoms": ["hyporeflexia"]}) == {
        ("urgent", "urgent-suspected-hypermagnesemia")}
    in_range = {"mg": "0.8 mmol/L", "crcl": "90 mL/min"}
    assert decided({**in_range, **epsom}) == {("do-not-supplement", "mg-normal")}
    assert fires({**in_range, "mg": "1.2 mmol/L", **epsom}, "stop-magnesium") == {True}
    assert fires({**in_range, "crcl": "15 mL/min", **epsom}, "stop-magnesium") == {True}
    assert fires({**in_range, "crcl": "59 mL/min", **epsom},
                 "magnesium-containing-medicine") == {True}
    assert fires({**in_range, "crcl": "60 mL/min", **epsom},
                 "magnesium-containing-medicine") == {False}
    assert fires({"mg": "0.8 mmol/L", **epsom}, "magnesium-containing-medicine") == {True}
    low = {"mg": "0.6 mmol/L", "crcl": "90 mL/min"}
    assert fires({**low, "meds": ["Nexium"]}, "review-ppi") == {True}
    assert fires({**in_range, "meds": ["Nexium"]}, "review-ppi") == {False}
    assert fires({**low, "meds": ["digoxin"]}, "digoxin-risk") == {True}
    assert fires({**in_range, "meds": ["Lanoxin"]}, "digoxin-risk") == {False}
    # separate-dosing: with a regimen, or a magnesium-containing medicine; not otherwise
    assert fires({**low, "meds": ["ferrous sulfate"]}, "separate-dosing") == {True}
    assert fires({**in_range, "meds": ["dolutegravir"]}, "separate-dosing") == {False}
    assert fires({**in_range, "meds": ["dolutegravir", "milk of magnesia"]},
                 "separate-dosing") == {True}
    assert fires({**low, "meds": ["cisplatin"]}, "risk-factors-present") == {True}
    assert fires({**low, "meds": ["digoxin", "Revolade", "metformin"]},
                 "risk-factors-present") == {False}
    assert fires({**low, "meds": ["metformin"]}, "medication-not-recognised") == {True}


_CG_24 = {"age": 59, "sex": "male", "weight": "138.88 kg", "creatinine": "6.51 mg/dL"}
_CG_19_2 = {"age": 68, "sex": "male", "weight": "57.6 kg", "creatinine": "3.00 mg/dL"}
_CG_30 = {"age": 68, "sex": "male", "weight": "90 kg", "creatinine": "3.00 mg/dL"}


@pytest.mark.parametrize(("cockcroft_gault", "reported"), [
    pytest.param(_CG_24, "19.2 mL/min", id="cg 24, reported 19.2"),
    pytest.param(_CG_24, "30 mL/min", id="cg 24, reported 30"),
    pytest.param(_CG_19_2, "24 mL/min", id="cg 19.2, reported 24"),
    pytest.param(_CG_30, "37.5 mL/min", id="cg 30, reported 37.5"),
])
def test_a_difference_of_exactly_25_percent_is_not_a_discrepancy(
        assess: Callable[..., Assessment], cockcroft_gault: dict[str, Any],
        reported: str) -> None:
    """"differing by > 25 % of the smaller": Cockcroft-Gault of exactly 24, 19.2 and 30 mL/min
    ((140 - 59) x 138.88 / (72 x 6.51); (140 - 68) x 57.6 / (72 x 3.00); (140 - 68) x 90 /
    (72 x 3.00)) and a reported value exactly 25 % of the smaller away: the reported value
    stands - whichever side of a band limit the two lie - and crcl-discrepancy does not fire."""
    raw = {"mg": "0.6 mmol/L", **cockcroft_gault, "crcl": reported}
    [spec] = spec_decisions(raw)
    assert (spec.renal.method, spec.renal.discrepancy) == ("reported", False)
    assert oracle_disagreement([spec], assess(**raw)) is None


def test_the_checks_can_fail(assess: Callable[..., Assessment]) -> None:
    """Mutated assessments are caught, so a passing population run means something."""
    raw = {"mg": "0.6 mmol/L", "crcl": "90 mL/min", "current_dose": "12 mmol/day",
           "days_on_dose": 10, "conditions": ["chronic-diarrhea"]}
    readings = spec_decisions(raw)
    good = assess(**raw)
    assert oracle_disagreement(readings, good) is None
    assert safety_problems(raw, good) == []
    assert echo_problems(raw, good) == []
    assert good.regimen is not None

    wrong_status = replace(good, status=Status("do-not-supplement"))
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
    no_finding = replace(good, findings=[f for f in good.findings if f.id != "step-up-dose"])
    assert "step-up-dose" in (oracle_disagreement(readings, no_finding) or "")
    wrong_crcl = replace(good, derived=replace(good.derived, crcl_ml_min=45.0))
    assert "crcl" in (oracle_disagreement(readings, wrong_crcl) or "")
    assert echo_problems(raw, replace(good, derived=replace(good.derived,
                                                            crcl_reported_ml_min=None)))

    severe = {"mg": "1.1 mg/dL", "crcl": "90 mL/min"}  # < 1.2 mg/dL: severe
    severe_got = assess(**severe)
    unsafe = replace(severe_got, status=Status("supplement"), decided_by="supplement",
                     regimen=good.regimen, monitoring=good.monitoring)
    problems = safety_problems(severe, unsafe)
    assert any("must be urgent" in p for p in problems), problems
    renal = {"mg": "0.6 mmol/L", "crcl": "19 mL/min"}
    unsafe_renal = replace(assess(**renal), status=Status("supplement"), regimen=good.regimen)
    assert any("< 20" in p for p in safety_problems(renal, unsafe_renal))
    caution = {"mg": "0.6 mmol/L", "crcl": "25 mL/min"}
    caution_got = assess(**caution)
    assert caution_got.regimen is not None
    too_much = replace(caution_got, regimen=replace(
        caution_got.regimen, elemental_mmol_per_day=12.0, elemental_mg_per_day=291.66,
        product_mg_per_day=12 * 40.304))
    assert any("above 6" in p for p in safety_problems(caution, too_much))
    hyper = {"mg": "1.5 mmol/L", "crcl": "90 mL/min", "current_dose": "12 mmol/day"}
    hyper_got = assess(**hyper)
    silent = replace(hyper_got, findings=[f for f in hyper_got.findings
                                          if f.id != "stop-magnesium"])
    assert any("stop-magnesium" in p for p in safety_problems(hyper, silent))
    child = {"mg": "0.6 mmol/L", "age": 9}
    child_got = assess(**child)
    no_age = replace(child_got, findings=[f for f in child_got.findings
                                          if f.id != "out-of-scope-age"])
    assert any("child" in p for p in safety_problems(child, no_age))
    maintain = {"mg": "0.8 mmol/L", "crcl": "90 mL/min", "current_dose": "12 mmol/day"}
    maintain_got = assess(**maintain)
    dosed = replace(maintain_got, regimen=good.regimen)
    assert safety_problems(maintain, dosed)
    assert "regimen" in (oracle_disagreement(spec_decisions(maintain), dosed) or "")

    # the medication findings (revision 2)
    meds = {"mg": "0.6 mmol/L", "crcl": "90 mL/min",
            "meds": ["Nexium", "ferrous sulfate", "Lanoxin", "atorvastatin"]}
    meds_readings = spec_decisions(meds)
    meds_got = assess(**meds)
    assert oracle_disagreement(meds_readings, meds_got) is None
    assert echo_problems(meds, meds_got) == []
    for finding in ("review-ppi", "separate-dosing", "digoxin-risk", "risk-factors-present",
                    "medication-not-recognised"):
        dropped = replace(meds_got, findings=[f for f in meds_got.findings if f.id != finding])
        assert finding in (oracle_disagreement(meds_readings, dropped) or ""), finding
    softer = replace(meds_got, findings=[
        replace(f, severity=Severity("info")) if f.id == "review-ppi" else f
        for f in meds_got.findings])
    assert "review-ppi is info" in (oracle_disagreement(meds_readings, softer) or "")
    unlisted = replace(meds_got, derived=replace(meds_got.derived, meds_not_recognised=[]))
    assert any("meds_not_recognised" in p for p in echo_problems(meds, unlisted))
    epsom = {"mg": "0.8 mmol/L", "crcl": "90 mL/min", "meds": ["Epsom salts"]}
    epsom_got = assess(**epsom)
    assert oracle_disagreement(spec_decisions(epsom), epsom_got) is None
    maintained = replace(epsom_got, status=Status("maintain"), decided_by="maintain",
                         monitoring=maintain_got.monitoring)
    assert any("maintain" in p for p in safety_problems(epsom, maintained))
    assert "status" in (oracle_disagreement(spec_decisions(epsom), maintained) or "")
    antacid = {"mg": "1.5 mmol/L", "crcl": "90 mL/min", "meds": ["milk of magnesia"]}
    antacid_got = assess(**antacid)
    quiet = replace(antacid_got, findings=[f for f in antacid_got.findings
                                           if f.id != "stop-magnesium"])
    assert any("stop-magnesium" in p for p in safety_problems(antacid, quiet))

    # the collector shows the raw patient and both answers
    case = Case(7, raw, readings, set(), wrong_status)
    [line] = collect([case], lambda c: oracle_disagreement(c.readings, c.got))
    assert line.startswith("#7 ") and '"mg": "0.6 mmol/L"' in line
    assert "spec: supplement by supplement-step-up" in line
    assert "got:  do-not-supplement" in line
