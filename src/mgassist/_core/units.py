"""Units: the one pint registry, analyte-aware conversion, and fast per-quantity unit tables.

pint is the source of truth. For each input quantity of the rules, ``build_unit_table`` asks pint
once for the factor from every accepted unit to the quantity's canonical unit (through the
molar mass for mass <-> amount and through the valence for mEq <-> mmol). Parsing a patient's
value is then a regex, a dictionary look-up and a multiplication, with no pint on that path.
pint is imported and its registry built only when a table is built or an error is explained.
"""

from __future__ import annotations

import difflib
import math
import re
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from msgspec import Struct

__all__ = [
    "Amount",
    "UnitProblem",
    "UnitTable",
    "build_unit_table",
    "convert",
    "dimension_words",
    "normalize_spelling",
    "parse_amount",
    "quantity",
]

# ASCII digits only ([0-9], not \d, which takes any script's digits: U+0660 looks like a dot).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])")


class UnitProblem(ValueError):
    """A unit or amount that pint or our tables cannot use; the caller adds the field name."""


@cache
def registry() -> Any:
    """The application's single pint registry (built on first use, then shared)."""
    import pint

    ureg: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=False)
    # Equivalents get a dimension of their own, so that mEq -> mmol must go through a valence.
    ureg.define("equivalent = [charge_equivalent] = Eq = eq")
    # eGFR is reported per 1.73 m2 of body surface: "mL/min/1.73m2" is mL/min per this area.
    ureg.define("standard_body_surface = 1.73 * meter ** 2")
    return ureg


def quantity(text: str) -> Any:
    """Parse ``"0.70 mmol/L"`` with pint (rules and error paths only, never per patient)."""
    ureg = registry()
    split = _split(text)
    if split is None or not split[1]:
        raise UnitProblem(f"{text!r} is not a number followed by a unit")
    try:
        unit = ureg.parse_units(_pint_spelling(split[1]))
    except Exception as exc:  # pint raises several unrelated types for a bad unit
        raise UnitProblem(f"unknown unit {split[1]!r}") from exc
    return ureg.Quantity(float(split[0]), unit)


def _split(text: str) -> tuple[str, str] | None:
    """The number at the start of ``text`` and the rest, stripped (linear time: a regex with
    the unit as a lazy group before trailing spaces backtracks quadratically on long input)."""
    stripped = text.strip()
    match = _NUMBER.match(stripped)
    return None if match is None else (match.group(), stripped[match.end():].strip())


def convert(
    value: Any, target: str, *, molar_mass: Any | None = None, valence: int | None = None
) -> Any:
    """Convert a pint quantity to ``target``, through molar mass and valence where needed.

    Tries, in order: a plain conversion; dividing or multiplying by the molar mass
    (mass <-> amount); by the valence (equivalents <-> amount); and both. The first candidate
    with the target's dimension wins, so a wrong dimension raises UnitProblem.
    """
    ureg = registry()
    try:
        target_unit = ureg.parse_units(_pint_spelling(target))
    except Exception as exc:  # pint raises several unrelated types for a bad unit
        raise UnitProblem(f"unknown unit {target!r}") from exc
    steps: list[Any] = [1]
    if molar_mass is not None:
        steps += [1 / molar_mass, molar_mass]
    if valence is not None:
        per_mol = ureg.Quantity(valence, "eq/mol")
        steps += [1 / per_mol, per_mol]
        if molar_mass is not None:
            steps += [1 / (per_mol * molar_mass), molar_mass / per_mol,
                      per_mol / molar_mass, per_mol * molar_mass]
    target_dim = ureg.Quantity(1, target_unit).dimensionality
    for step in steps:
        try:
            candidate = value * step
        except Exception:  # pint cannot scale an offset (degC) or logarithmic (dB) unit, and
            continue  # says so with several unrelated types (TypeError, UndefinedUnitError...)
        if candidate.dimensionality == target_dim:
            return candidate.to(target_unit)
    raise UnitProblem(
        f"{value.units:~P} is {dimension_words(value)}, which cannot be converted to {target}"
    )


_DIMENSION_NAMES: dict[frozenset[tuple[str, float]], str] = {
    frozenset({("[substance]", 1), ("[length]", -3)}): "an amount concentration",
    frozenset({("[mass]", 1), ("[length]", -3)}): "a mass concentration",
    frozenset({("[charge_equivalent]", 1), ("[length]", -3)}): "an equivalent concentration",
    frozenset({("[length]", 3), ("[time]", -1)}): "a flow (volume/time)",
    frozenset({("[length]", 1), ("[time]", -1)}): "a flow per body surface (as eGFR)",
    frozenset({("[mass]", 1)}): "a mass",
    frozenset({("[length]", 1)}): "a length",
    frozenset({("[time]", 1)}): "a time",
    frozenset({("[substance]", 1)}): "an amount of substance",
    frozenset({("[mass]", 1), ("[time]", -1)}): "a mass per time",
    frozenset({("[substance]", 1), ("[time]", -1)}): "an amount per time",
    frozenset(): "a plain number",
}


def dimension_words(value: Any) -> str:
    """A readable name for a pint quantity's dimension (for error messages)."""
    key = frozenset((str(k), float(v)) for k, v in dict(value.dimensionality).items())
    return _DIMENSION_NAMES.get(key, f"of dimension {value.dimensionality}")


# "1.73m2", "1.73 m²", "{1.73_m2}" (UCUM), "(1.73 m**2)": the body surface eGFR is normalised to
_BODY_SURFACE = re.compile(r"[({]?\s*1\.73\s*_?\s*m\s*(?:2|²|\*\*\s*2|\^\s*2)\s*[)}]?")


