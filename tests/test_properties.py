"""Property-based tests (hypothesis): invariants of clinical-spec.md that must hold for every
patient, not only for hand-picked ones.

The expectations come from the spec, with factors written out here independently of the
program: Mg 1 mmol/L = 2 mEq/L = 2.4305 mg/dL; K 1 mmol/L = 1 mEq/L; Ca 1 mmol/L = 2 mEq/L =
4.0078 mg/dL; creatinine 1 mg/dL = 88.4 umol/L; 1 lb = 0.45359237 kg; 1 in = 2.54 cm;
1 m = 100 cm; elemental Mg 24.305 mg/mmol; MgO 40.304 mg/mmol (24.305 + 15.999).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pytest
from conftest import finding_ids
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from mgassist import Assessment, RuleSet, parse_patient

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
QUICK = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# The spec, written out independently
# ---------------------------------------------------------------------------------------------

MG_LLN, MG_SEVERE, MG_ULN = 0.70, 0.50, 1.05
K_LLN = 3.5
CRCL_LIMITS = (20.0, 30.0, 60.0)
MG_MG_PER_MMOL = 24.305
MGO_MG_PER_MMOL = 24.305 + 15.999  # magnesium oxide formula mass, g/mol

# value in the canonical unit x factor = value in the unit (spec "Units and thresholds")
TO_UNIT: dict[str, dict[str, float]] = {
    "mg": {"mmol/L": 1.0, "mEq/L": 2.0, "mg/dL": 2.4305},
    "k": {"mmol/L": 1.0, "mEq/L": 1.0},
    "ca": {"mmol/L": 1.0, "mEq/L": 2.0, "mg/dL": 4.0078},
    "creatinine": {"mg/dL": 1.0, "umol/L": 88.4},
    "weight": {"kg": 1.0, "lb": 1 / 0.45359237},
    "height": {"cm": 1.0, "m": 0.01, "in": 1 / 2.54},
    "current_dose": {"mmol/day": 1.0, "mg/day": MG_MG_PER_MMOL},
}
CANONICAL_UNIT = {q: next(iter(units)) for q, units in TO_UNIT.items()}

# Mg limits "as labs print them" (spec table): severe, LLN, ULN in each unit
MG_PRINTED: dict[str, tuple[Decimal, Decimal, Decimal]] = {
    "mmol/L": (Decimal("0.50"), Decimal("0.70"), Decimal("1.05")),
    "mEq/L": (Decimal("1.0"), Decimal("1.4"), Decimal("2.1")),
    "mg/dL": (Decimal("1.2"), Decimal("1.7"), Decimal("2.6")),
}

RANK = {
    "supplement": 0,
    "supplement-with-caution": 1,
    "do-not-supplement": 2,
    "insufficient-data": 2,
    "contraindicated": 3,
    "urgent": 4,
}
GIVES_REGIMEN = {"supplement", "supplement-with-caution"}

MEDS = ["loop-diuretic", "thiazide-diuretic", "ppi", "aminoglycoside", "calcineurin-inhibitor",
        "tetracycline", "fluoroquinolone", "bisphosphonate", "furosemide", "omeprazole",
        "doxycycline", "tacrolimus", "alendronate"]
CONDITIONS = ["chronic-diarrhea", "short-bowel-syndrome", "malabsorption", "high-output-stoma",
              "alcohol-use-disorder", "diabetes", "inflammatory-bowel-disease",
              "hyperthyroidism", "volume-depletion"]
SYMPTOMS = ["tetany", "seizure", "arrhythmia", "cramps", "spasm", "twitching", "paresthesia",
            "fatigue", "weakness", "hyporeflexia", "hypotension", "respiratory-depression",
            "confusion", "nausea"]
INDICATIONS = ["neck-spasm", "muscle-cramps", "back-pain", "neuropathic-pain", "migraine",
               "documented-hypomagnesemia", "other"]
RED_FLAGS = {"tetany", "seizure", "arrhythmia"}
HYPERMG_SIGNS = {"hyporeflexia", "hypotension", "respiratory-depression", "arrhythmia",
                 "confusion"}


def ideal_body_weight(sex: str, height_cm: float) -> float:
    """Devine: 50 kg (male) / 45.5 kg (female) + 2.3 kg per inch over 60 in (heights >= 60 in)."""
    return (50.0 if sex == "male" else 45.5) + 2.3 * (height_cm / 2.54 - 60)


def reference_cg(age: float, sex: str, weight: float, height: float | None, creat: float,
                 basis: str) -> float:
    """Cockcroft-Gault as the spec writes it (unrounded)."""
    used = weight
    if height is not None and basis != "actual":
        ibw = ideal_body_weight(sex, height)
        adjusted = ibw + 0.4 * (weight - ibw)
        if basis == "ideal":
            used = ibw
        elif basis == "adjusted":
            used = adjusted
        else:
            bmi = weight / (height / 100) ** 2
            used = weight if bmi < 18.5 else min(ibw, weight) if bmi < 25 else adjusted
    crcl = (140 - age) * used / (72 * creat)
    return crcl * 0.85 if sex == "female" else crcl


@dataclass(frozen=True)
class Canon:
    """A patient in canonical units (mmol/L, mg/dL creatinine, kg, cm, mmol/day)."""

    mg: float | None = None
    k: float | None = None
    ca: float | None = None
    creatinine: float | None = None
    crcl: float | None = None
    age: int | None = None
    sex: str | None = None
    weight: float | None = None
    height: float | None = None
    meds: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    symptoms: tuple[str, ...] = ()
    indication: str | None = None
    current_dose: float | None = None
    days_on_dose: int | None = None
    crcl_weight: str = "auto"

    def cg(self) -> float | None:
        """Derived CrCl when the spec allows one (adult, all four inputs), else None."""
        if None in (self.creatinine, self.age, self.sex, self.weight):
            return None
        assert self.age is not None and self.sex is not None
        assert self.weight is not None and self.creatinine is not None
        if self.age < 18:
            return None
        return reference_cg(self.age, self.sex, self.weight, self.height, self.creatinine,
                            self.crcl_weight)

    def crcl_used(self) -> float | None:
        return self.crcl if self.crcl is not None else self.cg()

    def render(self, units: dict[str, str] | None = None, decimals: int = 6) -> dict[str, Any]:
        """Raw input with each quantity in the chosen unit (canonical by default)."""
        units = units or {}
        raw: dict[str, Any] = {}
        for name, table in TO_UNIT.items():
            value = getattr(self, name)
            if value is None:
                continue
            unit = units.get(name, CANONICAL_UNIT[name])
            raw[name] = f"{value * table[unit]:.{decimals}f} {unit}"
        if self.crcl is not None:
            raw["crcl"] = f"{self.crcl:.{decimals}f} mL/min"
        for name in ("age", "sex", "indication", "days_on_dose"):
            if getattr(self, name) is not None:
                raw[name] = getattr(self, name)
        for name in ("meds", "conditions", "symptoms"):
            if getattr(self, name):
                raw[name] = list(getattr(self, name))
        raw["crcl_weight"] = self.crcl_weight
        return raw


def spec_status(c: Canon) -> str:
    """The decision table of clinical-spec.md, on canonical values (away from limits only)."""
    if c.age is not None and c.age < 18:
        return "out-of-scope"
    symptoms = set(c.symptoms)
    if c.mg is not None and c.mg < MG_SEVERE:
        return "urgent"
    if c.mg is not None and c.mg < MG_LLN and symptoms & RED_FLAGS:
        return "urgent"
    if c.mg is None and symptoms & RED_FLAGS:
        return "urgent"
    if (c.current_dose or 0) > 0 and symptoms & HYPERMG_SIGNS and (c.mg is None or c.mg > MG_ULN):
        return "urgent"
    crcl = c.crcl_used()
    if crcl is not None and crcl < 20:
        return "contraindicated"
    if c.mg is None:
        return "insufficient-data"
    if c.mg > MG_ULN:
        return "contraindicated"
    if c.mg >= MG_LLN:
        return "do-not-supplement"
    if crcl is None:
        return "insufficient-data"
    if crcl < 60:
        return "supplement-with-caution"
    return "supplement"


def _away(value: float | None, limits: tuple[float, ...], margin: float) -> bool:
    return value is None or all(abs(value - limit) > margin for limit in limits)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _subset(items: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(items), max_size=3, unique=True).map(tuple)


def _sometimes(draw: st.DrawFn, strategy: st.SearchStrategy[Any], percent: int) -> Any:
    """A value from ``strategy`` in about ``percent`` % of draws, else None."""
    return draw(strategy) if draw(st.integers(0, 99)) < percent else None


# Mg regions away from 0.50 / 0.70 / 1.05 by more than 0.05 mmol/L
_MG_REGIONS = st.one_of(st.floats(0.15, 0.449), st.floats(0.551, 0.649),
                        st.floats(0.751, 0.999), st.floats(1.101, 3.0))


@st.composite
def away_patients(draw: st.DrawFn) -> Canon:
    """Adult patients whose every decision-relevant number is away from its limits."""
    height = _sometimes(draw, st.floats(153, 205), 60)
    c = Canon(
        mg=_sometimes(draw, _MG_REGIONS, 90),
        k=_sometimes(draw, st.floats(2.0, 6.5).filter(lambda v: _away(v, (K_LLN,), 0.1)), 60),
        ca=_sometimes(draw, st.floats(1.5, 3.2), 30),
        creatinine=_sometimes(draw, st.floats(0.3, 6.0), 85),
        crcl=_sometimes(draw, st.floats(5.0, 245.0), 40),
        age=_sometimes(draw, st.integers(18, 100), 90),
        sex=_sometimes(draw, st.sampled_from(["female", "male"]), 90),
        weight=_sometimes(draw, st.floats(35.0, 180.0), 85),
        height=height,
        meds=draw(_subset(MEDS)),
        conditions=draw(_subset(CONDITIONS)),
        symptoms=_sometimes(draw, _subset(SYMPTOMS), 30) or (),
        indication=_sometimes(draw, st.sampled_from(INDICATIONS), 50),
        current_dose=_sometimes(draw, st.just(0.0) | st.floats(1.0, 40.0).filter(
            lambda v: _away(v, (12.0, 24.0), 0.1)), 40),
        days_on_dose=draw(_optional(st.integers(0, 60))),
        crcl_weight=draw(st.sampled_from(
            ["auto", "actual"] if height is None else ["auto", "actual", "ideal", "adjusted"])),
    )
    cg = c.cg()
    assume(_away(cg, CRCL_LIMITS, 2.0))
    assume(_away(c.crcl, CRCL_LIMITS, 2.0))
    if c.weight is not None and c.height is not None:
        assume(_away(c.weight / (c.height / 100) ** 2, (18.5, 25.0), 0.01))
    if cg is not None and c.crcl is not None:
        diff = abs(cg - c.crcl)
        assume(_away(diff / cg, (0.25,), 0.01) and _away(diff / c.crcl, (0.25,), 0.01))
    return c


UNIT_CHOICES = st.fixed_dictionaries(
    {name: st.sampled_from(list(table)) for name, table in TO_UNIT.items()})


@dataclass(frozen=True)
class Lab:
    """A patient with values at lab precision, and what the spec says about them."""

    raw: dict[str, Any]
    mg_unit: str | None
    mg_entered: Decimal | None
    mg_mmol: float | None
    crcl_reported: float | None
    canon: Canon  # canonical values (creatinine, weight, height) for the reference CrCl


_LAB_MG = {
    # unit: (lowest, highest, decimals) of the printed number (0.1-3 mmol/L)
    "mmol/L": (10, 300, 2),
    "mEq/L": (2, 60, 1),
    "mg/dL": (3, 72, 1),
}


@st.composite
def lab_patients(draw: st.DrawFn, *, adult: bool = True, with_crcl: bool = True,
                 low_mg: bool = False) -> Lab:
    """Patients as a clinician would type them: lab precision, any accepted unit."""
    raw: dict[str, Any] = {}
    mg_unit = mg_entered = mg_mmol = None
    if low_mg:
        mg_unit = "mmol/L"
        mg_entered = Decimal(draw(st.integers(50, 69))).scaleb(-2)
    elif draw(st.integers(0, 9)) > 0:
        mg_unit = draw(st.sampled_from(list(_LAB_MG)))
        lo, hi, dec = _LAB_MG[mg_unit]
        mg_entered = Decimal(draw(st.integers(lo, hi))).scaleb(-dec)
    if mg_unit is not None and mg_entered is not None:
        raw["mg"] = f"{mg_entered} {mg_unit}"
        mg_mmol = float(mg_entered) / TO_UNIT["mg"][mg_unit]
    if draw(st.booleans()):
        raw["k"] = f"{Decimal(draw(st.integers(20, 65))).scaleb(-1)} " \
                   f"{draw(st.sampled_from(['mmol/L', 'mEq/L']))}"
    crcl = None
    if with_crcl and draw(st.booleans()):
        crcl = float(draw(st.integers(1, 250)))
        raw["crcl"] = f"{crcl:g} mL/min"
    creat = weight = height = None
    if draw(st.integers(0, 3)) > 0:
        if draw(st.booleans()):
            creat = draw(st.integers(30, 1200)) / 100
            raw["creatinine"] = f"{creat:.2f} mg/dL"
        else:
            umol = draw(st.integers(27, 1060))
            creat = umol / 88.4
            raw["creatinine"] = f"{umol} umol/L"
    age = draw(st.integers(18, 100)) if adult else draw(st.integers(0, 100))
    if draw(st.integers(0, 5)) > 0:
        raw["age"] = age
    else:
        age = None
    sex = draw(st.sampled_from([None, "female", "male"]))
    if sex is not None:
        raw["sex"] = sex
    if draw(st.integers(0, 4)) > 0:
        if draw(st.booleans()):
            weight = draw(st.integers(350, 1800)) / 10
            raw["weight"] = f"{weight:.1f} kg"
        else:
            lb = draw(st.integers(77, 396))
            weight = lb * 0.45359237
            raw["weight"] = f"{lb} lb"
    if draw(st.booleans()):
        unit = draw(st.sampled_from(["cm", "in", "m"]))
        if unit == "cm":
            height = float(draw(st.integers(153, 205)))
            raw["height"] = f"{height:g} cm"
        elif unit == "in":
            inches = draw(st.integers(61, 80))
            height = inches * 2.54
            raw["height"] = f"{inches} in"
        else:
            metres = draw(st.integers(153, 205))
            height = float(metres)
            raw["height"] = f"{Decimal(metres).scaleb(-2)} m"
    basis = draw(st.sampled_from(
        ["auto", "actual"] if height is None else ["auto", "actual", "ideal", "adjusted"]))
    raw["crcl_weight"] = basis
    for name, items in (("meds", MEDS), ("conditions", CONDITIONS), ("symptoms", SYMPTOMS)):
        chosen = draw(_subset(items))
        if chosen:
            raw[name] = list(chosen)
    indication = draw(_optional(st.sampled_from(INDICATIONS)))
    if indication is not None:
        raw["indication"] = indication
    dose = draw(_optional(st.integers(0, 400)))
    if dose is not None:
        if draw(st.booleans()):
            raw["current_dose"] = f"{Decimal(dose).scaleb(-1)} mmol/day"
        else:
            raw["current_dose"] = f"{round(dose / 10 * MG_MG_PER_MMOL)} mg/day"
        raw["days_on_dose"] = draw(st.integers(0, 60))
    canon = Canon(mg=mg_mmol, creatinine=creat, crcl=crcl, age=age, sex=sex, weight=weight,
                  height=height, crcl_weight=basis)
    return Lab(raw, mg_unit, mg_entered, mg_mmol, crcl, canon)


def _check_regimen_caps(a: Assessment) -> None:
    r = a.regimen
    if r is None:
        return
    assert r.max_product_mg_per_day <= 1500 + 1e-9
    assert r.max_elemental_mmol_per_day <= 1500 / MGO_MG_PER_MMOL + 0.05  # 37.2 mmol
    assert r.max_elemental_mg_per_day <= 1500 / MGO_MG_PER_MMOL * MG_MG_PER_MMOL + 0.1  # 905 mg
    if r.elemental_mmol_per_day is not None:
        assert r.elemental_mmol_per_day <= 24 + 1e-9
        assert r.elemental_mmol_per_day <= r.max_elemental_mmol_per_day + 1e-9
        assert r.elemental_mg_per_day is not None and r.product_mg_per_day is not None
        assert r.elemental_mg_per_day == pytest.approx(
            r.elemental_mmol_per_day * MG_MG_PER_MMOL, abs=0.1)
        assert r.product_mg_per_day == pytest.approx(
            r.elemental_mmol_per_day * MGO_MG_PER_MMOL, abs=0.5)
        assert r.product_mg_per_day <= r.max_product_mg_per_day + 1e-9
    if r.alternative is not None:
        alt = r.alternative
        assert alt.elemental_mmol_per_day_min <= alt.elemental_mmol_per_day_max
        assert alt.elemental_mmol_per_day_max <= r.max_elemental_mmol_per_day + 0.05
        assert alt.elemental_mg_per_day_max == pytest.approx(
            alt.elemental_mmol_per_day_max * MG_MG_PER_MMOL, abs=0.05 * MG_MG_PER_MMOL + 0.05)
    if a.status == "supplement-with-caution":
        assert r.dose_basis != "step-up"
        assert "step-up-dose" not in finding_ids(a)
        if r.elemental_mmol_per_day is not None:
            assert r.elemental_mmol_per_day <= 12 + 1e-9
        assert r.max_elemental_mmol_per_day <= 12 + 0.05
        if r.alternative is not None:
            assert r.alternative.elemental_mmol_per_day_max <= 12 + 0.05
            assert r.alternative.elemental_mg_per_day_max <= 12 * MG_MG_PER_MMOL + 0.1
    if a.status == "supplement":
        # spec: standard start 12 mmol/day; 24 mmol/day only when step-up-dose fires
        if "step-up-dose" in finding_ids(a):
            assert r.dose_basis == "step-up"
            assert r.elemental_mmol_per_day == pytest.approx(24.0, abs=0.05)
        else:
            assert r.dose_basis == "standard-start"
            assert r.elemental_mmol_per_day == pytest.approx(12.0, abs=0.05)


# ---------------------------------------------------------------------------------------------
# Unit invariance and the decision table
# ---------------------------------------------------------------------------------------------

@FAST
@given(patient=away_patients(), units=UNIT_CHOICES)
def test_unit_invariance_away_from_limits(
        assess: Callable[..., Assessment], patient: Canon, units: dict[str, str]) -> None:
    base = assess(**patient.render())
    other = assess(**patient.render(units))
    assert other.status == base.status, (patient, units)
    assert finding_ids(other) == finding_ids(base), (patient, units)
    assert (other.regimen is None) == (base.regimen is None)
    if base.regimen is not None and other.regimen is not None:
        assert other.regimen.dose_basis == base.regimen.dose_basis
        assert other.regimen.elemental_mmol_per_day == base.regimen.elemental_mmol_per_day
    if patient.mg is not None:
        assert other.derived.mg_mmol_l == pytest.approx(patient.mg, rel=1e-5, abs=1e-4)
    if patient.crcl_used() is not None:
        assert other.derived.crcl_ml_min == pytest.approx(base.derived.crcl_ml_min, abs=0.11)


@FAST
@given(patient=away_patients(), units=UNIT_CHOICES)
def test_status_follows_the_decision_table_away_from_limits(
        assess: Callable[..., Assessment], patient: Canon, units: dict[str, str]) -> None:
    a = assess(**patient.render(units))
    assert a.status == spec_status(patient), (patient, units)
    cg = patient.cg()
    if cg is not None:
        # CrCl is printed truncated to one decimal (never rounded up into a safer-looking band).
        # The spec's 88.4 umol/L per mg/dL (used here) differs from 113.12 g/mol (88.4017) by
        # 2e-5 relative: at the largest CrCl hypothesis finds (~700 mL/min) that is 0.014.
        slack = cg * 2e-5 if units.get("creatinine") == "umol/L" else 0.0
        assert cg - slack - 0.1 - 1e-9 < a.derived.crcl_cockcroft_gault_ml_min \
            <= cg + slack + 1e-9


# ---------------------------------------------------------------------------------------------
# Renal monotonicity
# ---------------------------------------------------------------------------------------------

@FAST
@given(lab=lab_patients(with_crcl=False), low=st.integers(1, 250), high=st.integers(1, 250))
@example(lab=Lab({"mg": "0.6 mmol/L"}, "mmol/L", Decimal("0.6"), 0.6, None, Canon(mg=0.6)),
         low=19, high=20)
@example(lab=Lab({"mg": "0.6 mmol/L"}, "mmol/L", Decimal("0.6"), 0.6, None, Canon(mg=0.6)),
         low=59, high=60)
def test_lower_crcl_is_never_less_restrictive(
        assess: Callable[..., Assessment], lab: Lab, low: int, high: int) -> None:
    low, high = min(low, high), max(low, high)
    at_high = assess(**lab.raw, crcl=f"{high} mL/min")
    at_low = assess(**lab.raw, crcl=f"{low} mL/min")
    assert at_high.status in RANK and at_low.status in RANK
    assert RANK[at_low.status] >= RANK[at_high.status], (lab.raw, low, high)


# ---------------------------------------------------------------------------------------------
# Regimen: only with supplement*, never above the caps
# ---------------------------------------------------------------------------------------------

@FAST
@given(lab=lab_patients(adult=False))
def test_regimen_and_monitoring_only_with_supplement_status(
        assess: Callable[..., Assessment], lab: Lab) -> None:
    a = assess(**lab.raw)
    if a.status in GIVES_REGIMEN:
        assert a.regimen is not None
        assert a.monitoring is not None
    else:
        assert a.regimen is None
        assert a.monitoring is None
    _check_regimen_caps(a)


_STEP_UP_CAUTION = {"mg": "0.6 mmol/L", "crcl": "45 mL/min", "current_dose": "20 mmol/day",
                    "days_on_dose": 30, "conditions": ["chronic-diarrhea"]}
_STEP_UP = {**_STEP_UP_CAUTION, "crcl": "90 mL/min"}
_REFRACTORY = {**_STEP_UP, "current_dose": "30 mmol/day"}


@FAST
@given(lab=lab_patients(low_mg=True))
@example(lab=Lab(_STEP_UP_CAUTION, "mmol/L", Decimal("0.6"), 0.6, 45.0, Canon(mg=0.6)))
@example(lab=Lab(_STEP_UP, "mmol/L", Decimal("0.6"), 0.6, 90.0, Canon(mg=0.6)))
@example(lab=Lab(_REFRACTORY, "mmol/L", Decimal("0.6"), 0.6, 90.0, Canon(mg=0.6)))
def test_regimen_never_above_the_caps(assess: Callable[..., Assessment], lab: Lab) -> None:
    a = assess(**lab.raw)
    _check_regimen_caps(a)
    if a.status not in ("supplement",):
        assert "step-up-dose" not in finding_ids(a)


def test_cap_examples_reach_the_interesting_regimens(assess: Callable[..., Assessment]) -> None:
    """The explicit examples above do exercise step-up and caution + alternative (spec-derived:
    CrCl 45 -> caution, CrCl 90 with 20 mmol/day for 30 days and Mg 0.6 -> step-up)."""
    caution = assess(**_STEP_UP_CAUTION)
    assert caution.status == "supplement-with-caution"
    assert caution.regimen is not None and caution.regimen.alternative is not None
    step_up = assess(**_STEP_UP)
    assert step_up.status == "supplement"
    assert "step-up-dose" in finding_ids(step_up)
    assert step_up.regimen is not None and step_up.regimen.dose_basis == "step-up"
    refractory = assess(**_REFRACTORY)
    assert "refractory-hypomagnesemia" in finding_ids(refractory)
    assert refractory.regimen is not None
    assert refractory.regimen.elemental_mmol_per_day is not None
    assert refractory.regimen.elemental_mmol_per_day <= 24 + 1e-9


# ---------------------------------------------------------------------------------------------
# Safety
# ---------------------------------------------------------------------------------------------

@FAST
@given(lab=lab_patients())
def test_safety_never_a_regimen_when_unsafe_and_urgent_when_severe(
        assess: Callable[..., Assessment], lab: Lab) -> None:
    a = assess(**lab.raw)
    cg = lab.canon.cg()
    if lab.mg_mmol is None:
        assert a.regimen is None, "Mg unknown"
    else:
        if lab.mg_mmol > MG_ULN:
            assert a.regimen is None, "Mg above the ULN"
        assert lab.mg_unit is not None and lab.mg_entered is not None
        severe = MG_PRINTED[lab.mg_unit][0]
        # severe as read on the lab report (a value printed at the limit is not below it)
        if lab.mg_entered < severe:
            assert a.status == "urgent", lab.raw
    if lab.crcl_reported is not None and lab.crcl_reported < 20:
        assert a.regimen is None, "reported CrCl < 20"
    if lab.crcl_reported is None and cg is not None and cg < 20:
        assert a.regimen is None, f"Cockcroft-Gault CrCl {cg:.2f} < 20"
    if a.derived.crcl_ml_min is not None and a.derived.crcl_ml_min < 20:
        assert a.regimen is None, "CrCl used < 20"
    if lab.crcl_reported is None and cg is None:
        assert a.regimen is None, "renal function unknown"
        assert a.derived.crcl_ml_min is None


@QUICK
@given(mg=st.integers(11, 49), unit=st.sampled_from(["mmol/L", "mEq/L", "mg/dL"]),
       crcl=_optional(st.integers(1, 250)), age=_optional(st.integers(18, 100)))
def test_severe_hypomagnesemia_is_always_urgent(
        assess: Callable[..., Assessment], mg: int, unit: str, crcl: int | None,
        age: int | None) -> None:
    # 0.11-0.49 mmol/L (inside the plausible 0.1-5), entered in the unit with enough
    # decimals to stay below 0.50
    value = mg / 100 * TO_UNIT["mg"][unit]
    raw: dict[str, Any] = {"mg": f"{value:.4f} {unit}"}
    if crcl is not None:
        raw["crcl"] = f"{crcl} mL/min"
    if age is not None:
        raw["age"] = age
    a = assess(**raw)
    assert a.status == "urgent"
    assert "severe-hypomagnesemia" in finding_ids(a)
    assert a.regimen is None


# ---------------------------------------------------------------------------------------------
# Citations
# ---------------------------------------------------------------------------------------------

@FAST
@given(lab=lab_patients(adult=False))
def test_every_finding_cites_and_every_citation_resolves(
        assess: Callable[..., Assessment], lab: Lab) -> None:
    a = assess(**lab.raw)
    assert a.findings, "every status is explained by at least one finding"
    for finding in a.findings:
        assert len(finding.citations) >= 1, finding.id
        for cite in finding.citations:
            assert cite in a.references, (finding.id, cite)
    if a.regimen is not None:
        assert set(a.regimen.citations) <= set(a.references)
    if a.monitoring is not None:
        assert set(a.monitoring.citations) <= set(a.references)


# ---------------------------------------------------------------------------------------------
# Unit round trips
# ---------------------------------------------------------------------------------------------

# canonical value = value in the unit x this (written from the spec, not read from the rules)
INDEPENDENT: dict[str, dict[str, float]] = {
    "mg": {"mmol/L": 1.0, "mEq/L": 1 / 2, "mg/dL": 1 / 2.4305},
    "k": {"mmol/L": 1.0, "mEq/L": 1.0},
    "ca": {"mmol/L": 1.0, "mEq/L": 1 / 2, "mg/dL": 1 / 4.0078},
    "creatinine": {"mg/dL": 1.0, "umol/L": 1 / 88.4},
    "crcl": {"mL/min": 1.0},
    "age": {"year": 1.0},
    "weight": {"kg": 1.0, "lb": 0.45359237},
    "height": {"cm": 1.0, "in": 2.54, "m": 100.0},
    "current_dose": {"mmol/day": 1.0, "mg/day": 1 / 24.305},
    "days_on_dose": {"day": 1.0},
}
# creatinine: 113.12 g/mol gives 1 mg/dL = 88.40 umol/L (not exactly 88.4)
INDEPENDENT_REL = {"creatinine": 1e-3}


def test_independent_factors_cover_every_quantity_and_unit(rules: RuleSet) -> None:
    assert set(rules.quantities) == set(INDEPENDENT)
    for name, rule in rules.quantities.items():
        assert set(rule.table.units) == set(INDEPENDENT[name]), name


@QUICK
@given(data=st.data())
def test_unit_round_trips(rules: RuleSet, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(rules.quantities)), label="quantity")
    rule = rules.quantities[name]
    unit = data.draw(st.sampled_from(list(rule.table.units)), label="unit")
    factor = rule.table.factors[unit]
    x = data.draw(st.floats(1e-3, 1e4), label="x")
    assert x * factor / factor == pytest.approx(x, rel=1e-9)
    assert factor == pytest.approx(INDEPENDENT[name][unit], rel=INDEPENDENT_REL.get(name, 1e-9))

    # a value that lands inside the plausible range once converted
    low = max(rule.minimum, 1e-3) if rule.minimum > 0 else 1e-3
    canonical_target = data.draw(st.floats(low, rule.maximum), label="canonical")
    entered = canonical_target / factor
    text = f"{entered!r} {unit}"
    assume(rule.minimum <= entered * factor <= rule.maximum)
    patient = parse_patient({name: text}, rules)
    measured = getattr(patient, name)
    assert measured.unit == unit
    assert measured.canonical == pytest.approx(entered * factor, rel=1e-9)
    assert measured.canonical == pytest.approx(entered * INDEPENDENT[name][unit],
                                               rel=INDEPENDENT_REL.get(name, 1e-9))


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------

@QUICK
@given(lab=lab_patients(adult=False))
def test_determinism(rules: RuleSet, assess: Callable[..., Assessment], lab: Lab) -> None:
    first = assess(**lab.raw)
    second = assess(**dict(lab.raw))
    assert first == second
    assert first.to_json() == second.to_json()
    assert parse_patient(lab.raw, rules) == parse_patient(dict(lab.raw), rules)


def test_canon_render_round_trip_sanity() -> None:
    """The test's own rendering: canonical values come back through the spec factors."""
    c = Canon(mg=0.6, creatinine=1.0, weight=70.0, height=170.0, current_dose=12.0)
    raw = c.render({"mg": "mg/dL", "creatinine": "umol/L", "weight": "lb", "height": "in",
                    "current_dose": "mg/day"})
    assert raw["mg"] == "1.458300 mg/dL"  # 0.6 x 2.4305
    assert raw["creatinine"] == "88.400000 umol/L"
    assert raw["current_dose"] == "291.660000 mg/day"  # 12 x 24.305
    assert replace(c, mg=None).render().get("mg") is None
