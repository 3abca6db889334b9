"""Read a patient from a FHIR R4 document into the record ``mgassist batch`` reads.

    read_fhir(document, rules, as_of=date) -> FhirInput      # record + sources

- Patient: birthDate -> age in whole years at ``as_of``; gender -> sex.
- Observations by LOINC (rules/fhir.yaml): per field, the most recent final, amended or
  corrected result with a readable unit (see observations.py); older ones are skipped.
- MedicationRequest (active; intent order or plan) and MedicationStatement (active): by RxNorm
  ingredient code (rules/fhir.yaml), else by the coded display or text, read by the same
  open-list name matcher as ``--med``.
- Condition (active, not refuted): by SNOMED CT code (rules/fhir.yaml), else by its text.

Every resource of these types that is not used is listed in ``sources.skipped`` with why.
Pure: no files, no clock (the caller gives ``as_of``).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from mgassist._core.errors import FhirError, InputErrors
from mgassist._core.fhir_codes import FhirRules
from mgassist._core.patient import parse_patient
from mgassist._core.ruleset import RuleSet, normalize_term

from .bundle import Entry, References, items, resources
from .model import FhirInput, Skipped, Source, Sources
from .observations import Reading, date_of, read_observation

__all__ = ["RXNORM", "SNOMED", "read_fhir"]

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
_READ = ("Patient", "Observation", "MedicationRequest", "MedicationStatement", "Condition")
_ACTIVE_CONDITION = ("active", "recurrence", "relapse")
_NOT_TRUE = ("refuted", "entered-in-error")
_Row = TypeVar("_Row", Source, Skipped)


def read_fhir(document: object, rules: RuleSet, *, as_of: datetime.date) -> FhirInput:
    """The patient record of a FHIR document (a Bundle of any type, or one resource) and
    its sources; raises FhirError when the document is no FHIR resource or holds no Patient
    (or more than one)."""
    fhir = rules.fhir
    if fhir is None:
        raise FhirError("fhir", "", "cannot be read with these rules: they have no fhir "
                        "section (rules/fhir.yaml)", "a rule set with a fhir section")
    entries = resources(document)
    patients = [e for e in entries if e.type == "Patient"]
    if not patients:
        kinds = sorted({e.type for e in entries})
        raise FhirError("fhir", ", ".join(kinds)[:64] or "an empty Bundle",
                        "holds no Patient resource", "a Bundle with one Patient")
    if len(patients) > 1:
        ids = ", ".join(str(p.id) for p in patients)[:64]
        raise FhirError("fhir", ids, f"holds {len(patients)} Patient resources; one document "
                        "is one patient", "a Bundle with one Patient")
    patient = patients[0]
    refs = References(entries)
    reports: dict[int, Mapping[str, Any]] = {}  # an Observation (by identity): what lists it
    for entry in entries:
        key = "result" if entry.type == "DiagnosticReport" else \
            "hasMember" if entry.type == "Observation" else None
        members = entry.resource.get(key) if key else None
        for member in items(members):
            target = refs.resolve(member, entry.resource)
            if target is not None and target is not entry.resource:
                reports.setdefault(id(target), entry.resource)
    reader = _Reader(rules, fhir, as_of, patient, refs, reports)
    for entry in entries:
        reader.add(entry)
    return reader.result()


class _Reader:
    """Collects one document's inputs, resource by resource."""

    def __init__(self, rules: RuleSet, fhir: FhirRules, as_of: datetime.date, patient: Entry,
                 refs: References, reports: Mapping[int, Mapping[str, Any]]) -> None:
        self.rules, self.fhir, self.as_of, self.refs = rules, fhir, as_of, refs
        self.reports = reports
        self.record: dict[str, Any] = {}
        self.used: list[Source] = []
        self.skipped: list[Skipped] = []
        self.readings: dict[str, list[Reading]] = {}
        self.meds: list[str] = []
        self.conditions: list[str] = []
        self.not_read: dict[str, int] = {}  # resources that are no input, by type
        self.patient = patient
        self.subject_refs = {f"Patient/{patient.id}"} if patient.id else set()
        if patient.full_url:
            self.subject_refs.add(patient.full_url)

    def add(self, entry: Entry) -> None:
        kind = entry.type
        if kind not in _READ:
            self.not_read[kind] = self.not_read.get(kind, 0) + 1
            return
        if kind == "Patient":
            self._patient(entry.resource)
            return
        if not self._about_patient(entry.resource):
            self.skipped.append(Skipped(resource_type=kind, id=entry.id,
                                        code=_first_code(entry.resource.get("code")),
                                        why="is about another patient (subject)"))
            return
        if kind == "Observation":
            found = read_observation(entry.resource, self.rules, self.fhir, self.as_of,
                                     report=self._dated_container(entry.resource))
            if isinstance(found, Skipped):
                self.skipped.append(found)
            elif found is not None:
                self.readings.setdefault(found.source.field, []).append(found)
            else:
                # not an input (a haemoglobin, a blood pressure): counted, not listed
                self.not_read[kind] = self.not_read.get(kind, 0) + 1
        elif kind in ("MedicationRequest", "MedicationStatement"):
            self._medication(entry)
        else:
            self._condition(entry)

    def _dated_container(self, resource: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The nearest panel or DiagnosticReport listing ``resource`` that has a date."""
        container = self.reports.get(id(resource))
        for _ in range(4):
            if container is None or date_of(container) is not None:
                return container
            container = self.reports.get(id(container))
        return None

    def _about_patient(self, resource: Mapping[str, Any]) -> bool:
        subject = resource.get("subject")
        if not isinstance(subject, Mapping) or not isinstance(subject.get("reference"), str) \
                or not self.subject_refs:
            return True  # a Bundle about one patient need not say so in every resource
        target = subject["reference"]
        return target in self.subject_refs or any(
            target.endswith("/" + ref) for ref in self.subject_refs if ref.startswith("Patient/"))

    # Patient ---------------------------------------------------------------------------
    def _patient(self, resource: Mapping[str, Any]) -> None:
        rid = self.patient.id
        if rid is not None and rid.isprintable() and 0 < len(rid) <= 64:
            self.record["id"] = rid
        born = resource.get("birthDate")
        if born is not None:
            age = _age(born, self.as_of)
            if isinstance(age, str):
                self.skipped.append(Skipped(resource_type="Patient", id=rid, code="birthDate",
                                            value=str(born)[:32], why=age))
            else:
                self._use(Source(field="age", resource_type="Patient", id=rid, system=None,
                                 code="birthDate", date=str(born), value=str(born),
                                 used=f"{age} years at {self.as_of.isoformat()}"), age)
        gender = resource.get("gender")
        if gender in ("female", "male"):
            self._use(Source(field="sex", resource_type="Patient", id=rid, system=None,
                             code="gender", date=None, value=gender, used=gender), gender)
        elif gender is not None:
            self.skipped.append(Skipped(resource_type="Patient", id=rid, code="gender",
                                        value=str(gender)[:32], why="gender is neither female "
                                        "nor male: Cockcroft-Gault needs the sex it was "
                                        "derived for; give --sex if it applies"))

    def _use(self, source: Source, value: Any) -> None:
        self.used.append(source)
        self.record[source.field] = value

    # Medications -----------------------------------------------------------------------
    def _medication(self, entry: Entry) -> None:
        resource, kind = entry.resource, entry.type
        status, intent = resource.get("status"), resource.get("intent")
        concept = resource.get("medicationCodeableConcept")
        if concept is None:
            medication = self.refs.resolve(resource.get("medicationReference"), resource)
            concept = medication.get("code") if medication is not None else None
        cui = _code(concept, RXNORM)
        name = _name(concept)
        date = _med_date(resource)

        def skip(why: str) -> None:
            self.skipped.append(Skipped(resource_type=kind, id=entry.id, system=RXNORM
                                        if cui else None, code=cui, date=date, value=name,
                                        why=why))

        if status != "active":
            skip(f"status {status!r} is not active")
            return
        if kind == "MedicationRequest" and intent not in ("order", "plan"):
            skip(f"intent {intent!r} is not order or plan")
            return
        if resource.get("doNotPerform") is True:
            skip("doNotPerform: an order not to give it")
            return
        known = self.fhir.rxnorm.get(cui) if cui else None
        text = known or name
        if text is None:
            skip("names no medicine: no RxNorm code mgassist knows, no display or text")
            return
        try:
            parsed = parse_patient({"meds": [text]}, self.rules)
        except InputErrors as exc:
            skip(exc.errors[0].problem)
            return
        note = None
        if not known and not parsed.meds:
            note = "not recognised: check it by hand"
        elif not known and cui:
            note = f"RxNorm {cui} is not in mgassist's table: read by its name"
        self.used.append(Source(field="meds", resource_type=kind, id=entry.id,
                                system=RXNORM if cui else None, code=cui, date=date,
                                value=name or text, used=text, note=note))
        if text not in self.meds:
            self.meds.append(text)

    # Conditions ------------------------------------------------------------------------
    def _condition(self, entry: Entry) -> None:
        resource = entry.resource
        concept = resource.get("code")
        code = _code(concept, SNOMED)
        name = _name(concept)
        date = _condition_date(resource)

        def skip(why: str) -> None:
            self.skipped.append(Skipped(resource_type="Condition", id=entry.id,
                                        system=SNOMED if code else None, code=code,
                                        date=date, value=name, why=why))

        clinical = _code(resource.get("clinicalStatus"), None)
        if clinical not in _ACTIVE_CONDITION:
            skip(f"clinicalStatus {clinical!r} is not active")
            return
        verification = _code(resource.get("verificationStatus"), None)
        if verification in _NOT_TRUE:
            skip(f"verificationStatus is {verification}")
            return
        condition = self.fhir.snomed.get(code) if code else None
        lookup = self.rules.vocabulary.lookup.get("conditions", {})
        if condition is None and name is not None:
            condition = lookup.get(normalize_term(name.replace("'", "")))
        if condition is None:
            skip("is not a condition mgassist uses")
            return
        self.used.append(Source(field="conditions", resource_type="Condition", id=entry.id,
                                system=SNOMED if code else None, code=code, date=date,
                                value=name or condition, used=condition))
        if condition not in self.conditions:
            self.conditions.append(condition)

    # The result ------------------------------------------------------------------------
    def result(self) -> FhirInput:
        for field, readings in self.readings.items():
            readings.sort(key=lambda r: r.when, reverse=True)
            chosen = readings[0]
            days = self.fhir.fresh_days.get(field)
            age = (self.as_of - chosen.day).days
            source = chosen.source.with_changes(old=days is not None and age > days,
                                                age_days=age, fresh_days=days)
            self._use(source, source.used)
            for other in readings[1:]:
                s = other.source
                self.skipped.append(Skipped(resource_type=s.resource_type, id=s.id,
                                            system=s.system, code=s.code, date=s.date,
                                            value=s.value, why=f"an earlier {field} result "
                                            f"than the one used ({source.date})"))
        if self.meds:
            self.record["meds"] = list(self.meds)
        if self.conditions:
            self.record["conditions"] = list(self.conditions)
        order: dict[str, int] = {}
        for name in ("age", "sex", *self.rules.quantities, "meds", "conditions"):
            order.setdefault(name, len(order))
        used = sorted(self.used, key=lambda s: order.get(s.field, len(order)))
        return FhirInput(record=self.record, sources=Sources(
            as_of=self.as_of, used=[_printable(s) for s in used],
            skipped=[_printable(s) for s in self.skipped],
            not_read={_CONTROL.sub("?", k)[:64]: n for k, n in sorted(self.not_read.items())}))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LONGEST = {"why": 400, "value": 200}  # characters of a text from the document, shown


def _printable(row: _Row) -> _Row:
    """``row`` with every text safe to print: control characters (a terminal escape in a
    display name) shown as ?, and each text cut to a length a report can show."""
    changes: dict[str, str] = {}
    for spec in dataclasses.fields(row):
        text = getattr(row, spec.name)
        if not isinstance(text, str):
            continue
        clean = _CONTROL.sub("?", text)
        limit = _LONGEST.get(spec.name, 120)
        if len(clean) > limit:
            clean = clean[: limit - 3] + "..."
        if clean != text:
            changes[spec.name] = clean
    return dataclasses.replace(row, **changes) if changes else row  # type: ignore[arg-type]


def _age(born: object, as_of: datetime.date) -> int | str:
    """Whole years from ``born`` to ``as_of``; a partial date (1950, 1950-05) is used only
    when every day it may stand for gives the same age."""
    if not isinstance(born, str):
        return f"birthDate {born!r} is not a date"
    parts = born.split("-")
    try:
        year = int(parts[0])
        if len(parts) == 1:
            first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        elif len(parts) == 2:
            month = int(parts[1])
            first = datetime.date(year, month, 1)
            following = datetime.date(year + month // 12, month % 12 + 1, 1)
            last = following - datetime.timedelta(days=1)
        else:
            first = last = datetime.date.fromisoformat(born)
    except ValueError:
        return f"birthDate {born!r} is not a FHIR date"
    if first > as_of:
        return f"birthDate {born} is after the assessment date {as_of.isoformat()}"
    young, old = _years(last, as_of), _years(first, as_of)
    if young != old:
        return f"birthDate {born} is partial: the age at {as_of.isoformat()} may be {young} or " \
               f"{old}; give --age"
    return old


def _years(born: datetime.date, as_of: datetime.date) -> int:
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


def _code(concept: object, system: str | None) -> str | None:
    """The first code of ``system`` (None: any system) in a CodeableConcept."""
    if not isinstance(concept, Mapping):
        return None
    for coding in items(concept.get("coding")):
        if isinstance(coding, Mapping) and (system is None or coding.get("system") == system):
            code = coding.get("code")
            if isinstance(code, str) and code.strip():
                return code.strip()
    return None


def _first_code(concept: object) -> str | None:
    code = _code(concept, None)
    return code[:32] if code else None


def _name(concept: object) -> str | None:
    """The name a CodeableConcept gives: its text, else its first coding's display."""
    if not isinstance(concept, Mapping):
        return None
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return " ".join(text.split())
    for coding in items(concept.get("coding")):
        if isinstance(coding, Mapping):
            display = coding.get("display")
            if isinstance(display, str) and display.strip():
                return " ".join(display.split())
    return None


def _med_date(resource: Mapping[str, Any]) -> str | None:
    for key in ("authoredOn", "dateAsserted", "effectiveDateTime"):
        value = resource.get(key)
        if isinstance(value, str):
            return value
    period = resource.get("effectivePeriod")
    if isinstance(period, Mapping) and isinstance(period.get("start"), str):
        return str(period["start"])
    return None


def _condition_date(resource: Mapping[str, Any]) -> str | None:
    for key in ("onsetDateTime", "recordedDate"):
        value = resource.get(key)
        if isinstance(value, str):
            return value
    return None