def _pint_spelling(unit: str) -> str:
    """Spell a unit the way pint's parser expects (µ/μ, mEq, percent sign, 1.73 m2)."""
    text = unit.strip().replace("µ", "u").replace("μ", "u").replace("%", "percent")
    text = _BODY_SURFACE.sub("standard_body_surface", text)
    text = re.sub(r"(?<=/)m(?:2|²)(?![\w*^])", "m**2", text)  # kg/m2, kg/m² (BMI)
    return re.sub(r"(?i)\bmeq\b", "mEq", text)


def normalize_spelling(unit: str) -> str:
    """The key units are matched by: lower case, no spaces, micro sign and Greek mu as u."""
    # lower case first: "ΜMOL/L" (capital Greek mu) is µmol/L in capitals
    return re.sub(r"\s+", "", unit).lower().replace("µ", "u").replace("μ", "u")


class Amount(Struct, frozen=True):
    """A value as typed, split into its number (exact decimal) and the unit text after it."""

    number: Decimal
    unit_text: str


def parse_amount(text: str) -> Amount:
    """Split ``"0.62 mmol/L"`` into number and unit text; raise UnitProblem when impossible."""
    stripped = text.strip()
    if not stripped:
        raise UnitProblem("is empty")
    foreign = next((char for char in stripped if char.isdecimal() and not char.isascii()), None)
    if foreign is not None:
        raise UnitProblem(f"uses the digit {foreign!r} (U+{ord(foreign):04X}); write the number "
                          "with the digits 0-9")
    if re.match(r"[+-]?[0-9.]*[0-9],[0-9]", stripped):
        if _THOUSANDS.match(stripped):  # 1,200: a thousands separator, or a decimal comma?
            raise UnitProblem("uses a comma, which may separate thousands or decimals; write "
                              "the number with the digits 0-9 and '.' only (1200, or 1.2)")
        raise UnitProblem("uses a comma; write the decimal point as '.' (e.g. 0.62)")
    split = _split(stripped)
    if split is None:
        lowered = stripped.lower()
        if lowered.lstrip("+-").startswith(("nan", "inf")):
            raise UnitProblem("is not a finite number")
        raise UnitProblem("does not start with a number")
    try:
        number = Decimal(split[0])
    except InvalidOperation:
        raise UnitProblem("is not a number") from None
    if not number.is_finite() or not math.isfinite(float(number)):
        raise UnitProblem("is not a finite number")
    return Amount(number, split[1])


class UnitTable(Struct, frozen=True):
    """Everything needed to read one quantity without pint.

    ``factors[u]`` multiplies a value in unit ``u`` into the canonical unit; ``decimals[u]`` is
    how many decimals labs print in ``u`` (the boundary rule); ``spellings`` maps a normalized
    spelling to the unit symbol it stands for.
    """

    canonical: str
    factors: dict[str, float]
    decimals: dict[str, int]
    spellings: dict[str, str]
    plain_number: bool = False

    @property
    def units(self) -> tuple[str, ...]:
        """The accepted unit symbols, in the order the rules list them."""
        return tuple(self.factors)

    def lookup(self, unit_text: str) -> str | None:
        """The accepted unit symbol ``unit_text`` spells, or None."""
        return self.spellings.get(normalize_spelling(unit_text))

    def suggest(self, unit_text: str) -> str | None:
        """A near-miss accepted unit for ``unit_text`` (``mmol`` -> ``mmol/L``), or None."""
        key = normalize_spelling(unit_text)
        for spelling, symbol in self.spellings.items():
            if spelling.startswith(key) or key.startswith(spelling):
                return symbol
        close = difflib.get_close_matches(key, list(self.spellings), n=1, cutoff=0.6)
        return self.spellings[close[0]] if close else None

    def limit_in(self, canonical_value: float, unit: str) -> Decimal:
        """A canonical limit expressed in ``unit`` and rounded as labs print that unit."""
        exact = Decimal(repr(canonical_value / self.factors[unit]))
        return exact.quantize(Decimal(1).scaleb(-self.decimals[unit]), rounding="ROUND_HALF_UP")


def build_unit_table(
    *,
    canonical: str,
    units: dict[str, int],
    spellings: dict[str, str],
    molar_mass: str | None,
    valence: int | None,
    plain_number: bool,
) -> UnitTable:
    """Derive a quantity's UnitTable from pint (raises UnitProblem for a bad unit)."""
    mass = quantity(molar_mass) if molar_mass else None
    if mass is not None and mass.dimensionality != registry()("g/mol").dimensionality:
        raise UnitProblem(f"molar mass {molar_mass!r} is not a mass per amount (g/mol)")
    factors: dict[str, float] = {}
    table_spellings: dict[str, str] = {}
    for symbol in units:
        try:
            one = quantity(f"1 {symbol}")
        except UnitProblem as exc:
            raise UnitProblem(f"unit {symbol!r}: {exc}") from None
        factors[symbol] = float(convert(one, canonical, molar_mass=mass, valence=valence)
                                .magnitude)
        table_spellings[normalize_spelling(symbol)] = symbol
    for spelling, symbol in spellings.items():
        if symbol not in units:
            raise UnitProblem(f"spelling {spelling!r} names {symbol!r}, which is not an "
                              f"accepted unit ({', '.join(units)})")
        table_spellings[normalize_spelling(spelling)] = symbol
    return UnitTable(canonical, factors, dict(units), table_spellings, plain_number)
