"""One Observation read: its LOINC code, status, date, and value with a unit mgassist accepts.

    read_observation(resource, rules, as_of) -> Reading | Skipped

The unit is never guessed: it comes from the coded unit (UCUM, or a coded unit the rules
list, such as SNOMED CT 258813002 "mM"), else from the unit text; when the code and the text
name different units, or neither names an accepted one, the result is skipped and says why.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from msgspec import Struct

from mgassist._core.errors import InputError
from mgassist._core.fhir_codes import FhirRules, LoincCode
from mgassist._core.patient import measure
from mgassist._core.ruleset import QuantityRule, RuleSet

from .bundle import items
from .model import Skipped, Source

__all__ = ["LOINC", "Reading", "UCUM", "coding_of", "date_of", "read_observation"]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
_USABLE = ("final", "amended", "corrected")
_COMPARATORS = {"<": "<", "<=": "<=", ">=": ">=", ">": ">"}


class Reading(Struct, frozen=True):
    """A usable result: when it was taken (for ordering) and the source it makes."""

    when: datetime.datetime
    day: datetime.date
    source: Source


def read_observation(resource: Mapping[str, Any], rules: RuleSet, fhir: FhirRules,
                     as_of: datetime.date, *,
                     report: Mapping[str, Any] | None = None) -> Reading | Skipped | None:
    """The reading of one Observation, the reason it cannot be used, or None when its code is
    not one mgassist reads (not an input: a blood pressure, a haemoglobin). ``report``: the
    DiagnosticReport that lists it as a result, whose date it takes when it has none."""
    rid = _id(resource)
    coding = coding_of(resource.get("code"), LOINC, fhir.loinc)
    if coding is None:
        return None
    loinc = fhir.loinc[coding]
    rule = rules.quantities[loinc.field]
    when = date_of(resource)
    dated_by = None
    if when is None and report is not None:
        when = date_of(report)
        dated_by = f"the date of {report.get('resourceType')}/{_id(report)}, which lists it"
    date_text = None if when is None or isinstance(when, str) else when[0]

    def skip(why: str, value: str | None = None) -> Skipped:
        return Skipped(resource_type="Observation", id=rid, system=LOINC, code=coding,
                       date=date_text, value=value, why=why)

    status = resource.get("status")
    if status not in _USABLE:
        return skip(f"status {status!r} is not final, amended or corrected")
    if when is None:
        return skip("has no date (effectiveDateTime, effectivePeriod, effectiveInstant or "
                    "issued): its recency cannot be judged")
    if isinstance(when, str):
        return skip(when)
    text, moment, day = when
    if day > as_of:
        return skip(f"is dated {text}, after the assessment date {as_of.isoformat()}")
    quantity = resource.get("valueQuantity")
    if not isinstance(quantity, Mapping):
        other = next((k for k in resource if k.startswith("value")), None)
        why = f"has {other}, not a valueQuantity" if other else \
            "has no value" + (" (dataAbsentReason)" if "dataAbsentReason" in resource else
                              " (its values are in components, which mgassist does not read)"
                              if "component" in resource else "")
        return skip(why)
    number = quantity.get("value")
    shown = _as_read(quantity)
    if isinstance(number, bool) or not isinstance(number, int | float):
        return skip("valueQuantity.value is not a number", shown)
    unit = read_unit(quantity, rule, fhir)
    if isinstance(unit, _Unreadable):
        return skip(f"{unit.why}; units are never guessed (accepted: "
                    f"{', '.join(rule.table.units)})", shown)
    comparator = quantity.get("comparator")
    if comparator is not None and (not isinstance(comparator, str)
                                   or comparator not in _COMPARATORS):
        return skip(f"comparator {comparator!r} is not a bound mgassist reads", shown)
    bound = _COMPARATORS.get(comparator, "") if isinstance(comparator, str) else ""
    entered = f"{bound}{_number(number)} {unit}"
    try:
        measure(loinc.field, entered, rule)
    except InputError as exc:
        return skip(exc.problem, shown)
    notes = [dated_by] if dated_by else []
    if bound:
        notes.append(f"a bound ({bound}{_number(number)}), not a measured value: it decides "
                     "only where its whole range agrees")
    mismatch = _property_note(loinc, unit)
    if mismatch:
        notes.append(mismatch)
    source = Source(field=loinc.field, resource_type="Observation", id=rid, system=LOINC,
                    code=coding, date=text, value=shown, used=entered,
                    note="; ".join(notes) or None,
                    reference_range=reference_range(resource.get("referenceRange")),
                    range_says=None if bound else _range_says(
                        Decimal(_number(number)), unit, resource.get("referenceRange"), rule,
                        fhir))
    return Reading(moment, day, source)


class _Unreadable(Struct, frozen=True):
    why: str


def read_unit(quantity: Mapping[str, Any], rule: QuantityRule,
              fhir: FhirRules) -> str | _Unreadable:
    """The accepted unit symbol of a valueQuantity, from its code and its unit text."""
    table = rule.table
    system = quantity.get("system")
    code = quantity.get("code")
    text = quantity.get("unit")
    system = system if isinstance(system, str) else None
    code = code if isinstance(code, str) and code.strip() else None
    text = text if isinstance(text, str) and text.strip() else None
    from_code = None
    if code is not None:
        mapped = fhir.coded_units.get((system or "", code))
        if mapped is None and system in (UCUM, None):
            mapped = fhir.coded_units.get((UCUM, code), code)
        from_code = None if mapped is None else table.lookup(mapped)
        if from_code is None and (system in (UCUM, None) or text is None):
            where = f" ({system})" if system else ""
            return _Unreadable(f"the coded unit {code!r}{where} is not a unit of {rule.label} "
                               "that mgassist reads")
    from_text = None
    if text is not None:
        from_text = table.lookup(fhir.coded_units.get((UCUM, text), text))
    if from_code is not None and from_text is not None and from_code != from_text:
        return _Unreadable(f"the unit text {text!r} and the coded unit {code!r} disagree")
    if from_code is not None:
        return from_code
    if from_text is not None:
        return from_text
    if text is not None:
        return _Unreadable(f"the unit {text!r} is not a unit of {rule.label} that mgassist "
                           "reads")
    return _Unreadable("has no unit")


def _range_says(value: Decimal, unit: str, ranges: object, rule: QuantityRule,
                fhir: FhirRules) -> Literal["low", "normal", "high"] | None:
    """How the result's own referenceRange classes it: below low, above high, or within
    (None when the range has no limit in a unit mgassist reads). Compared in the result's
    unit when the range is in it (exact decimals), else in the canonical unit."""
    low, high = reference_limits(ranges)
    limits: list[tuple[Decimal, str] | None] = []
    for limit in (low, high):
        if limit is None or isinstance(limit.get("value"), bool) or \
                not isinstance(limit.get("value"), int | float):
            limits.append(None)
            continue
        limit_unit = read_unit(limit, rule, fhir)
        if isinstance(limit_unit, _Unreadable):
            return None
        limits.append((Decimal(_number(limit["value"])), limit_unit))
    if limits == [None, None]:
        return None
    factors = rule.table.factors

    def below(a: tuple[Decimal, str], b: tuple[Decimal, str]) -> bool:
        if a[1] == b[1]:
            return a[0] < b[0]
        return float(a[0]) * factors[a[1]] < float(b[0]) * factors[b[1]]

    given = (value, unit)
    if limits[0] is not None and below(given, limits[0]):
        return "low"
    if limits[1] is not None and below(limits[1], given):
        return "high"
    return "normal"


def _property_note(loinc: LoincCode, unit: str) -> str | None:
    if not loinc.property_units or unit in loinc.property_units:
        return None
    return (f"LOINC {loinc.code} is reported in {' or '.join(loinc.property_units)}, but this "
            f"result is in {unit}: read by its unit")


def coding_of(concept: object, system: str, table: Mapping[str, Any]) -> str | None:
    """The first code of ``system`` in a CodeableConcept that ``table`` holds, or None."""
    if not isinstance(concept, Mapping):
        return None
    for coding in items(concept.get("coding")):
        if isinstance(coding, Mapping) and coding.get("system") == system and \
                isinstance(coding.get("code"), str) and coding["code"].strip() in table:
            return str(coding["code"].strip())
    return None


def date_of(resource: Mapping[str, Any]) -> tuple[str, datetime.datetime, datetime.date] | \
        str | None:
    """When a result was taken (effective[x], else issued): the text as written, a moment to
    order results by, and its day; a text saying why the date is unusable; or None."""
    period = resource.get("effectivePeriod")
    candidates = [resource.get("effectiveDateTime"), resource.get("effectiveInstant"),
                  period.get("end") if isinstance(period, Mapping) else None,
                  period.get("start") if isinstance(period, Mapping) else None,
                  resource.get("issued")]
    text = next((c for c in candidates if c is not None), None)
    if text is None:
        return None
    return parse_date(text)


def parse_date(text: object) -> tuple[str, datetime.datetime, datetime.date] | str:
    """A FHIR date or dateTime (a full day at least), or why it is not one."""
    if not isinstance(text, str) or len(text) < 10:
        return f"its date {text!r} is not a full date (YYYY-MM-DD)"
    try:
        day = datetime.date.fromisoformat(text[:10])
        moment = datetime.datetime.fromisoformat(text) if len(text) > 10 else \
            datetime.datetime.combine(day, datetime.time())
    except ValueError:
        return f"its date {text!r} is not a FHIR date"
    if moment.tzinfo is not None:  # ordered in UTC; the day stays the one written
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return text, moment, day


def reference_range(ranges: object) -> str | None:
    """The first referenceRange as the lab gave it: ``low-high unit`` or its text."""
    if not isinstance(ranges, list) or not ranges or not isinstance(ranges[0], Mapping):
        return None
    first = ranges[0]
    low, high = first.get("low"), first.get("high")
    parts = [_bound_value(low), _bound_value(high)]
    unit = next((_unit_text(q) for q in (high, low) if isinstance(q, Mapping)
                 and _unit_text(q)), "")
    if parts[0] and parts[1]:
        shown = f"{parts[0]}-{parts[1]} {unit}".strip()
    elif parts[0]:
        shown = f">={parts[0]} {unit}".strip()
    elif parts[1]:
        shown = f"<={parts[1]} {unit}".strip()
    else:
        text = first.get("text")
        return text.strip()[:80] if isinstance(text, str) and text.strip() else None
    return shown


def reference_limits(ranges: object) -> tuple[Mapping[str, Any] | None,
                                              Mapping[str, Any] | None]:
    """The first referenceRange's low and high Quantities (either may be None)."""
    if not isinstance(ranges, list) or not ranges or not isinstance(ranges[0], Mapping):
        return None, None
    low, high = ranges[0].get("low"), ranges[0].get("high")
    return (low if isinstance(low, Mapping) else None,
            high if isinstance(high, Mapping) else None)


