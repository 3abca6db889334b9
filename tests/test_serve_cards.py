"""The cards over real HTTP, checked against the same patient's ``mgassist assess --json``:
each hook with a full prefetch, a draft magnesium order for a contraindicated or urgent
patient, and, for every vignette of the bundled rules, summaries under 140 characters and no
null or empty value anywhere (CDS Hooks 2.0, "Use of JSON", "Card Attributes")."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_support import Server, empties

from mgassist._authoring.vignettes import load_vignettes, vignette_files
from mgassist._core.engine import evaluate_patient
from mgassist._core.patient import parse_patient
from mgassist._core.ruleset import RuleSet
from mgassist._serve.cards import assessment_cards, compact, magnesium_orders, order_cards

REPO = Path(__file__).resolve().parent.parent
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
HOOKS = {"patient-view": "mgassist-patient-view", "order-select": "mgassist-order-select",
         "order-sign": "mgassist-order-sign"}
# The indicator the issue asks for, by status (written here, not read from the code).
EXPECTED_INDICATOR = {"supplement": "info", "supplement-with-caution": "warning",
                      "contraindicated": "critical", "urgent": "critical",
                      "insufficient-data": "warning", "do-not-supplement": "info"}
# Drawn two days ago: recent, whatever day the tests run (an old result adds a finding that
# the command line, which has no dates, cannot give).
DRAWN = (datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=2)).isoformat()


@pytest.fixture(scope="module")
def server(rules: RuleSet) -> Iterator[Server]:
    with Server(rules) as running:
        yield running


def born_years_ago(years: int) -> str:
    today = datetime.datetime.now(datetime.UTC).date()
    return (today.replace(year=today.year - years, day=1) - datetime.timedelta(days=31)
            ).isoformat()


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources]}


def observation(oid: str, code: str, value: float, unit: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": DRAWN,
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}


def prefetch(*, mg: float, creatinine: float) -> dict[str, Any]:
    """A 70-year-old woman, 70 kg, 165 cm, on furosemide, with diabetes; potassium 3.2
    mmol/L; magnesium and creatinine as given."""
    return {
        "patient": {"resourceType": "Patient", "id": "p1", "gender": "female",
                    "birthDate": born_years_ago(70)},
        "mg": searchset(observation("mg1", "2601-3", mg, "mmol/L")),
        "k": searchset(observation("k1", "2823-3", 3.2, "mmol/L")),
        "ca": None,
        "creatinine": searchset(observation("cr1", "2160-0", creatinine, "mg/dL")),
        "crcl": searchset(),
        "egfr": None,
        "albumin": None,
        "weight": searchset(observation("w1", "29463-7", 70, "kg")),
        "height": searchset(observation("h1", "8302-2", 165, "cm")),
        "medications": searchset({
            "resourceType": "MedicationRequest", "id": "m1", "status": "active",
            "intent": "order", "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"coding": [{
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "4603",
                "display": "furosemide"}]}}),
        "conditions": searchset({
            "resourceType": "Condition", "id": "c1",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "73211009",
                                 "display": "Diabetes mellitus"}]},
            "subject": {"reference": "Patient/p1"}}),
    }


def same_patient_flags(*, mg: float, creatinine: float) -> list[str]:
    return ["--mg", f"{mg} mmol/L", "--k", "3.2 mmol/L", "--creatinine", f"{creatinine} mg/dL",
            "--age", "70", "--sex", "female", "--weight", "70 kg", "--height", "165 cm",
            "--med", "furosemide", "--condition", "diabetes"]


def order(oid: str, name: str) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": oid, "status": "draft",
            "intent": "order", "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"text": name}}


def hook_call(server: Server, hook: str, data: dict[str, Any],
              orders: list[dict[str, Any]] | None = None, selections: list[str] | None = None
              ) -> dict[str, Any]:
    orders = orders or []
    context: dict[str, Any] = {"userId": "Practitioner/abc", "patientId": "p1"}
    if hook != "patient-view":
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"resource": o} for o in orders]}
    if hook == "order-select":
        context["selections"] = selections if selections is not None else [
            f"MedicationRequest/{o['id']}" for o in orders]
    response = httpx.post(f"{server.url}/cds-services/{HOOKS[hook]}", json={
        "hook": hook, "hookInstance": str(uuid.uuid4()), "context": context,
        "prefetch": data})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert list(empties(body)) == []
    for card in body["cards"]:
        assert len(card["summary"]) < 140
    return body


def urls(assessed: dict[str, Any]) -> dict[str, str]:
    """Reference id -> where to read it, as the JSON gives it (DOI link, else URL)."""
    return {rid: f"https://doi.org/{ref['doi']}" if ref["doi"] else ref["url"]
            for rid, ref in assessed["references"].items() if ref["doi"] or ref["url"]}


@pytest.mark.parametrize("hook", sorted(HOOKS))
@pytest.mark.parametrize(("mg", "creatinine", "status"), [
    (0.6, 0.7, "supplement"), (0.6, 1.0, "supplement-with-caution"),
    (0.6, 4.0, "contraindicated"), (0.9, 0.7, "do-not-supplement"), (0.4, 0.7, "urgent")])
def test_the_cards_say_what_assess_json_says_for_the_same_patient(
        server: Server, cli_json: Callable[..., dict[str, Any]], hook: str, mg: float,
        creatinine: float, status: str) -> None:
    assessed = cli_json(*same_patient_flags(mg=mg, creatinine=creatinine))
    assert assessed["status"] == status
    cards = hook_call(server, hook, prefetch(mg=mg, creatinine=creatinine))["cards"]
    decision, *finding_cards = cards
    assert decision["indicator"] == EXPECTED_INDICATOR[status]
    assert decision["source"] == {"label": f"mgassist rules {assessed['rules']['version']}",
                                  "url": f"{server.url}/about"}
    assert assessed["status_reason"] in decision["detail"]
    # the values used, with their dates
    assert f"{mg} mmol/L on {DRAWN} (Observation/mg1, LOINC 2601-3)" in decision["detail"]
    assert f"{creatinine} mg/dL on {DRAWN} (Observation/cr1, LOINC 2160-0)" in \
        decision["detail"]
    # one card per critical or warning finding, in order, with its severity; info folded in
    shown = [f for f in assessed["findings"] if f["severity"] != "info"]
    assert [c["indicator"] for c in finding_cards] == [f["severity"] for f in shown]
    for card, finding in zip(finding_cards, shown, strict=True):
        assert card["summary"].startswith(finding["title"])
        assert finding["message"] in card["detail"]
        assert {link["url"] for link in card.get("links", [])} == \
            {urls(assessed)[rid] for rid in finding["citations"] if rid in urls(assessed)}
    for finding in assessed["findings"]:
        if finding["severity"] == "info":  # folded in: the title, then the message
            assert f"**{finding['title']}**: " in decision["detail"]
            assert finding["message"][-40:] in decision["detail"]
    for card in cards:
        assert uuid.UUID(card["uuid"])
        assert all(link["type"] == "absolute" for link in card.get("links", []))
        assert {r["code"] for r in card["overrideReasons"]} >= {"clinical-judgement"}
        assert all(r["display"] for r in card["overrideReasons"])
    regimen = assessed["regimen"]
    if status == "supplement":
        assert decision["selectionBehavior"] == "at-most-one"
        [suggestion] = decision["suggestions"]
        [action] = suggestion["actions"]
        assert action["type"] == "create"
        request = action["resource"]
        assert request["resourceType"] == "MedicationRequest"
        assert request["subject"] == {"reference": "Patient/p1"}
        assert request["medicationCodeableConcept"] == {"text": regimen["product"]}
        [dosage] = request["dosageInstruction"]
        assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == \
            regimen["product_mg_per_day"]
        assert dosage["maxDosePerPeriod"]["numerator"]["value"] == \
            regimen["max_product_mg_per_day"]
        assert {link["url"] for link in decision["links"]} >= \
            {urls(assessed)[rid] for rid in regimen["citations"] if rid in urls(assessed)}
    else:
        assert "suggestions" not in decision and "selectionBehavior" not in decision


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize(("mg", "creatinine", "word"), [(0.6, 4.0, "contraindicated"),
                                                         (0.4, 0.7, "urgent")])
def test_a_draft_magnesium_order_for_a_contraindicated_or_urgent_patient_is_critical(
        server: Server, hook: str, mg: float, creatinine: float, word: str) -> None:
    orders = [order("rx-1", "Amoxicillin 500 mg capsule"),
              order("rx-2", "Magnesium oxide 400 mg tablet"),
              order("rx-3", "Esomeprazole magnesium 20 mg capsule")]  # a PPI, not magnesium
    cards = hook_call(server, hook, prefetch(mg=mg, creatinine=creatinine), orders)["cards"]
    alerts = [c for c in cards if c["summary"].startswith("Magnesium ordered")]
    assert len(alerts) == 1
    [alert] = alerts
    assert alert["indicator"] == "critical"
    assert "Magnesium oxide 400 mg tablet" in alert["summary"]
    assert word in alert["summary"]
    assert alert["selectionBehavior"] == "at-most-one"
    [action] = alert["suggestions"][0]["actions"]
    assert action == {"type": "delete", "description": action["description"],
                      "resourceId": "MedicationRequest/rx-2"}


def test_no_order_card_when_magnesium_is_not_contraindicated_or_not_selected(
        server: Server) -> None:
    orders = [order("rx-2", "Magnesium oxide 400 mg tablet")]
    supplement = hook_call(server, "order-sign", prefetch(mg=0.6, creatinine=0.7), orders)
    assert not [c for c in supplement["cards"] if c["summary"].startswith("Magnesium ordered")]
    # order-select looks at the newly selected orders only
    other = hook_call(server, "order-select", prefetch(mg=0.6, creatinine=4.0), orders,
                      selections=["MedicationRequest/rx-9"])
    assert not [c for c in other["cards"] if c["summary"].startswith("Magnesium ordered")]


def test_magnesium_orders_are_read_from_text_codings_and_contained_medications(
        rules: RuleSet) -> None:
    bundle = {"resourceType": "Bundle", "entry": [
        {"resource": order("a", "Mag-Tab SR")},  # not a name the vocabulary knows
        {"resource": {"resourceType": "MedicationRequest", "id": "b", "medicationCodeableConcept":
                      {"coding": [{"display": "Magnesium glycerophosphate 4 mmol tablet"}]}}},
        {"resource": {"resourceType": "MedicationRequest", "id": "c",
                      "medicationReference": {"reference": "#med"},
                      "contained": [{"resourceType": "Medication", "id": "med",
                                     "code": {"text": "Milk of Magnesia suspension"}}]}},
        {"resource": {"resourceType": "MedicationRequest", "id": "d",
                      "medicationReference": {"reference": "Medication/x",
                                              "display": "Epsom salts"}}},
        {"resource": {"resourceType": "ServiceRequest", "id": "e",
                      "code": {"text": "magnesium level"}}},
    ]}
    assert magnesium_orders(bundle, rules) == [
        ("b", "Magnesium glycerophosphate 4 mmol tablet"), ("c", "Milk of Magnesia suspension"),
        ("d", "Epsom salts")]


def test_every_vignette_gives_short_summaries_and_no_empty_value(rules: RuleSet) -> None:
    vignettes = load_vignettes(vignette_files([REPO / "rules" / "tests"]), rules)
    assert len(vignettes) > 50
    mg_order = [("rx-1", "magnesium oxide 400 mg tablets, one at night, for leg cramps "
                         "as discussed with the patient and her family at the clinic visit")]
    for vignette in vignettes:
        assessment = evaluate_patient(parse_patient(dict(vignette.patient), rules), rules)
        cards = assessment_cards(assessment, patient_id="p1", source_url="https://x.org/about")
        cards += order_cards(assessment, mg_order, source_url="https://x.org/about")
        for card in map(compact, cards):  # as the service sends them
            assert len(card["summary"]) < 140, (vignette.where, card["summary"])
            assert "\n" not in card["summary"]
            assert card["indicator"] in ("info", "warning", "critical")
            assert card["source"]["label"] and card["detail"]
            assert list(empties(card)) == [], vignette.where


def test_an_old_result_is_used_and_gets_its_own_warning_card(server: Server) -> None:
    data = prefetch(mg=0.6, creatinine=0.7)
    drawn = (datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=30))
    data["mg"]["entry"][0]["resource"]["effectiveDateTime"] = drawn.isoformat()
    cards = hook_call(server, "patient-view", data)["cards"]
    old = [c for c in cards if c["summary"] == "Laboratory result older than its window."]
    assert len(old) == 1 and old[0]["indicator"] == "warning"
    assert f"0.6 mmol/L of {drawn.isoformat()} (30 days" in old[0]["detail"]
    assert f"0.6 mmol/L on {drawn.isoformat()} (Observation/mg1, LOINC 2601-3) - older than " \
           "the rules' freshness window" in cards[0]["detail"]
