"""Build small FHIR R4 resources and Bundles for the tests (plain dicts, as parsed JSON).

    bundle(patient(), lab("19123-9", 1.3, "mg/dL"), med_request(rxnorm="7646"))
"""

from __future__ import annotations

from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PATIENT_ID = "pat-1"

_counter = {"n": 0}


def _next_id(prefix: str) -> str:
    _counter["n"] += 1
    return f"{prefix}-{_counter['n']}"


def patient(*, birth: str | None = "1954-05-10", gender: str | None = "female",
            id: str = PATIENT_ID) -> dict[str, Any]:
    """A Patient (born 1954-05-10: 72 years old on 2026-11-29)."""
    resource: dict[str, Any] = {"resourceType": "Patient", "id": id}
    if birth is not None:
        resource["birthDate"] = birth
    if gender is not None:
        resource["gender"] = gender
    return resource


def lab(code: str, value: Any, unit: str | None = None, *, date: str | None = "2026-11-27",
        status: str = "final", system: str | None = UCUM, ucum: str | None = None,
        comparator: str | None = None, text_only: bool = False,
        reference: tuple[Any, Any, str] | None = None, id: str | None = None,
        subject: str | None = PATIENT_ID, extra: dict[str, Any] | None = None
        ) -> dict[str, Any]:
    """An Observation coded ``code`` in LOINC with a valueQuantity: ``unit`` as its unit text
    and (unless ``text_only``) as its code in ``system`` (``ucum`` overrides the code)."""
    quantity: dict[str, Any] = {"value": value}
    if unit is not None:
        quantity["unit"] = unit
    if not text_only and (ucum or unit) is not None:
        quantity["code"] = ucum or unit
        if system is not None:
            quantity["system"] = system
    if comparator is not None:
        quantity["comparator"] = comparator
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": id or _next_id("obs"), "status": status,
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "valueQuantity": quantity}
    if subject is not None:
        resource["subject"] = {"reference": f"Patient/{subject}"}
    if date is not None:
        resource["effectiveDateTime"] = date
    if reference is not None:
        low, high, range_unit = reference
        resource["referenceRange"] = [{"low": {"value": low, "unit": range_unit},
                                       "high": {"value": high, "unit": range_unit}}]
    resource.update(extra or {})
    return resource


def med_request(*, rxnorm: str | None = None, display: str | None = None,
                text: str | None = None, status: str = "active", intent: str = "order",
                kind: str = "MedicationRequest", id: str | None = None) -> dict[str, Any]:
    """A MedicationRequest (or MedicationStatement) with a medicationCodeableConcept."""
    concept: dict[str, Any] = {}
    if rxnorm is not None or display is not None:
        coding: dict[str, Any] = {"system": RXNORM}
        if rxnorm is not None:
            coding["code"] = rxnorm
        if display is not None:
            coding["display"] = display
        concept["coding"] = [coding]
    if text is not None:
        concept["text"] = text
    resource: dict[str, Any] = {"resourceType": kind, "id": id or _next_id("med"),
                                "status": status, "medicationCodeableConcept": concept,
                                "subject": {"reference": f"Patient/{PATIENT_ID}"}}
    if kind == "MedicationRequest":
        resource["intent"] = intent
        resource["authoredOn"] = "2026-10-01"
    return resource


def condition(*, snomed: str | None = None, text: str | None = None,
              clinical: str | None = "active", verification: str | None = None,
              id: str | None = None) -> dict[str, Any]:
    """A Condition coded in SNOMED CT (or by text only)."""
    concept: dict[str, Any] = {}
    if snomed is not None:
        concept["coding"] = [{"system": SNOMED, "code": snomed}]
    if text is not None:
        concept["text"] = text
    resource: dict[str, Any] = {"resourceType": "Condition", "id": id or _next_id("cond"),
                                "code": concept,
                                "subject": {"reference": f"Patient/{PATIENT_ID}"}}
    if clinical is not None:
        resource["clinicalStatus"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": clinical}]}
    if verification is not None:
        resource["verificationStatus"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": verification}]}
    return resource


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    """A Bundle of ``kind`` holding ``resources``, each with a fullUrl of Type/id."""
    return {"resourceType": "Bundle", "type": kind,
            "entry": [{"fullUrl": f"urn:uuid:{r['resourceType']}-{r['id']}"
                       if r["resourceType"] != "Patient" else f"Patient/{r['id']}",
                       "resource": r} for r in resources]}


def done_when_bundle() -> dict[str, Any]:
    """The issue's example: Mg 1.3 mg/dL (19123-9), K 3.0 mmol/L, creatinine 1.0 mg/dL, weight,
    height, birthDate and an omeprazole MedicationRequest."""
    return bundle(
        patient(),
        lab("19123-9", 1.3, "mg/dL"),
        lab("2823-3", 3.0, "mmol/L"),
        lab("2160-0", 1.0, "mg/dL"),
        lab("29463-7", 70, "kg"),
        lab("8302-2", 165, "cm"),
        med_request(rxnorm="7646", display="omeprazole"),
    )


DONE_WHEN_FLAGS = ["--mg", "1.3 mg/dL", "--k", "3.0 mmol/L", "--creatinine", "1.0 mg/dL",
                   "--weight", "70 kg", "--height", "165 cm", "--age", "72", "--sex", "female",
                   "--med", "omeprazole"]
