"""The patient: raw input (flags, JSON, CSV) -> a typed, validated, canonical Patient.

    parse_patient(raw, rules) -> Patient        # or raises InputErrors naming every bad field

A quantity is always a number WITH a unit (``"0.62 mmol/L"`` or ``{"value": 0.62, "unit":
"mmol/L"}``); a bare number is refused unless the field is a plain number (age, days). Units
are never guessed. Every error names the field, the value and what is accepted.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from msgspec import Struct, field

from .conditions import Bound
from .contract import Condition, Indication, MedClass, Sex, Symptom, WeightBasis
from .errors import InputError, InputErrors
from .fields import FIELDS, FieldSpec
from .medications import read_medication
from .ruleset import QuantityRule, RuleSet, Salt, normalize_term
from .units import UnitProblem, convert, dimension_words, parse_amount, quantity

__all__ = ["Measured", "Patient", "parse_patient", "split_items", "with_label"]


class Measured(Struct, frozen=True, kw_only=True):
    """A measured value: as entered (number and unit) and in the canonical unit.

    ``bound`` (``>``, ``>=``, ``<``, ``<=``): the lab printed a bound, such as an eGFR of
    ``>60``; the value lies beyond ``number``, and ``canonical`` is that edge."""

    number: Decimal
    unit: str
    canonical: float
    canonical_unit: str
    bound: Bound | None = None
    salt: str | None = None

    @property
    def entered(self) -> str:
        """The value as entered, with the accepted unit's spelling (``1.5 mg/dL``, ``>60
        mL/min/1.73m2``, ``400 mg/day magnesium oxide``: a salt given by name)."""
        named = f" {self.salt}" if self.salt else ""
        return f"{self.bound or ''}{self.number} {self.unit}{named}"


class Patient(Struct, frozen=True, kw_only=True):
    """One patient, validated: quantities in canonical units, vocabularies as contract ids."""

    id: str | None = None
    mg: Measured | None = None
    k: Measured | None = None
    ca: Measured | None = None
    albumin: Measured | None = None
    creatinine: Measured | None = None
    crcl: Measured | None = None
    egfr: Measured | None = None
    age: Measured | None = None
    sex: Sex | None = None
    weight: Measured | None = None
    height: Measured | None = None
    meds: tuple[MedClass, ...] = ()
    meds_not_recognised: tuple[str, ...] = ()
    med_names: tuple[tuple[str, tuple[MedClass, ...]], ...] = ()  # each name as typed: classes
    conditions: tuple[Condition, ...] = ()
    symptoms: tuple[Symptom, ...] = ()
    indication: Indication | None = None
    current_dose: Measured | None = None
    days_on_dose: Measured | None = None
    crcl_weight: WeightBasis = WeightBasis.AUTO
    inputs: dict[str, Any] = field(default_factory=dict)
    # From a FHIR document only (never a record key): LabFlag values, and the texts of the
    # placeholders that name them ({old_results}, {lab_range}).
    lab_flags: tuple[str, ...] = ()
    lab_texts: tuple[tuple[str, str], ...] = ()


_ENUMS: dict[str, Any] = {"meds": MedClass, "conditions": Condition, "symptoms": Symptom,
                          "indications": Indication}
_SHOWN_CHARS = 64
_BY_KEY = {key: spec for spec in FIELDS for key in spec.keys}  # every accepted key -> field
_ALIASES = {"female": "female", "f": "female", "woman": "female", "male": "male", "m": "male",
            "man": "male"}


def parse_patient(raw: Mapping[str, Any], rules: RuleSet, *,
                  memo: dict[Any, Any] | None = None) -> Patient:
    """Validate ``raw`` (keys as in the spec; empty values mean "not given").

    ``memo`` (batch): a dict kept across calls with the same rules, remembering each field's
    parse of a text value, so the many repeats of "0.62 mmol/L" in a file are read once."""
    errors: list[InputError] = []
    by_key = _BY_KEY
    values: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    for key, value in raw.items():
        spec = by_key.get(key) if isinstance(key, str) else None
        if spec is None:
            fields = ", ".join(f.name for f in FIELDS)
            if not str(key).strip():  # a blank name cannot name the error: the record does
                errors.append(InputError("record", "", f"has a blank key {str(key)!r}, which "
                                         "is not a patient field", fields))
                continue
            close = difflib.get_close_matches(str(key), list(by_key), n=1) or [
                q.id for q in rules.quantities.values()
                if str(key).lower() in q.label.lower().split()]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(InputError(str(key), "", f"is not a patient field{hint}", fields))
            continue
        if _blank(value):
            continue
        if spec.name in inputs and spec.kind == "list":
            inputs[spec.name] = [*_as_list(inputs[spec.name]), *_as_list(value)]
        else:
            inputs[spec.name] = value
    for spec in FIELDS:
        if spec.name not in inputs:
            continue
        value = inputs[spec.name]
        memo_key = _memo_key(spec.name, value) if memo is not None else None
        if memo_key is not None and memo is not None and memo_key in memo:
            result = memo[memo_key]
        else:
            try:
                result = _parse_field(spec, value, rules)
            except InputError as exc:
                result = exc
            if memo_key is not None and memo is not None:
                if len(memo) >= _MEMO_LIMIT:  # bounded: memory stays flat on any input
                    memo.clear()
                memo[memo_key] = result
        if isinstance(result, InputError):
            errors.append(result)
        elif spec.name == "meds":
            values["meds"], values["meds_not_recognised"], values["med_names"] = result
        else:
            values[spec.name] = result
    basis = values.get("crcl_weight", WeightBasis.AUTO)
    if basis in (WeightBasis.IDEAL, WeightBasis.ADJUSTED) and "height" not in values:
        errors.append(InputError("crcl_weight", basis.value, "needs a height (--height)",
                                 "auto or actual without a height"))
    if errors:
        raise InputErrors([with_label(error, rules) for error in errors])
    return Patient(**values, inputs=_jsonable(inputs))


def with_label(error: InputError, rules: RuleSet) -> InputError:
    """``error`` with its quantity in words (``mg`` -> ``serum magnesium``), from the rules;
    unchanged when the field's own name says it already (``age``, ``egfr``) or is no quantity."""
    rule = rules.quantities.get(error.field)
    if error.label or rule is None or \
            rule.label.lower() == error.field.replace("_", " ").lower():
        return error
    return dataclasses.replace(error, label=rule.label)


