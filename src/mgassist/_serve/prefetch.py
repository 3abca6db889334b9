"""The patient's FHIR resources for one call: from the prefetch, else from the FHIR server.

    await gather(call, service, client=..., timeout=...) -> PatientData   or PreconditionFailed

CDS Hooks 2.0, "Prefetch Template": a key the client sends as ``null`` has no data; a key it
leaves out was not satisfied, so it is read from the FHIR server when the call carries
``fhirServer`` and ``fhirAuthorization`` ("FHIR Resource Access"), and when it cannot be read
either way the service answers 412. An OperationOutcome in place of data (the client's way of
reporting a prefetch error) is read as no data and noted, never an error. A searchset's next
pages are read from the FHIR server when there is access to it (same server only: the token
must not travel elsewhere); otherwise the answer notes that only the first page was read.

One attempt per query, no retries, a timeout per request and a deadline for the whole call:
an EHR waiting on its CDS services must not wait on a retry storm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .hook_request import FhirAccess, HookCall, RequestError
from .services import Service, prefetch_url

__all__ = ["MAX_PAGES", "PatientData", "PreconditionFailed", "gather"]

MAX_PAGES = 5  # of one search: the first and up to four next pages


class PreconditionFailed(Exception):
    """Prefetch keys that were neither sent nor readable from the FHIR server (HTTP 412)."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(", ".join(keys))
        self.keys = keys


@dataclass
class PatientData:
    """The resources to read, and what the answer should say about how they were obtained."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)  # the keys read from the FHIR server


async def gather(call: HookCall, service: Service, *, client: httpx.AsyncClient,
                 timeout: float) -> PatientData:
    """Every prefetch key of ``service``, from the call or the FHIR server."""
    data = PatientData()
    missing: list[str] = []
    more: dict[str, str] = {}  # key -> next page of a prefetched searchset
    for key in service.prefetch:
        if key not in call.prefetch:
            missing.append(key)
            continue
        value = call.prefetch[key]
        if value is None:
            continue  # the client has no data for this key
        if not isinstance(value, dict):
            raise RequestError(f"prefetch.{key}", "must be a FHIR resource or null")
        following = _take(key, value, data)
        if following:
            more[key] = following
    _check_patient(call, data)
    if (missing or more) and call.fhir is None:
        if missing:
            raise PreconditionFailed(missing)
        data.notes += [f"prefetch '{key}': only the first page of results was sent, and "
                       "there is no FHIR server access to read the rest" for key in more]
        return data
    if missing or more:
        assert call.fhir is not None
        try:
            async with asyncio.timeout(2 * timeout):
                answers = await asyncio.gather(
                    *(_read(client, call.fhir, key, prefetch_url(service.prefetch[key],
                                                                  call.context), data)
                      for key in missing),
                    *(_read_pages(client, call.fhir, key, url, data)
                      for key, url in more.items()))
        except TimeoutError:
            answers = [False] * (len(missing) + len(more))
        failed = [key for key, ok in zip([*missing, *more], answers, strict=True) if not ok]
        if failed:
            raise PreconditionFailed(failed)
        data.fetched += missing
        _check_patient(call, data)
    return data


def _take(key: str, value: Mapping[str, Any], data: PatientData) -> str | None:
    """Add the resources of one prefetch value; return its next page's URL, if any."""
    kind = value.get("resourceType")
    if kind == "OperationOutcome":
        data.notes.append(f"prefetch '{key}': the EHR reported an error (OperationOutcome) "
                          "instead of data; read as no data")
        return None
    if kind != "Bundle":
        if not isinstance(kind, str) or not kind:
            raise RequestError(f"prefetch.{key}", "must be a FHIR resource (no resourceType)")
        data.resources.append(dict(value))
        return None
    entries = value.get("entry", [])
    if not isinstance(entries, list):
        raise RequestError(f"prefetch.{key}.entry", "must be an array")
    outcomes = 0
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise RequestError(f"prefetch.{key}.entry", "each entry must hold a resource")
        if resource.get("resourceType") == "OperationOutcome":
            outcomes += 1
        else:
            data.resources.append(resource)
    if outcomes:
        data.notes.append(f"prefetch '{key}': the search reported a problem "
                          "(OperationOutcome); its other results were used")
    links = value.get("link", [])
    nexts = [link.get("url") for link in links if isinstance(link, dict)
             and link.get("relation") == "next"] if isinstance(links, list) else []
    return nexts[0] if nexts and isinstance(nexts[0], str) else None


def _check_patient(call: HookCall, data: PatientData) -> None:
    """The Patient sent or read must be the patient of the context (a wrong-patient record
    must never be assessed)."""
    for resource in data.resources:
        if resource.get("resourceType") == "Patient" and \
                resource.get("id") not in (None, call.context["patientId"]):
            raise RequestError("prefetch.patient", "is not the Patient of context.patientId")


async def _read(client: httpx.AsyncClient, fhir: FhirAccess, key: str, url: str,
                data: PatientData) -> bool:
    """Read one prefetch query from the FHIR server (and its next pages)."""
    return await _read_pages(client, fhir, key, f"{fhir.base_url}/{url}", data)


async def _read_pages(client: httpx.AsyncClient, fhir: FhirAccess, key: str, url: str,
                      data: PatientData) -> bool:
    page: str | None = url
    for _ in range(MAX_PAGES):
        if page is None:
            return True
        if not page.startswith(fhir.base_url + "/"):
            data.notes.append(f"prefetch '{key}': a next page on another server was not read")
            return True
        try:
            response = await client.get(page, headers={
                "Authorization": f"Bearer {fhir.access_token}",
                "Accept": "application/fhir+json"})
        except httpx.HTTPError:
            return False
        if response.status_code != httpx.codes.OK:
            return False
        try:
            value = response.json()
        except ValueError:
            return False
        if not isinstance(value, dict):
            return False
        try:
            page = _take(key, value, data)
        except RequestError:
            return False
    if page is not None:
        data.notes.append(f"prefetch '{key}': only the first {MAX_PAGES} pages were read")
    return True
