"""The CDS Hooks service over real HTTP: discovery, request checks (400), missing prefetch
and the FHIR server (412), feedback, CORS and the size limit. The server is uvicorn on a free
loopback port (tests/serve_support.py); the expectations come from the CDS Hooks 2.0
specification (docs/cds-hooks.md cites the sections)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_support import FakeFhir, Server, empties

from mgassist._core.ruleset import RuleSet
from mgassist._serve.prefetch import MAX_PAGES
from mgassist._serve.services import HOOKS

SERVICES = {"mgassist-patient-view": "patient-view", "mgassist-order-select": "order-select",
            "mgassist-order-sign": "order-sign"}


@pytest.fixture(scope="module")
def server(rules: RuleSet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("feedback") / "feedback.jsonl"
    with Server(rules, feedback_path=log, max_request_bytes=64 * 1024,
                cors_origins=("https://ehr.example.org",), fhir_timeout=2.0) as running:
        yield running


def call_body(hook: str, prefetch: dict[str, Any] | None = None, **extra: Any
              ) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": "Practitioner/abc", "patientId": "p1"}
    if hook == "order-select":
        context["selections"] = []
    if hook != "patient-view":
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": []}
    body: dict[str, Any] = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context,
                            **extra}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def all_null(server: Server) -> dict[str, None]:
    """Every prefetch key sent as null: the EHR has no data for any of them."""
    discovery = httpx.get(f"{server.url}/cds-services").json()
    return dict.fromkeys(discovery["services"][0]["prefetch"])


def test_discovery_lists_the_three_hooks_with_their_prefetch(server: Server, rules: RuleSet
                                                              ) -> None:
    response = httpx.get(f"{server.url}/cds-services")
    assert response.status_code == 200
    services = response.json()["services"]
    assert {s["id"]: s["hook"] for s in services} == SERVICES
    for service in services:
        assert set(service) == {"hook", "title", "description", "id", "prefetch",
                                "usageRequirements"}
        prefetch = service["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert prefetch["medications"] == \
            "MedicationRequest?patient={{context.patientId}}&status=active"
        assert prefetch["conditions"] == \
            "Condition?patient={{context.patientId}}&clinical-status=active"
        # every LOINC code the reader reads is asked for, under its analyte's key
        for code, loinc in rules.fhir.loinc.items():
            assert f"http://loinc.org|{code}" in prefetch[loinc.field]
        assert prefetch["mg"].startswith("Observation?patient={{context.patientId}}&code=")
    assert list(empties(response.json())) == []


@pytest.mark.parametrize(("service", "change", "field"), [
    ("mgassist-patient-view", {"hook": "order-sign"}, "hook"),
    ("mgassist-patient-view", {"hook": None}, "hook"),
    ("mgassist-patient-view", {"hookInstance": "not-a-uuid"}, "hookInstance"),
    ("mgassist-patient-view", {"hookInstance": None}, "hookInstance"),
    ("mgassist-patient-view", {"context": None}, "context"),
    ("mgassist-patient-view", {"context": {"userId": "Practitioner/abc"}}, "context.patientId"),
    ("mgassist-patient-view", {"context": {"patientId": "p1"}}, "context.userId"),
    ("mgassist-patient-view", {"context": {"userId": "Practitioner/a", "patientId": "p/1"}},
     "context.patientId"),
    ("mgassist-patient-view", {"context": {"userId": "Practitioner/a", "patientId": 7}},
     "context.patientId"),
    ("mgassist-order-sign", {"context": {"userId": "Practitioner/a", "patientId": "p1"}},
     "context.draftOrders"),
    ("mgassist-order-select", {"context": {"userId": "Practitioner/a", "patientId": "p1",
                                           "draftOrders": {"resourceType": "Bundle"}}},
     "context.selections"),
    ("mgassist-order-sign", {"context": {"userId": "Practitioner/a", "patientId": "p1",
                                         "draftOrders": {"resourceType": "Patient"}}},
     "context.draftOrders"),
    ("mgassist-patient-view", {"prefetch": ["Patient"]}, "prefetch"),
    ("mgassist-patient-view", {"fhirAuthorization": {"access_token": "t"}},
     "fhirAuthorization.token_type"),
    ("mgassist-patient-view", {"fhirServer": "ftp://ehr.example.org"}, "fhirServer"),
    ("mgassist-patient-view", {"fhirAuthorization": {
        "access_token": "t", "token_type": "Bearer", "expires_in": 300, "scope": "s",
        "subject": "mgassist"}}, "fhirServer"),
])
def test_a_malformed_call_is_refused_naming_the_field(server: Server, service: str,
                                                       change: dict[str, Any], field: str
                                                       ) -> None:
    body = call_body(SERVICES[service], all_null(server))
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = httpx.post(f"{server.url}/cds-services/{service}", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ")


def test_a_body_that_is_not_json_or_not_an_object_is_400(server: Server) -> None:
    url = f"{server.url}/cds-services/mgassist-patient-view"
    not_json = httpx.post(url, content=b"{not json", headers={"Content-Type":
                                                               "application/json"})
    assert (not_json.status_code, not_json.json()["error"]["field"]) == (400, "(body)")
    a_list = httpx.post(url, json=[1, 2])
    assert (a_list.status_code, a_list.json()["error"]["field"]) == (400, "(body)")


def test_an_unknown_service_is_refused_and_not_logged_as_sent(
        server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    response = httpx.post(f"{server.url}/cds-services/Jane-Doe-MRN-12345",
                          json=call_body("patient-view"))
    assert response.status_code == 400
    assert "GET /cds-services" in response.json()["error"]["message"]
    served = "\n".join(r.getMessage() for r in caplog.records
                       if not r.name.startswith("httpx"))  # the server's log, not the client's
    assert "POST /cds-services/(unknown) -> 400" in served
    assert "Jane" not in served


def test_an_error_never_echoes_the_value_sent(server: Server) -> None:
    body = call_body("patient-view", all_null(server))
    body["hookInstance"] = "Jane-Doe-1950-01-01"
    response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view", json=body)
    assert response.status_code == 400
    assert "Jane" not in response.text


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_missing_prefetch_without_a_fhir_server_is_412(server: Server, service: str) -> None:
    prefetch = all_null(server)
    del prefetch["medications"]
    del prefetch["mg"]
    response = httpx.post(f"{server.url}/cds-services/{service}",
                          json=call_body(SERVICES[service], prefetch))
    assert response.status_code == 412
    message = response.json()["error"]["message"]
    assert "mg" in message and "medications" in message


def test_no_prefetch_and_no_fhir_server_is_412(server: Server) -> None:
    response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view",
                          json=call_body("patient-view"))
    assert response.status_code == 412


def test_fhir_server_without_authorization_is_not_used(server: Server) -> None:
    with FakeFhir() as fhir:
        body = call_body("patient-view", fhirServer=fhir.url)
        response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view", json=body)
        assert response.status_code == 412
        assert fhir.requests == []


def authorization(token: str = "fhir-token-1") -> dict[str, Any]:
    return {"access_token": token, "token_type": "Bearer", "expires_in": 300,
            "scope": "user/Patient.read user/Observation.read", "subject": "mgassist"}


def test_missing_prefetch_is_read_from_the_fhir_server_once_with_its_token(
        server: Server) -> None:
    prefetch = all_null(server)
    del prefetch["medications"]
    del prefetch["conditions"]
    with FakeFhir() as fhir:
        empty = {"resourceType": "Bundle", "type": "searchset", "total": 0}
        fhir.routes["/fhir/MedicationRequest?patient=p1&status=active"] = (200, empty)
        fhir.routes["/fhir/Condition?patient=p1&clinical-status=active"] = (200, empty)
        body = call_body("patient-view", prefetch, fhirServer=f"{fhir.url}/fhir/",
                         fhirAuthorization=authorization())
        response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view", json=body)
        assert response.status_code == 200, response.text
        assert sorted(fhir.requests) == [
            ("/fhir/Condition?patient=p1&clinical-status=active", "Bearer fhir-token-1"),
            ("/fhir/MedicationRequest?patient=p1&status=active", "Bearer fhir-token-1")]


def test_a_fhir_server_that_fails_is_412_after_one_attempt(server: Server) -> None:
    prefetch = all_null(server)
    del prefetch["patient"]
    with FakeFhir() as fhir:  # Patient/p1 is not there: 404
        body = call_body("patient-view", prefetch, fhirServer=fhir.url,
                         fhirAuthorization=authorization())
        response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view", json=body)
        assert response.status_code == 412
        assert "patient" in response.json()["error"]["message"]
        assert fhir.requests == [("/Patient/p1", "Bearer fhir-token-1")]


def test_a_fhir_server_too_slow_is_412(server: Server) -> None:
    prefetch = all_null(server)
    del prefetch["conditions"]
    with FakeFhir(delay=3 * server.settings.fhir_timeout) as fhir:
        body = call_body("patient-view", prefetch, fhirServer=fhir.url,
                         fhirAuthorization=authorization())
        response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view", json=body,
                              timeout=30)
        assert response.status_code == 412
        assert len(fhir.requests) == 1


def test_a_next_page_is_read_from_the_same_server_only(server: Server) -> None:
    prefetch = all_null(server)
    with FakeFhir() as fhir:
        pages = [{"resourceType": "Bundle", "type": "searchset", "link": [
            {"relation": "next", "url": f"{fhir.url}/page{n + 1}"}]} for n in range(10)]
        for n, page in enumerate(pages):
            fhir.routes[f"/page{n}"] = (200, page)
        prefetch["conditions"] = pages[0]
        body = call_body("patient-view", prefetch, fhirServer=fhir.url,
                         fhirAuthorization=authorization())
        response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view", json=body)
        assert response.status_code == 200
        assert [path for path, _ in fhir.requests] == [f"/page{n}" for n in
                                                         range(1, MAX_PAGES + 1)]
        detail = response.json()["cards"][0]["detail"]
        assert f"only the first {MAX_PAGES} pages were read" in detail
    prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset", "link": [
        {"relation": "next", "url": "https://elsewhere.example.org/page2"}]}
    body = call_body("patient-view", prefetch, fhirServer="http://127.0.0.1:9",
                     fhirAuthorization=authorization())
    response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view", json=body)
    assert response.status_code == 200
    assert "a next page on another server was not read" in response.json()["cards"][0]["detail"]


def test_an_operation_outcome_in_prefetch_is_no_data_and_noted(server: Server) -> None:
    prefetch = all_null(server)
    prefetch["mg"] = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "timeout", "diagnostics": "lab system down"}]}
    prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "OperationOutcome", "issue": [
            {"severity": "warning", "code": "incomplete"}]}, "search": {"mode": "outcome"}}]}
    response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view",
                          json=call_body("patient-view", prefetch))
    assert response.status_code == 200
    cards = response.json()["cards"]
    assert cards[0]["indicator"] == "warning"  # no magnesium: insufficient data
    assert "prefetch 'mg': the EHR reported an error (OperationOutcome)" in cards[0]["detail"]
    assert "prefetch 'conditions': the search reported a problem" in cards[0]["detail"]
    assert list(empties(response.json())) == []


def test_a_prefetched_patient_of_another_id_is_refused(server: Server) -> None:
    prefetch = all_null(server)
    prefetch["patient"] = {"resourceType": "Patient", "id": "someone-else"}
    response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view",
                          json=call_body("patient-view", prefetch))
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "prefetch.patient"


def test_a_request_over_the_size_limit_is_413(server: Server) -> None:
    body = call_body("patient-view", all_null(server))
    body["context"]["padding"] = "x" * (64 * 1024)
    response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view", json=body)
    assert response.status_code == 413
    # without a Content-Length (chunked), the limit still holds
    data = json.dumps(body).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(data), 4096):
            yield data[start:start + 4096]
    chunked = httpx.post(f"{server.url}/cds-services/mgassist-patient-view",
                         content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413


def test_cors_allows_the_configured_origin_only(server: Server) -> None:
    url = f"{server.url}/cds-services/mgassist-patient-view"
    allowed = httpx.options(url, headers={"Origin": "https://ehr.example.org",
                                          "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "authorization"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://ehr.example.org"
    other = httpx.options(url, headers={"Origin": "https://evil.example.com",
                                        "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in other.headers
    simple = httpx.get(f"{server.url}/cds-services", headers={"Origin":
                                                              "https://ehr.example.org"})
    assert simple.headers["access-control-allow-origin"] == "https://ehr.example.org"


def test_feedback_is_accepted_and_recorded_without_patient_data(server: Server) -> None:
    prefetch = all_null(server)
    cards = httpx.post(f"{server.url}/cds-services/mgassist-patient-view",
                       json=call_body("patient-view", prefetch)).json()["cards"]
    card = cards[0]["uuid"]
    feedback = {"feedback": [
        {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-29T10:05:31Z",
         "overrideReason": {"reason": {"code": "patient-declined",
                                       "system": "urn:mgassist:cds-hooks:override-reason"},
                            "userComment": "Mrs Jane Doe, MRN 12345, refused"}},
        {"card": "4e0a3a1e-3283-4575-ab82-028d55fe2719", "outcome": "accepted",
         "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
         "outcomeTimestamp": "2026-11-29T10:06:00Z"}]}
    log: Path = server.settings.feedback_path  # type: ignore[assignment]
    before = log.read_text() if log.exists() else ""
    response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view/feedback",
                          json=feedback)
    assert response.status_code == 200
    written = log.read_text()[len(before):]
    assert "Jane" not in written and "12345" not in written
    records = [json.loads(line) for line in written.splitlines()]
    assert records == [
        {"service": "mgassist-patient-view", "card": card, "card_kind": "decision",
         "outcome": "overridden", "outcome_timestamp": "2026-11-29T10:05:31Z",
         "override_reason": {"system": "urn:mgassist:cds-hooks:override-reason",
                             "code": "patient-declined"}, "override_comment_given": True},
        {"service": "mgassist-patient-view", "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
         "card_kind": "unknown", "outcome": "accepted",
         "outcome_timestamp": "2026-11-29T10:06:00Z",
         "accepted_suggestions": ["e56e1945-20b3-4393-8503-a1a20fd73152"]}]


@pytest.mark.parametrize(("feedback", "field"), [
    ({}, "feedback"),
    ({"feedback": [{"outcome": "accepted"}]}, "feedback[0].card"),
    ({"feedback": [{"card": "c", "outcome": "liked", "outcomeTimestamp": "2026-11-29T10:00Z"}]},
     "feedback[0].outcome"),
    ({"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-29"
                                                                           "T10:00:00Z"}]},
     "feedback[0].acceptedSuggestions"),
    ({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"}]},
     "feedback[0].outcomeTimestamp"),
])
def test_malformed_feedback_is_400(server: Server, feedback: dict[str, Any], field: str
                                   ) -> None:
    response = httpx.post(f"{server.url}/cds-services/mgassist-order-sign/feedback",
                          json=feedback)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_every_hook_has_its_context_fields() -> None:
    assert {hook: [f.name for f in fields if f.required] for hook, fields in HOOKS.items()} == {
        "patient-view": ["userId", "patientId"],
        "order-select": ["userId", "patientId", "selections", "draftOrders"],
        "order-sign": ["userId", "patientId", "draftOrders"]}