_MEMO_LIMIT = 8_192  # small, so it fills early and memory stays flat (as engine._FACTS_LIMIT)


def _memo_key(name: str, value: Any) -> tuple[Any, ...] | None:
    """What a field's parse depends on, when it can be remembered: a string, a list of
    strings, a plain number (its type kept: 2 and 2.0 and True are not the same input) or a
    ``{"value": ..., "unit": ...}`` object of those."""
    if isinstance(value, str):
        return (name, value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return (name, tuple(value))
    if type(value) in (int, float):
        return (name, type(value), value)
    if isinstance(value, dict) and len(value) == 2 and "value" in value and "unit" in value:
        amount, unit = value["value"], value["unit"]
        if type(amount) in (int, float, str) and type(unit) is str:
            return (name, "value-unit", type(amount), amount, unit)
    return None


def _parse_field(spec: FieldSpec, value: Any, rules: RuleSet) -> Any:
    if spec.name == "id":
        if isinstance(value, bool) or not isinstance(value, str | int) or \
                (isinstance(value, int) and abs(value) >= _TOO_LARGE):
            raise InputError("id", _show(value), "must be a string or an integer")
        _printable("id", value, "printable text")
        return str(value)
    if spec.name == "current_dose":  # elemental, or a daily amount of a named salt
        return measure(spec.name, value, rules.quantities[spec.name], salts=rules)
    if spec.kind in ("quantity", "number"):
        return measure(spec.name, value, rules.quantities[spec.name])
    if spec.name == "meds":
        return _medications(value, rules)
    if spec.kind == "list":
        assert spec.vocabulary is not None
        items = [_term(spec, item, rules) for item in _as_list(value)]
        return tuple(dict.fromkeys(items))
    if spec.vocabulary is not None:
        if not isinstance(value, str):
            raise InputError(spec.name, _show(value), "must be one id", _ids(spec, rules))
        return _term(spec, value, rules)
    text = value.strip().lower() if isinstance(value, str) else None
    if spec.name == "sex" and text in _ALIASES:
        return Sex(_ALIASES[text])
    if spec.name == "crcl_weight" and text in spec.choices:
        return WeightBasis(text)
    raise InputError(spec.name, _show(value), "is not accepted", ", ".join(spec.choices))


def measure(field: str, value: Any, rule: QuantityRule, *,
            salts: RuleSet | None = None) -> Measured:
    """Read one quantity (text, ``{"value", "unit"}`` or, for plain numbers, a number).

    ``salts``: the rules whose salt table this quantity may name after its unit (a current
    dose of ``400 mg/day magnesium oxide``), converted to elemental magnesium through the
    salt's formula mass."""
    table = rule.table
    accepted = ", ".join(table.units) + f" (e.g. {rule.example!r})"
    if isinstance(value, Mapping):
        if set(value) != {"value", "unit"} or isinstance(value["value"], bool) or \
                not isinstance(value["value"], int | float) or not isinstance(value["unit"], str):
            raise InputError(field, _show(value), 'must be {"value": <number>, "unit": <text>}',
                             accepted)
        text = f"{_number_text(field, value, value['value'], accepted)} {value['unit']}"
    elif isinstance(value, bool):
        raise InputError(field, _show(value), "is not a quantity", accepted)
    elif isinstance(value, int | float):
        text = _number_text(field, value, value, accepted)
    elif isinstance(value, str):
        text = value
    else:
        raise InputError(field, _show(value), "is not a quantity", accepted)
    bound, text = _split_bound(text)
    if bound is not None and not rule.bounds:
        raise InputError(field, _show(value), f"is a bound ({bound}), not a measured value; "
                         f"give the value the lab measured", accepted)
    try:
        amount = parse_amount(text)
    except UnitProblem as exc:
        raise InputError(field, _show(value), str(exc), accepted) from None
    salt: Salt | None = None
    if amount.unit_text == "":
        if not table.plain_number:
            raise InputError(field, _show(value), "has no unit; units are never guessed",
                             accepted)
        unit = table.canonical
    else:
        found = table.lookup(amount.unit_text)
        if found is None and salts is not None:
            found, salt = _salt_unit(field, value, amount.unit_text, rule, salts)
        if found is None:
            raise InputError(field, _show(value), _unit_problem(amount.unit_text, rule),
                             accepted + _salt_hint(salts))
        unit = found
    entered = amount.number.copy_abs() if amount.number.is_zero() else amount.number  # no -0
    number = float(entered)
    canonical = number * table.factors[unit] if salt is None else \
        number * salt.elemental_mmol_per_mg  # mg/day of the salt -> elemental mmol/day
    if not math.isfinite(canonical):
        raise InputError(field, _show(value), "is not a finite number", accepted)
    if entered < 0 or (number == 0 and rule.minimum > 0):
        what = "zero or negative" if rule.minimum > 0 else "negative"
        raise InputError(field, _show(value), f"is {what}; it must be above zero"
                         if rule.minimum > 0 else f"is {what}", _range(rule))
    if not rule.minimum <= canonical <= rule.maximum:
        hint = _other_unit_hint(f"{bound or ''}{entered}", number, unit, rule) \
            if salt is None else ""
        raise InputError(field, _show(value), f"is outside the plausible range{hint}; check "
                         "the value and its unit", _range(rule))
    return Measured(number=entered, unit=unit, canonical=canonical,
                    canonical_unit=table.canonical, bound=bound,
                    salt=None if salt is None else salt.label)


def _salt_unit(field: str, value: Any, unit_text: str, rule: QuantityRule,
               rules: RuleSet) -> tuple[str | None, Salt | None]:
    """``mg/day magnesium oxide``: the unit and the named salt (a mass unit only: an amount in
    mmol/day is elemental already), or (None, None) when the text names no salt."""
    unit_word, _, rest = unit_text.strip().partition(" ")
    unit = rule.table.lookup(unit_word)
    name = normalize_term(rest)
    if unit is None or not name:
        return None, None
    if name in rules.elemental_names:  # "300 mg/day elemental": said outright
        return unit, None
    accepted = "elemental magnesium in mmol/day or mg/day" + _salt_hint(rules)
    why = rules.unconvertible.get(name)
    if why is not None:
        raise InputError(field, _show(value), f"names {rest.strip()!r}, whose mass cannot be "
                         f"converted to magnesium: {why}", accepted)
    salt = next((s for s in rules.salts.values() if name in s.names), None)
    if salt is None:
        raise InputError(field, _show(value), f"names {rest.strip()!r}, which is not a salt "
                         "mgassist knows the formula mass of", accepted)
    if unit != "mg/day":
        raise InputError(field, _show(value), f"gives {rest.strip()} in {unit}; give a salt as "
                         "its mass in mg/day (an amount in mmol/day is elemental already)",
                         accepted)
    return unit, salt


def _salt_hint(rules: RuleSet | None) -> str:
    if rules is None or not rules.salts:
        return ""
    names = ", ".join(s.names[0].replace("-", " ") for s in rules.salts.values() if s.names)
    return f"; or a salt's daily mass, e.g. '400 mg/day magnesium oxide' (salts: {names})"


def _medications(value: Any, rules: RuleSet) -> tuple[
        tuple[MedClass, ...], tuple[str, ...], tuple[tuple[str, tuple[MedClass, ...]], ...]]:
    """The classes of the medications named, the names that map to none (accepted and
    reported, unless they nearly spell a known name: a typo is refused, never dropped), and
    each name as typed with its classes (for texts that name what the clinician wrote)."""
    classes: list[MedClass] = []
    unknown: list[str] = []
    named: list[tuple[str, tuple[MedClass, ...]]] = []
    for item in _as_list(value):
        if not isinstance(item, str) or not item.strip():
            raise InputError("meds", _show(item), "must be a non-empty name", _MEDS_ACCEPTED)
        _printable("meds", item, _MEDS_ACCEPTED)
        if len(item) > _LONGEST_MED:
            raise InputError("meds", _show(item), f"is {len(item):,} characters long: one "
                             f"medication name is at most {_LONGEST_MED}", _MEDS_ACCEPTED)
        found = read_medication(item, rules.vocabulary.medications)
        if found.near_miss is not None:
            what = "is not a known medication" if not found.classes else \
                "has a word that is not a known medication"
            raise InputError("meds", _show(item), f"{what} (did you mean {found.near_miss!r}?); "
                             "a misspelt name would silently drop its effect on magnesium",
                             _MEDS_ACCEPTED)
        if found.classes:
            classes += [MedClass(c) for c in found.classes]
            named.append((" ".join(item.split()), tuple(MedClass(c) for c in found.classes)))
        else:
            unknown.append(" ".join(item.split()))
    return tuple(dict.fromkeys(classes)), tuple(dict.fromkeys(unknown)), tuple(named)


_LONGEST_MED = 200  # characters: a name with its strength, form and directions fits
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # not tab or line breaks


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def not_utf8(field: str, text: str, accepted: str = "UTF-8 text") -> InputError | None:
    """The error for ``text`` holding bytes that were not UTF-8, or None. Python keeps such
    bytes (in argv, a terminal answer, a file read with ``surrogateescape``) as lone surrogates,
    which no output (JSON, a terminal, a file) can write."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return None
    return InputError(field, _show(text), "is not valid UTF-8 (check the encoding of the "
                      "terminal, the script or the file)", accepted)


def _printable(field: str, value: Any, accepted: str) -> None:
    """Free text is echoed in reports: a control character (a terminal escape) is refused, and
    so are bytes that are not UTF-8."""
    if not isinstance(value, str):
        return
    if _CONTROL.search(value):
        raise InputError(field, _show(value), "contains a control character", accepted)
    error = not_utf8(field, value, accepted)
    if error is not None:
        raise error


_MEDS_ACCEPTED = ("a class id, or a generic or brand name that maps to one (see `mgassist vocab "
                  "meds`); any other medication is accepted and listed as not recognised")


_BOUNDS: dict[str, Bound] = {">=": ">=", "<=": "<=", "≥": ">=", "≤": "<=", ">": ">", "<": "<"}


def _split_bound(text: str) -> tuple[Bound | None, str]:
    """A leading comparator as labs print it (``>60``, ``≥ 90``, ``<=5``) and the rest."""
    stripped = text.lstrip()
    for sign, bound in _BOUNDS.items():  # two-character signs first
        if stripped.startswith(sign):
            return bound, stripped[len(sign):]
    return None, text


_TOO_LARGE = 10**400  # beyond any float; and repr() refuses ints over 4300 digits


def _number_text(field: str, value: Any, number: float, accepted: str) -> str:
    if isinstance(number, int) and abs(number) >= _TOO_LARGE:
        raise InputError(field, _show(value), "is not a finite number", accepted)
    return repr(number)


_LONGEST_UNIT = 32  # longer unit text is not a unit; pint takes quadratic time to say so


def _unit_problem(unit_text: str, rule: QuantityRule) -> str:
    table = rule.table
    near = table.suggest(unit_text)
    hint = f" (did you mean {near}?)" if near else ""
    shown = _show(unit_text)
    if len(unit_text) > _LONGEST_UNIT:
        return f"unit {shown!r} is unknown{hint}"
    try:  # error path only: ask pint what the unit is, to say why it does not fit
        given = quantity(f"1 {unit_text}")
    except UnitProblem:
        return f"unit {shown!r} is unknown{hint}"
    try:
        try:
            convert(given, table.canonical, molar_mass=quantity("1 g/mol"), valence=1)
        except UnitProblem:
            return (f"unit {shown!r} is {dimension_words(given)}, not a unit of "
                    f"{rule.label}{hint}")
    except Exception:  # pint fails in its own ways on units it cannot scale or print (dB)
        return f"unit {shown!r} is not a unit of {rule.label}{hint}"
    return f"unit {shown!r} is not accepted for {rule.label}{hint}"


def _range(rule: QuantityRule) -> str:
    return rule.plausible_text


def _other_unit_hint(shown: str, number: float, unit: str, rule: QuantityRule) -> str:
    """`` (106 umol/L would be plausible: did you mean umol/L?)`` when the number, implausible
    in the unit typed, is plausible in another unit of the same quantity (a likely mix-up of
    units); else nothing. Only the rules' units and limits are used."""
    table = rule.table
    fits = [other for other in table.units if other != unit
            and rule.minimum <= number * table.factors[other] <= rule.maximum]
    if not fits:
        return ""
    values = " or ".join(f"{shown} {other}" for other in fits)
    return f" ({values} would be plausible: did you mean {' or '.join(fits)}?)"


def _term(spec: FieldSpec, item: Any, rules: RuleSet) -> Any:
    assert spec.vocabulary is not None
    lookup = rules.vocabulary.lookup[spec.vocabulary]
    if not isinstance(item, str) or not item.strip():
        raise InputError(spec.name, _show(item), "must be a non-empty name", _ids(spec, rules))
    key = normalize_term(item)
    if key in lookup:
        return _ENUMS[spec.vocabulary](lookup[key])
    close = difflib.get_close_matches(key, list(lookup), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise InputError(spec.name, _show(item), f"is not a known {spec.vocabulary[:-1]}{hint}",
                     _ids(spec, rules))


def _ids(spec: FieldSpec, rules: RuleSet) -> str:
    assert spec.vocabulary is not None
    ids = ", ".join(rules.vocabulary.labels[spec.vocabulary])
    extra = " or a drug name that maps to one (see `mgassist vocab`)" \
        if spec.vocabulary == "meds" else ""
    return ids + extra


def split_items(text: str) -> list[str]:
    """The items of a list field typed as one string (``"furosemide; omeprazole"``)."""
    return [part for part in (p.strip() for p in text.replace(",", ";").split(";")) if part]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return list(split_items(value))
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _show(value: Any) -> str:
    """The offending value for a message, shortened: errors echo one field, never a record."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except ValueError:  # holds an int too long to print (sys.get_int_max_str_digits)
        text = f"<{type(value).__name__} too long to show>"
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _jsonable(inputs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        out[key] = list(value) if isinstance(value, tuple) else value
    return out