def _bound_value(quantity: object) -> str | None:
    if not isinstance(quantity, Mapping):
        return None
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return _number(value)


def _unit_text(quantity: Mapping[str, Any]) -> str:
    for key in ("unit", "code"):
        value = quantity.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _as_read(quantity: Mapping[str, Any]) -> str:
    """The valueQuantity as the resource gave it: comparator, value, unit text and code."""
    comparator = quantity.get("comparator")
    value = quantity.get("value")
    number = _number(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else repr(value)
    unit = quantity.get("unit")
    code = quantity.get("code")
    text = f"{comparator if isinstance(comparator, str) else ''}{number}"
    if isinstance(unit, str) and unit:
        text += f" {unit}"
    if isinstance(code, str) and code and code != unit:
        system = quantity.get("system")
        where = "UCUM" if system == UCUM else "SNOMED CT" if system == _SNOMED else \
            system if isinstance(system, str) else "no system"
        text += f" (code {code}, {where})"
    return text[:120]


_SNOMED = "http://snomed.info/sct"


def _number(value: float) -> str:
    """A JSON number as printed (1.3, 60, 0.09), never in exponent form for lab values."""
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    if "e" in text or "E" in text:
        text = f"{value:f}".rstrip("0").rstrip(".")
    return text


def _id(resource: Mapping[str, Any]) -> str | None:
    value = resource.get("id")
    return value if isinstance(value, str) else None
