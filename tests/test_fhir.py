"""FHIR R4 input (docs/fhir.md): the reader (``mgassist._fhir.read_fhir``) and ``assess
--fhir``. Bundles are built in tests/fhir_builder.py; three HL7 examples are in tests/data.

Each messy case of the issue has its own test: units only as text, SNOMED-coded units, a mass
LOINC code carrying a molar unit, a comparator, a UTF-8 BOM, an unreadable unit."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fhir_builder as fb
import pytest

from mgassist import RuleSet, evaluate, parse_patient
from mgassist._core.errors import FhirError, InputError, InputErrors
from mgassist._fhir import FhirInput, bundle_of, read_fhir

DATA = Path(__file__).parent / "data"
AS_OF = datetime.date(2026, 11, 29)


def read(rules: RuleSet, *resources: dict[str, Any], as_of: datetime.date = AS_OF
         ) -> FhirInput:
    return read_fhir(fb.bundle(*resources), rules, as_of=as_of)


def used(found: FhirInput, field: str) -> Any:
    rows = [s for s in found.sources.used if s.field == field]
    assert len(rows) <= 1 or field in ("meds", "conditions")
    return rows[0] if rows else None


def skipped(found: FhirInput, rid: str) -> Any:
    rows = [s for s in found.skipped if s.id == rid]
    assert len(rows) == 1, found.skipped
    return rows[0]


# --- done when: the Bundle gives what the equivalent flags give -------------------

def test_done_when_bundle_gives_the_same_assessment_as_the_flags(rules: RuleSet) -> None:
    found = read_fhir(fb.done_when_bundle(), rules, as_of=AS_OF)
    assert found.record == {"id": "pat-1", "age": 72, "sex": "female", "mg": "1.3 mg/dL",
                            "k": "3.0 mmol/L", "creatinine": "1.0 mg/dL", "weight": "70 kg",
                            "height": "165 cm", "meds": ["omeprazole"]}
    from_fhir = evaluate(parse_patient(found.record, rules), rules)
    flags = evaluate(parse_patient({"mg": "1.3 mg/dL", "k": "3.0 mmol/L", "creatinine":
                                    "1.0 mg/dL", "weight": "70 kg", "height": "165 cm",
                                    "age": 72, "sex": "female", "meds": ["omeprazole"]},
                                   rules), rules)
    assert from_fhir.status == flags.status
    assert [f.id for f in from_fhir.findings] == [f.id for f in flags.findings]
    assert from_fhir.regimen == flags.regimen
    assert from_fhir.derived == flags.derived
    # 1.3 mg/dL = 0.535 mmol/L is low; K 3.0 is low; the PPI is named; Cockcroft-Gault with
    # the adjusted weight (BMI 25.7): ideal 45.5 + 2.3 x 4.96 in = 56.9 kg, adjusted 56.9 +
    # 0.4 x 13.1 = 62.2 kg, (140 - 72) x 62.2 / (72 x 1.0) x 0.85 = 49.9 mL/min: 30-60
    assert {f.id for f in from_fhir.findings} == {
        "hypomagnesemia", "correct-mg-before-k", "review-ppi", "renal-dose-reduction",
        "risk-factors-present"}
    assert from_fhir.derived.crcl_ml_min == pytest.approx(49.9, abs=0.2)


def test_done_when_through_the_cli(cli: Callable[..., Any], tmp_path: Path,
                                   bundled_rules_loaded_once: None) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(fb.done_when_bundle()))
    result = cli("assess", "--fhir", str(path), "--as-of", "2026-11-29", "--json")
    assert result.exit_code == 0, result.stderr
    fhir = json.loads(result.stdout)
    flags_result = cli("assess", *fb.DONE_WHEN_FLAGS, "--json")
    flags = json.loads(flags_result.stdout)
    for key in ("status", "status_reason", "decided_by", "findings", "regimen", "monitoring",
                "derived"):
        assert fhir[key] == flags[key], key
    assert flags["sources"] is None
    sources = fhir["sources"]
    assert sources["as_of"] == "2026-11-29"
    by_field = {row["field"]: row for row in sources["used"]}
    assert set(by_field) == {"age", "sex", "mg", "k", "creatinine", "weight", "height", "meds"}
    mg = by_field["mg"]
    assert (mg["resource_type"], mg["system"], mg["code"], mg["date"], mg["value"]) == \
        ("Observation", "http://loinc.org", "19123-9", "2026-11-27", "1.3 mg/dL")
    assert by_field["meds"]["code"] == "7646"
    assert by_field["meds"]["used"] == "omeprazole"
    assert by_field["age"]["used"] == "72 years at 2026-11-29"
    assert sources["skipped"] == [] and sources["overridden"] == []
    assert sources["not_read"] == {}


def test_text_report_shows_the_sources_with_their_dates(cli: Callable[..., Any],
                                                       tmp_path: Path,
                                                       bundled_rules_loaded_once: None) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(fb.done_when_bundle()))
    result = cli("assess", "--fhir", str(path), "--as-of", "2026-11-29")
    assert result.exit_code == 0, result.stderr
    assert "From FHIR (as of 2026-11-29)" in result.stdout
    assert "serum magnesium 1.3 mg/dL [Observation/" in result.stdout
    assert "19123-9, 2026-11-27]" in result.stdout
    assert "age 72 years at 2026-11-29 [Patient/pat-1, 1954-05-10]" in result.stdout


# --- Patient ----------------------------------------------------------------------------

@pytest.mark.parametrize(("birth", "age"), [
    ("1954-11-29", 72),  # the birthday itself
    ("1954-11-30", 71),  # the day after as_of
    ("1954-05", 72),     # partial, but every day of May 1954 gives 72 on 2026-11-29
    ("1954", None),      # 71 or 72: not used
    ("2027-01-01", None),  # after as_of
])
def test_age_at_as_of(rules: RuleSet, birth: str, age: int | None) -> None:
    found = read(rules, fb.patient(birth=birth))
    assert found.record.get("age") == age
    if age is None:
        assert "birthDate" in skipped(found, fb.PATIENT_ID).why


def test_gender_other_is_not_a_sex(rules: RuleSet) -> None:
    found = read(rules, fb.patient(gender="unknown"))
    assert "sex" not in found.record
    assert "neither female nor male" in skipped(found, fb.PATIENT_ID).why


# --- Observations: choice ---------------------------------------------------------------

def test_the_most_recent_final_result_is_used_and_others_are_listed(rules: RuleSet) -> None:
    found = read(rules, fb.patient(),
                 fb.lab("19123-9", 1.9, "mg/dL", date="2026-11-01", id="old"),
                 fb.lab("19123-9", 1.3, "mg/dL", date="2026-11-20T08:00:00Z", id="new"),
                 fb.lab("2601-3", 0.4, "mmol/L", date="2026-11-25", status="preliminary",
                        id="prelim"),
                 fb.lab("19123-9", 1.0, "mg/dL", date="2026-11-26", status="entered-in-error",
                        id="error"),
                 fb.lab("19123-9", 1.1, "mg/dL", date="2026-12-01", id="future"),
                 fb.lab("19123-9", 1.2, "mg/dL", date=None, id="undated"))
    assert found.record["mg"] == "1.3 mg/dL"
    assert used(found, "mg").id == "new"
    assert "earlier mg result than the one used (2026-11-20T08:00:00Z)" in \
        skipped(found, "old").why
    assert "'preliminary' is not final" in skipped(found, "prelim").why
    assert "'entered-in-error'" in skipped(found, "error").why
    assert "after the assessment date 2026-11-29" in skipped(found, "future").why
    assert "has no date" in skipped(found, "undated").why


@pytest.mark.parametrize("status", ["amended", "corrected"])
def test_amended_and_corrected_results_are_used(rules: RuleSet, status: str) -> None:
    found = read(rules, fb.patient(), fb.lab("2823-3", 3.1, "mmol/L", status=status))
    assert found.record["k"] == "3.1 mmol/L"


def test_a_later_time_on_the_same_day_wins_across_time_zones(rules: RuleSet) -> None:
    found = read(rules, fb.patient(),
                 fb.lab("2823-3", 3.1, "mmol/L", date="2026-11-20T10:00:00+02:00", id="a"),
                 fb.lab("2823-3", 4.1, "mmol/L", date="2026-11-20T09:00:00Z", id="b"))
    assert used(found, "k").id == "b"  # 09:00 UTC is after 08:00 UTC


def test_result_of_another_patient_is_not_used(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.lab("2823-3", 3.1, "mmol/L", subject="other",
                                             id="theirs"))
    assert "k" not in found.record
    assert "another patient" in skipped(found, "theirs").why


def test_a_code_mgassist_does_not_read_is_counted_not_listed(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.lab("718-7", 176, "g/L", id="hb"),
                 fb.lab("8480-6", 120, "mm[Hg]"), {"resourceType": "Encounter", "id": "e"})
    assert found.skipped == []
    assert found.sources.not_read == {"Encounter": 1, "Observation": 2}
    assert found.record == {"id": "pat-1", "age": 72, "sex": "female"}


# --- Observations: units (the messy cases) ---------------------------------------------

@pytest.mark.parametrize(("resource", "field", "record"), [
    # units only in `unit` text, no system or code
    (fb.lab("2823-3", 4.2, "mmol/l", text_only=True), "k", "4.2 mmol/L"),
    # meq/L is the UCUM code; mEq/L as a code is common in real data and spells the same unit
    (fb.lab("2823-3", 3.2, "mEq/L", ucum="meq/L"), "k", "3.2 mEq/L"),
    (fb.lab("2823-3", 3.2, "mEq/L"), "k", "3.2 mEq/L"),
    # creatinine in umol/L
    (fb.lab("14682-9", 88, "umol/L"), "creatinine", "88 umol/L"),
    # eGFR in UCUM's spelling
    (fb.lab("62238-1", 45, "mL/min/1.73m2", ucum="mL/min/{1.73_m2}"), "egfr",
     "45 mL/min/1.73m2"),
    (fb.lab("98979-8", 45, None, ucum="mL/min/{1.73_m2}"), "egfr", "45 mL/min/1.73m2"),
    # measured and Cockcroft-Gault creatinine clearance
    (fb.lab("2164-2", 55, "mL/min"), "crcl", "55 mL/min"),
    (fb.lab("35591-7", 55, "mL/min"), "crcl", "55 mL/min"),
    # weight and height in US units, coded in UCUM with unit text as people write it
    (fb.lab("29463-7", 185, "lbs", ucum="[lb_av]"), "weight", "185 lb"),
    (fb.lab("3141-9", 80, "kg"), "weight", "80 kg"),
    (fb.lab("8302-2", 65, "in", ucum="[in_i]"), "height", "65 in"),
    # calcium and albumin
    (fb.lab("17861-6", 8.2, "mg/dL"), "ca", "8.2 mg/dL"),
    (fb.lab("2000-8", 2.38, "mmol/L"), "ca", "2.38 mmol/L"),
    (fb.lab("1751-7", 42, "g/L"), "albumin", "42 g/L"),
    (fb.lab("61151-7", 3.5, "g/dL"), "albumin", "3.5 g/dL"),
    (fb.lab("6298-4", 3.9, "mmol/L"), "k", "3.9 mmol/L"),
    (fb.lab("38483-4", 1.1, "mg/dL"), "creatinine", "1.1 mg/dL"),
])
def test_units_as_real_bundles_write_them(rules: RuleSet, resource: dict[str, Any],
                                          field: str, record: str) -> None:
    found = read(rules, fb.patient(), resource)
    assert found.record.get(field) == record, found.skipped
    parse_patient(found.record, rules)  # and the record is valid


def test_snomed_coded_unit_mm_is_mmol_per_litre(rules: RuleSet) -> None:
    resource = fb.lab("2601-3", 0.55, "mM", system="http://snomed.info/sct", ucum="258813002")
    found = read(rules, fb.patient(), resource)
    assert found.record["mg"] == "0.55 mmol/L"
    assert used(found, "mg").value == "0.55 mM (code 258813002, SNOMED CT)"


def test_mass_code_with_a_molar_unit_is_read_by_its_unit_and_noted(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.lab("19123-9", 0.55, "mmol/L"))
    assert found.record["mg"] == "0.55 mmol/L"  # not 0.55 mg/dL
    note = used(found, "mg").note
    assert "LOINC 19123-9 is reported in mg/dL" in note and "in mmol/L" in note
    patient = parse_patient(found.record, rules)
    assert patient.mg is not None and patient.mg.canonical == pytest.approx(0.55)


def test_matching_unit_has_no_mismatch_note(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.lab("2601-3", 0.55, "mmol/L"))
    assert used(found, "mg").note is None


def test_egfr_bound_is_a_bound_not_a_value(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.lab("33914-3", 60, "mL/min/1.73m2",
                                             ucum="mL/min/{1.73_m2}", comparator=">"))
    assert found.record["egfr"] == ">60 mL/min/1.73m2"
    assert "a bound (>60), not a measured value" in used(found, "egfr").note
    patient = parse_patient(found.record, rules)
    assert patient.egfr is not None and patient.egfr.bound == ">"


def test_egfr_bound_decides_only_where_its_range_agrees(rules: RuleSet) -> None:
    """>60 mL/min/1.73m2 lies above every renal band: the decision does not depend on where
    above 60 it lies (the same status as a measured 61 or 120)."""
    status = {}
    for given in (">60", "61", "120"):
        value, comparator = (given[1:], ">") if given.startswith(">") else (given, None)
        found = read(rules, fb.patient(), fb.lab("2601-3", 0.55, "mmol/L"),
                     fb.lab("33914-3", int(value), "mL/min/1.73m2",
                            ucum="mL/min/{1.73_m2}", comparator=comparator))
        status[given] = evaluate(parse_patient(found.record, rules), rules).status
    assert status[">60"] == status["61"] == status["120"]


def test_a_bound_on_magnesium_is_not_used(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.lab("2601-3", 0.3, "mmol/L", comparator="<",
                                             id="lt"))
    assert "mg" not in found.record
    assert "is a bound (<), not a measured value" in skipped(found, "lt").why


@pytest.mark.parametrize(("resource", "why"), [
    (fb.lab("19123-9", 1.3, None, id="x"), "has no unit"),
    (fb.lab("19123-9", 1.3, "mg", id="x"),
     "coded unit 'mg' (http://unitsofmeasure.org) is not a unit of serum magnesium"),
    (fb.lab("19123-9", 1.3, "mg", text_only=True, id="x"), "'mg' is not a unit"),
    (fb.lab("19123-9", 1.3, "mg/dL", ucum="mmol/L", id="x"), "disagree"),
    (fb.lab("2601-3", 0.5, "mM", system="http://snomed.info/sct", ucum="999999", id="x"),
     "'mM' is not a unit"),
    # eGFR without the body surface: never read as mL/min/1.73m2
    (fb.lab("33914-3", 45, "mL/min", id="x"),
     "coded unit 'mL/min' (http://unitsofmeasure.org) is not a unit of eGFR"),
    (fb.lab("2823-3", "3.1", "mmol/L", id="x"), "not a number"),
    (fb.lab("2823-3", 31, "mmol/L", id="x"), "outside the plausible range"),
    # creatinine in mmol/L (as HL7's lab-report example gives it) is not a unit the rules
    # accept for creatinine (quantities.yaml): reported, not converted behind their back
    (fb.lab("14682-9", 0.09, "mmol/L", id="x"),
     "coded unit 'mmol/L' (http://unitsofmeasure.org) is not a unit of serum creatinine"),
])
def test_a_unit_or_value_that_cannot_be_read_is_reported_not_used(
        rules: RuleSet, resource: dict[str, Any], why: str) -> None:
    found = read(rules, fb.patient(), resource)
    assert set(found.record) == {"id", "age", "sex"}
    assert why in skipped(found, "x").why


def test_value_string_and_components_are_not_read(rules: RuleSet) -> None:
    text = fb.lab("2823-3", 3.1, "mmol/L", id="s")
    del text["valueQuantity"]
    text["valueString"] = "3.1 mmol/L"
    egfr = json.loads((DATA / "r4-example-Observation-f205-egfr.json").read_text())
    egfr["subject"] = {"reference": "Patient/pat-1"}
    found = read(rules, fb.patient(), text, egfr)
    assert "has valueString, not a valueQuantity" in skipped(found, "s").why
    assert "components" in skipped(found, "f205").why


def test_reference_range_is_shown_beside_the_value(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.lab("19123-9", 1.3, "mg/dL",
                                             reference=(1.7, 2.3, "mg/dL")))
    assert used(found, "mg").reference_range == "1.7-2.3 mg/dL"


# --- HL7's examples ---------------------------------------------------------------------

def test_hl7_lab_report_bundle(rules: RuleSet) -> None:
    """Units as text only, and results dated only by the panel that lists them."""
    document = json.loads((DATA / "r4-example-Bundle-ghp-lab-report.json").read_bytes())
    document["entry"].append({"fullUrl": "https://example.com/base/Patient/pat2", "resource":
                              fb.patient(id="pat2", birth="1950-03-01")})
    found = read_fhir(document, rules, as_of=datetime.date(2015, 8, 20))
    assert found.record == {"id": "pat2", "age": 65, "sex": "female", "k": "4.2 mmol/L",
                            "ca": "2.38 mmol/L", "albumin": "42 g/L"}
    k = used(found, "k")
    assert (k.id, k.code, k.date) == ("o2", "2823-3", "2015-08-16T06:40:17Z")
    assert k.note == "the date of Observation/p1, which lists it"
    assert k.reference_range == "3.5-5.0 mmol/L"
    creatinine = skipped(found, "o8")  # 0.09 mmol/L: mmol/L is not accepted for creatinine
    assert (creatinine.code, creatinine.value) == ("14682-9", "0.09 mmol/L")
    assert "the unit 'mmol/L' is not a unit of serum creatinine" in creatinine.why
    assert [s.id for s in found.skipped] == ["o8"]  # creatinine in mmol/L, above
    # 51 Observations (3 panels, 17 blood count, 22 chemistry, 9 urine results): 3 used, one
    # skipped, 47 not inputs
    assert found.sources.not_read == {"DiagnosticReport": 1, "Observation": 47, "Specimen": 3}
    assert not any(s.why.startswith("has no date") for s in found.skipped)


def test_hl7_body_weight_in_pounds(rules: RuleSet) -> None:
    weight = json.loads((DATA / "r4-example-Observation-example-bodyweight.json").read_text())
    found = read_fhir(bundle_of([fb.patient(id="example"), weight]), rules, as_of=AS_OF)
    assert found.record["weight"] == "185 lb"
    assert used(found, "weight").value == "185 lbs (code [lb_av], UCUM)"


# --- Medications ------------------------------------------------------------------------

def test_medications_by_rxnorm_and_by_name(rules: RuleSet) -> None:
    found = read(rules, fb.patient(),
                 fb.med_request(rxnorm="7646", display="omeprazole", id="ppi"),
                 fb.med_request(rxnorm="310429", display="furosemide 40 MG Oral Tablet",
                                id="loop"),
                 fb.med_request(text="Zestril 10 mg", id="unknown"),
                 fb.med_request(rxnorm="4603", kind="MedicationStatement", id="stmt"),
                 fb.med_request(rxnorm="5487", status="stopped", id="stopped"),
                 fb.med_request(rxnorm="5487", intent="proposal", id="proposal"),
                 {**fb.med_request(rxnorm="5487", id="not"), "doNotPerform": True})
    assert found.record["meds"] == ["omeprazole", "furosemide 40 MG Oral Tablet",
                                    "Zestril 10 mg", "furosemide"]
    patient = parse_patient(found.record, rules)
    assert {m.value for m in patient.meds} == {"ppi", "loop-diuretic"}
    assert patient.meds_not_recognised == ("Zestril 10 mg",)
    rows = {s.id: s for s in found.sources.used if s.field == "meds"}
    assert rows["loop"].note == "RxNorm 310429 is not in mgassist's table: read by its name"
    assert rows["unknown"].note == "not recognised: check it by hand"
    assert "'stopped' is not active" in skipped(found, "stopped").why
    assert "'proposal' is not order or plan" in skipped(found, "proposal").why
    assert "doNotPerform" in skipped(found, "not").why


def test_medication_reference_to_a_medication_resource(rules: RuleSet) -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": {"coding": [
        {"system": fb.RXNORM, "code": "283742", "display": "esomeprazole"}]}}
    request = fb.med_request(rxnorm="1", id="r")
    del request["medicationCodeableConcept"]
    request["medicationReference"] = {"reference": "Medication/m1"}
    found = read(rules, fb.patient(), medication, request)
    assert found.record["meds"] == ["esomeprazole"]


def test_a_misspelt_medication_is_skipped_with_why(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.med_request(text="Nexum 20 mg", id="typo"))
    assert "meds" not in found.record
    assert "did you mean 'nexium'?" in skipped(found, "typo").why


# --- Conditions -------------------------------------------------------------------------

def test_conditions_by_snomed_and_by_text(rules: RuleSet) -> None:
    found = read(rules, fb.patient(),
                 fb.condition(snomed="44054006", id="t2dm"),
                 fb.condition(text="Crohn's disease", id="crohn"),
                 fb.condition(snomed="38341003", text="Hypertension", id="htn"),
                 fb.condition(snomed="7200002", clinical="resolved", id="resolved"),
                 fb.condition(snomed="236071009", verification="refuted", id="refuted"),
                 fb.condition(snomed="236071009", clinical=None, id="nostatus"))
    assert found.record["conditions"] == ["diabetes", "inflammatory-bowel-disease"]
    assert "not a condition mgassist uses" in skipped(found, "htn").why
    assert "'resolved' is not active" in skipped(found, "resolved").why
    assert "refuted" in skipped(found, "refuted").why
    assert "None is not active" in skipped(found, "nostatus").why


# --- Documents --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["collection", "searchset", "transaction", "batch-response"])
def test_any_bundle_type(rules: RuleSet, kind: str) -> None:
    document = fb.bundle(fb.patient(), fb.lab("2823-3", 3.1, "mmol/L"), kind=kind)
    assert read_fhir(document, rules, as_of=AS_OF).record["k"] == "3.1 mmol/L"


def test_a_batch_response_of_searchsets_is_opened(rules: RuleSet) -> None:
    inner = fb.bundle(fb.lab("2823-3", 3.1, "mmol/L"), kind="searchset")
    document = {"resourceType": "Bundle", "type": "batch-response", "entry": [
        {"resource": fb.bundle(fb.patient(), kind="searchset")}, {"resource": inner},
        {"response": {"status": "404"}}]}
    assert read_fhir(document, rules, as_of=AS_OF).record["k"] == "3.1 mmol/L"


def test_a_single_patient_resource(rules: RuleSet) -> None:
    assert read_fhir(fb.patient(), rules, as_of=AS_OF).record == \
        {"id": "pat-1", "age": 72, "sex": "female"}


def test_bundle_of_loose_resources(rules: RuleSet) -> None:
    built = bundle_of([fb.patient(), {"resourceType": "Observation"}])
    assert built["type"] == "collection"
    assert [e.get("fullUrl") for e in built["entry"]] == ["Patient/pat-1", None]


@pytest.mark.parametrize(("document", "message"), [
    ([1, 2], "fhir: '[1, 2]' is a JSON list, not a FHIR resource"),
    ({"name": "x"}, "fhir: '{name}' is a JSON object without a resourceType"),
    (fb.bundle(fb.lab("2823-3", 3.1, "mmol/L")), "fhir: 'Observation' holds no Patient"),
    ({"resourceType": "Bundle", "type": "collection"}, "'an empty Bundle' holds no Patient"),
    (fb.bundle(fb.patient(), fb.patient(id="two")), "holds 2 Patient resources"),
    ({"resourceType": "Bundle", "entry": {"a": 1}}, "Bundle.entry is not a list"),
])
def test_not_a_usable_document_is_a_clear_error(rules: RuleSet, document: Any,
                                                message: str) -> None:
    with pytest.raises(FhirError) as caught:
        read_fhir(document, rules, as_of=AS_OF)
    assert isinstance(caught.value, InputError)
    assert message in str(caught.value)


# --- CLI --------------------------------------------------------------------------------

def test_bom_and_stdin(tmp_path: Path) -> None:
    from conftest import run_console

    data = b"\xef\xbb\xbf" + json.dumps(fb.done_when_bundle()).encode()
    path = tmp_path / "bom.json"
    path.write_bytes(data)
    code, out, err = run_console(["assess", "--fhir", str(path), "--as-of", "2026-11-29",
                                  "--json"])
    assert code == 0, err
    assert json.loads(out)["sources"]["used"][2]["value"] == "1.3 mg/dL"
    code, out, err = run_console(["assess", "--fhir", "-", "--as-of", "2026-11-29", "--json"],
                                 stdin=data)
    assert code == 0, err
    assert json.loads(out)["status"] == "supplement-with-caution"  # CrCl 49.9 mL/min


def test_flags_override_the_bundle_and_the_output_says_so(cli: Callable[..., Any],
                                                          tmp_path: Path,
                                                          bundled_rules_loaded_once: None
                                                          ) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(fb.done_when_bundle()))
    result = cli("assess", "--fhir", str(path), "--as-of", "2026-11-29", "--mg", "0.8 mmol/L",
                 "--json")
    data = json.loads(result.stdout)
    assert data["inputs"]["mg"] == "0.8 mmol/L"
    assert data["derived"]["mg_mmol_l"] == 0.8
    assert data["sources"]["overridden"] == [
        {"field": "mg", "fhir": "1.3 mg/dL (Observation/obs-" +
         data["sources"]["overridden"][0]["fhir"].split("obs-")[1], "given": "0.8 mmol/L"}]
    assert "mg" not in {row["field"] for row in data["sources"]["used"]}
    text = cli("assess", "--fhir", str(path), "--as-of", "2026-11-29", "--mg", "0.8 mmol/L")
    assert "serum magnesium 0.8 mmol/L: given beside the document, replacing 1.3 mg/dL" in \
        text.stdout


@pytest.mark.parametrize(("content", "message"), [
    (b"", "error: --fhir: '{path}' is empty"),
    (b"{not json", "error: --fhir: '{path}' is not JSON (unexpected character"),
    (b'{"resourceType": "Bundle", "type": "collection", "entry": []}',
     "error: --fhir: 'an empty Bundle' holds no Patient resource; accepted: a Bundle with one "
     "Patient"),
    (b'["a"]', "error: --fhir: \"['a']\" is a JSON list, not a FHIR resource"),
])
def test_cli_refuses_a_document_it_cannot_read(cli: Callable[..., Any], tmp_path: Path,
                                               bundled_rules_loaded_once: None,
                                               content: bytes, message: str) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(content)
    result = cli("assess", "--fhir", str(path), "--json")
    assert result.exit_code == 2
    assert message.format(path=path) in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["error"]["field"] == "fhir"


def test_cli_missing_file_and_bad_as_of(cli: Callable[..., Any], tmp_path: Path,
                                        bundled_rules_loaded_once: None) -> None:
    result = cli("assess", "--fhir", str(tmp_path / "none.json"))
    assert result.exit_code == 2
    assert "cannot be read (No such file or directory)" in result.stderr
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(fb.done_when_bundle()))
    result = cli("assess", "--fhir", str(path), "--as-of", "29/11/2026")
    assert result.exit_code == 2
    assert "error: --as-of: '29/11/2026' is not a date; accepted: YYYY-MM-DD" in result.stderr
    result = cli("assess", "--mg", "0.6 mmol/L", "--as-of", "2026-11-29")
    assert result.exit_code == 2
    assert "--as-of: '2026-11-29' applies to --fhir only" in result.stderr


# --- batch --fhir -----------------------------------------------------------------------

def test_batch_fhir_ndjson(cli: Callable[..., Any], tmp_path: Path,
                           bundled_rules_loaded_once: None) -> None:
    other = fb.bundle(fb.patient(id="q", birth="1990-01-01", gender="male"),
                      fb.lab("2601-3", 0.5, "mmol/L", subject="q"))
    lines = [json.dumps(fb.done_when_bundle()), "", "{bad",
             json.dumps(fb.bundle(fb.lab("2823-3", 3.0, "mmol/L"))), json.dumps(other)]
    path = tmp_path / "bundles.ndjson"
    path.write_text("\n".join(lines) + "\n")
    result = cli("batch", "--fhir", str(path), "--as-of", "2026-11-29")
    assert result.exit_code == 1  # some documents had errors
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["line"] for row in out] == [1, 3, 4, 5]
    assert (out[0]["id"], out[0]["status"]) == ("pat-1", "supplement-with-caution")
    assert out[0]["sources"]["as_of"] == "2026-11-29"
    assert out[1]["error"]["field"] == "fhir" and "is not JSON" in out[1]["error"]["message"]
    assert "holds no Patient" in out[2]["error"]["message"]
    assert (out[3]["id"], out[3]["status"]) == ("q", "insufficient-data")  # no renal value
    assert "batch: 4 records: 2 assessed, 2 with errors" in result.stderr


def test_batch_fhir_folder(cli: Callable[..., Any], tmp_path: Path,
                           bundled_rules_loaded_once: None) -> None:
    (tmp_path / "b.json").write_text(json.dumps(fb.done_when_bundle()))
    (tmp_path / "a.json").write_bytes(b"\xef\xbb\xbf[]")
    (tmp_path / "notes.txt").write_text("not read")
    result = cli("batch", "--fhir", str(tmp_path), "--as-of", "2026-11-29")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["line"], row["file"]) for row in out] == [(1, "a.json"), (2, "b.json")]
    assert "is a JSON list" in out[0]["error"]["message"]
    assert out[1]["status"] == "supplement-with-caution"


def test_batch_as_of_needs_fhir(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("batch", str(tmp_path), "--as-of", "2026-11-29")
    assert result.exit_code == 2
    assert "error: --as-of: '2026-11-29' applies to batch --fhir only" in result.stderr


# --- freshness and the lab's range (findings lab-result-old, lab-range-differs) -------------

def assessed(rules: RuleSet, *resources: dict[str, Any]) -> Any:
    found = read(rules, fb.patient(), fb.lab("2164-2", 80, "mL/min"), *resources)
    return evaluate(found.patient(rules), rules)


def test_an_old_result_is_used_with_a_finding_naming_its_date(rules: RuleSet) -> None:
    # magnesium: 7 days in rules/fhir.yaml; 2026-11-22 is 7 days before 2026-11-29 (fresh),
    # 2026-11-21 is 8 (old)
    fresh = assessed(rules, fb.lab("2601-3", 0.6, "mmol/L", date="2026-11-22"))
    assert "lab-result-old" not in {f.id for f in fresh.findings}
    old = assessed(rules, fb.lab("2601-3", 0.6, "mmol/L", date="2026-11-21"))
    finding = next(f for f in old.findings if f.id == "lab-result-old")
    assert "serum magnesium 0.6 mmol/L of 2026-11-21 (8 days before 2026-11-29; window 7 " \
        "days)" in finding.message
    assert old.status == fresh.status == "supplement"  # still used: the decision stands


def test_creatinine_window_is_30_days(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.lab("2160-0", 1.0, "mg/dL", date="2026-10-30"))
    assert used(found, "creatinine").old is False  # 30 days
    found = read(rules, fb.patient(), fb.lab("2160-0", 1.0, "mg/dL", date="2026-10-29"))
    source = used(found, "creatinine")
    assert (source.old, source.age_days, source.fresh_days) == (True, 31, 30)


def test_height_has_no_window(rules: RuleSet) -> None:
    found = read(rules, fb.patient(), fb.lab("8302-2", 165, "cm", date="2001-01-01"))
    assert used(found, "height").old is False


@pytest.mark.parametrize(("value", "low", "high", "says", "differs"), [
    (0.72, 0.75, 1.00, "low", True),     # the lab says low, the rules (0.70) normal
    (0.60, 0.75, 1.00, "low", False),    # both low
    (0.68, 0.65, 1.05, "normal", True),  # the lab says normal, the rules low
    (0.85, 0.70, 1.05, "normal", False),
    (0.75, 0.75, 1.00, "normal", False),  # at the lab's limit: within it
    (1.02, 0.70, 1.00, "high", True),    # the lab says high, the rules (1.05) normal
    (1.20, 0.70, 1.00, "high", False),
])
def test_lab_range_beside_the_value_and_when_it_differs(rules: RuleSet, value: float,
                                                       low: float, high: float, says: str,
                                                       differs: bool) -> None:
    lab = fb.lab("2601-3", value, "mmol/L", reference=(low, high, "mmol/L"))
    found = read(rules, fb.patient(), fb.lab("2164-2", 80, "mL/min"), lab)
    assert used(found, "mg").range_says == says
    result = evaluate(found.patient(rules), rules)
    fired = [f for f in result.findings if f.id == "lab-range-differs"]
    assert bool(fired) is differs
    if differs:
        assert f"reference range for magnesium ({low!r}-{high!r} mmol/L) and the limits " \
            f"of the rules (0.70 mmol/L to 1.05 mmol/L) disagree about magnesium {value!r} " \
            "mmol/L" in fired[0].message
        assert "the decision uses the limits of the rules" in fired[0].message


def test_lab_range_in_another_unit_is_compared_by_value(rules: RuleSet) -> None:
    # 1.75 mg/dL = 0.72 mmol/L; the lab's 1.8-2.4 mg/dL calls it low, the rules normal
    lab = fb.lab("19123-9", 1.75, "mg/dL", reference=(0.75, 1.0, "mmol/L"))
    found = read(rules, fb.patient(), lab)
    assert used(found, "mg").range_says == "low"
    no_unit = fb.lab("19123-9", 1.75, "mg/dL", reference=(1.8, 2.4, "mg"))
    assert used(read(rules, fb.patient(), no_unit), "mg").range_says is None


def test_a_flag_beside_the_document_drops_its_findings(rules: RuleSet) -> None:
    lab = fb.lab("2601-3", 0.72, "mmol/L", date="2026-10-01", reference=(0.75, 1.0, "mmol/L"))
    found = read(rules, fb.patient(), fb.lab("2164-2", 80, "mL/min"), lab)
    assert set(found.patient(rules).lab_flags) == {"lab-result-old", "mg-lab-low"}
    replaced = found.overridden_by({"mg": "0.72 mmol/L"})
    assert replaced.patient(rules).lab_flags == ()


# --- any JSON in any element: a skipped resource or a FhirError, never a crash ---------------

def _mutations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a node of a JSON value."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _mutations(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _mutations(item, (*path, i))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


ODD_VALUES = [None, 0, -1, 1e308, True, "", "x", [], {}, [1, "a"], {"a": 1}, "2026-13-45",
              "\u0000", [None], {"coding": 5}, {"reference": 7}]


def test_odd_json_anywhere_is_skipped_or_refused_never_a_crash(rules: RuleSet) -> None:
    bundle = fb.bundle(
        fb.patient(), fb.lab("19123-9", 1.3, "mg/dL", reference=(1.7, 2.3, "mg/dL")),
        fb.lab("33914-3", 60, "mL/min/1.73m2", ucum="mL/min/{1.73_m2}", comparator=">"),
        fb.med_request(rxnorm="7646", display="omeprazole"),
        fb.condition(snomed="44054006", text="Diabetes"),
        {"resourceType": "DiagnosticReport", "id": "r", "result": [{"reference": "x"}]})
    count = 0
    for path in _mutations(bundle):
        for odd in ODD_VALUES:
            document = _replaced(bundle, path, odd)
            try:
                found = read_fhir(document, rules, as_of=AS_OF)
            except FhirError:
                continue
            try:
                found.patient(rules)
            except InputErrors:  # pragma: no cover - the reader checks every value it puts
                raise AssertionError(path) from None
            count += 1
    assert count > 1000


def test_texts_from_the_document_are_printable_and_short(rules: RuleSet) -> None:
    escape = "\x1b[31mred\x1b[0m"
    found = read(rules, fb.patient(), fb.med_request(text=f"Zestril {escape}", id="m"),
                 fb.condition(text="x" * 500, id="c"))
    row = skipped(found, "m")  # a control character: refused as a medicine name
    assert "\x1b" not in row.value and "?[31mred" in row.value
    assert "\x1b" not in row.why
    long = skipped(found, "c")
    assert len(long.value) == 200 and long.value.endswith("...")
