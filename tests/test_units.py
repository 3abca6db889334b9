"""The units module on its own: number parsing, unit spellings and near misses, limits as labs
print them, and conversion through molar mass and valence.

Expected numbers are worked out by hand here (Mg 24.305 g/mol, valence 2; creatinine
113.12 g/mol), not read back from the program.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from mgassist._core.units import (
    UnitProblem,
    UnitTable,
    build_unit_table,
    convert,
    dimension_words,
    normalize_spelling,
    parse_amount,
    quantity,
)

MG = build_unit_table(canonical="mmol/L", units={"mmol/L": 2, "mEq/L": 1, "mg/dL": 1},
                      spellings={"mmol/l": "mmol/L", "meq/l": "mEq/L"},
                      molar_mass="24.305 g/mol", valence=2, plain_number=False)


def one_unit(decimals: int) -> UnitTable:
    return UnitTable("mmol/L", {"mmol/L": 1.0}, {"mmol/L": decimals}, {"mmol/l": "mmol/L"})


# --- parse_amount ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "number", "unit"), [
    ("0.62 mmol/L", "0.62", "mmol/L"),
    ("  .5mEq/L  ", ".5", "mEq/L"),
    ("+3 kg", "3", "kg"),
    ("-0.0 kg", "-0.0", "kg"),
    ("1e2 mg/day", "1E+2", "mg/day"),
    ("7.", "7", ""),
    ("5 mg / dL", "5", "mg / dL"),
])
def test_a_number_and_its_unit_are_split_exactly(text: str, number: str, unit: str) -> None:
    amount = parse_amount(text)
    assert amount.number == Decimal(number)
    assert amount.unit_text == unit


def test_the_number_keeps_the_decimals_typed() -> None:
    assert str(parse_amount("0.70 mmol/L").number) == "0.70"  # not 0.7: the boundary rule


@pytest.mark.parametrize(("text", "problem"), [
    ("", "is empty"),
    ("   ", "is empty"),
    ("mmol/L", "does not start with a number"),
    ("nan mmol/L", "is not a finite number"),
    ("-inf", "is not a finite number"),
    ("1e999 mmol/L", "is not a finite number"),
    ("0,6 mmol/L", "uses a comma; write the decimal point as '.' (e.g. 0.62)"),
    ("1,200 mg/day", "uses a comma, which may separate thousands or decimals; write the number "
                     "with the digits 0-9 and '.' only (1200, or 1.2)"),
    ("\u0660.6 mmol/L", "uses the digit '\u0660' (U+0660); write the number with the digits 0-9"),
])
def test_what_is_not_a_number_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(UnitProblem) as info:
        parse_amount(text)
    assert str(info.value) == problem


# --- spellings, look-up and near misses ------------------------------------------------------

def test_spellings_are_matched_without_case_spaces_or_micro_sign() -> None:
    assert normalize_spelling(" µmol / L ") == "umol/l"
    assert normalize_spelling("μmol/L") == "umol/l"
    assert MG.lookup("MMOL/L") == "mmol/L"
    assert MG.lookup("m Eq/l") == "mEq/L"
    assert MG.lookup("mg/dl") == "mg/dL"
    assert MG.lookup("mmol") is None


@pytest.mark.parametrize(("typed", "meant"), [
    ("mmol", "mmol/L"),        # a prefix of an accepted spelling
    ("mE", "mEq/L"),           # ... too short for difflib (ratio 0.57)
    ("mg/dLs", "mg/dL"),       # an accepted spelling is a prefix of it
    ("mg/dL (ref 1.7-2.6)", "mg/dL"),  # ... too long for difflib (ratio 0.5)
    ("mmol/k", "mmol/L"),      # close (difflib ratio 0.83)
    ("meq/1", "mEq/L"),
])
def test_a_near_miss_suggests_the_unit_meant(typed: str, meant: str) -> None:
    assert MG.suggest(typed) == meant


@pytest.mark.parametrize("typed", ["kg", "xyz", "mL/min"])
def test_nothing_close_suggests_nothing(typed: str) -> None:
    assert MG.suggest(typed) is None


# --- factors and limits as printed -----------------------------------------------------------

def test_factors_go_through_molar_mass_and_valence() -> None:
    assert MG.canonical == "mmol/L"
    assert MG.units == ("mmol/L", "mEq/L", "mg/dL")
    assert MG.factors["mmol/L"] == pytest.approx(1.0)
    assert MG.factors["mEq/L"] == pytest.approx(0.5)             # 2 mEq per mmol
    assert MG.factors["mg/dL"] == pytest.approx(10 / 24.305)     # 1 mg/dL = 10 mg/L
    assert MG.decimals == {"mmol/L": 2, "mEq/L": 1, "mg/dL": 1}
    assert MG.spellings["meq/l"] == "mEq/L"
    assert MG.plain_number is False


def test_limits_are_printed_in_each_unit_rounded_as_labs_print() -> None:
    assert MG.limit_in(0.70, "mmol/L") == Decimal("0.70")
    assert MG.limit_in(0.70, "mEq/L") == Decimal("1.4")
    assert MG.limit_in(0.70, "mg/dL") == Decimal("1.7")          # 1.70135
    assert MG.limit_in(1.05, "mg/dL") == Decimal("2.6")          # 2.552
    assert str(MG.limit_in(0.5, "mmol/L")) == "0.50"


@pytest.mark.parametrize(("value", "decimals", "printed"), [
    (0.25, 1, "0.3"),   # half rounds up, as labs print (half-even would give 0.2)
    (0.35, 1, "0.4"),
    (2.5, 0, "3"),
    (0.125, 2, "0.13"),
    (0.24, 1, "0.2"),
])
def test_a_half_rounds_up(value: float, decimals: int, printed: str) -> None:
    assert str(one_unit(decimals).limit_in(value, "mmol/L")) == printed


def test_a_spelling_of_a_unit_not_accepted_is_a_rule_error() -> None:
    with pytest.raises(UnitProblem) as info:
        build_unit_table(canonical="mmol/L", units={"mmol/L": 2, "mEq/L": 1},
                         spellings={"mg/l": "mg/L"}, molar_mass=None, valence=2,
                         plain_number=False)
    assert str(info.value) == ("spelling 'mg/l' names 'mg/L', which is not an accepted unit "
                               "(mmol/L, mEq/L)")


def test_a_molar_mass_that_is_not_mass_per_amount_is_a_rule_error() -> None:
    with pytest.raises(UnitProblem, match="is not a mass per amount"):
        build_unit_table(canonical="mmol/L", units={"mg/dL": 1}, spellings={},
                         molar_mass="24.305 g", valence=None, plain_number=False)


def test_an_unknown_unit_in_the_rules_is_named() -> None:
    with pytest.raises(UnitProblem, match="unit 'mmol/flurb'"):
        build_unit_table(canonical="mmol/L", units={"mmol/flurb": 1}, spellings={},
                         molar_mass=None, valence=None, plain_number=False)


# --- pint conversion (rules and error paths) -------------------------------------------------

def test_convert_uses_molar_mass_valence_or_both() -> None:
    assert convert(quantity("1 mmol/L"), "mmol/L").magnitude == pytest.approx(1)
    assert convert(quantity("24.305 mg/L"), "mmol/L",
                   molar_mass=quantity("24.305 g/mol")).magnitude == pytest.approx(1)
    assert convert(quantity("2 mEq/L"), "mmol/L", valence=2).magnitude == pytest.approx(1)
    both = convert(quantity("2 mEq/L"), "mg/dL", molar_mass=quantity("24.305 g/mol"), valence=2)
    assert both.magnitude == pytest.approx(2.4305)
    assert convert(quantity("1 mg/dL"), "umol/L",
                   molar_mass=quantity("113.12 g/mol")).magnitude == pytest.approx(88.4017, 1e-5)


def test_convert_refuses_a_wrong_dimension_and_names_it() -> None:
    with pytest.raises(UnitProblem, match=r"is a mass concentration, which cannot be converted "
                                          r"to mL/min"):
        convert(quantity("20 mg/dL"), "mL/min")
    with pytest.raises(UnitProblem, match="cannot be converted"):
        convert(quantity("1 mmol/L"), "mg/dL")  # no molar mass given: no path


@pytest.mark.parametrize(("text", "words"), [
    ("1 mmol/L", "an amount concentration"),
    ("1 mg/dL", "a mass concentration"),
    ("1 mEq/L", "an equivalent concentration"),
    ("1 mL/min", "a flow (volume/time)"),
    ("1 kg", "a mass"),
    ("1 cm", "a length"),
    ("1 day", "a time"),
    ("1 mmol", "an amount of substance"),
    ("1 mg/day", "a mass per time"),
    ("1 mmol/day", "an amount per time"),
    ("1 percent", "a plain number"),
])
def test_dimensions_have_readable_names(text: str, words: str) -> None:
    assert dimension_words(quantity(text)) == words


def test_an_unnamed_dimension_is_still_described() -> None:
    assert dimension_words(quantity("1 m**4")) == "of dimension [length] ** 4"


@pytest.mark.parametrize(("text", "problem"), [
    ("mmol/L", "is not a number followed by a unit"),
    ("0.7", "is not a number followed by a unit"),
    ("0.7 flurbs", "unknown unit 'flurbs'"),
])
def test_pint_quantities_in_rules_must_be_number_and_known_unit(text: str,
                                                                problem: str) -> None:
    with pytest.raises(UnitProblem, match=problem):
        quantity(text)


def test_pint_accepts_the_micro_sign_and_meq_spellings() -> None:
    assert quantity("88.4 µmol/L").to("umol/L").magnitude == pytest.approx(88.4)  # micro sign
    assert quantity("88.4 μmol/L").to("umol/L").magnitude == pytest.approx(88.4)  # Greek mu
    assert quantity("1.4 meq/L").to("mEq/L").magnitude == pytest.approx(1.4)
    assert quantity("5 %").to("percent").magnitude == pytest.approx(5)
