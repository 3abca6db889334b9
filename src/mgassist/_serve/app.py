"""The Starlette application: discovery, the three services, feedback, and the guards.

    create_app(settings, rules) -> Starlette

Routes (CDS Hooks 2.0): ``GET /cds-services`` (discovery), ``POST /cds-services/{id}`` (a
hook call: 200 with cards, 400 for a malformed call, 412 when data are missing and cannot be
fetched), ``POST /cds-services/{id}/feedback`` (200, recorded without patient data), and
``GET /about`` (what the cards' ``source.url`` points to unless ``--docs-url`` is given).

Guards: a body over ``max_request_bytes`` is refused (413) before it is parsed; with trusted
issuers, every route but ``/about`` needs the EHR's JWT (``auth``; 401 with no detail); CORS
for the configured origins only. Nothing that could hold patient data or a token is logged:
one line per call with the service, the HTTP status and the time taken. Errors inside a call
are answered 500 and logged by exception type only (a message or a traceback's values could
carry patient data).

The rules are loaded once, before the server starts; a call does no file or rule work.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mgassist._core.assessment import Assessment
from mgassist._core.contract import Status
from mgassist._core.engine import evaluate_patient
from mgassist._core.errors import InputError, InputErrors
from mgassist._core.ruleset import RuleSet
from mgassist._fhir import Skipped, Source, bundle_of, read_fhir

from .auth import Unauthorized, Verifier
from .cards import (
    INDICATOR,
    OVERRIDE_REASONS,
    OVERRIDE_SYSTEM,
    assessment_cards,
    compact,
    magnesium_orders,
    order_cards,
    summary,
)
from .feedback import CardKinds, read_feedback
from .hook_request import HookCall, RequestError, read_call
from .prefetch import PatientData, PreconditionFailed, gather
from .services import Service, services

__all__ = ["Settings", "create_app"]

log = logging.getLogger("mgassist.serve")
feedback_log = logging.getLogger("mgassist.serve.feedback")


@dataclass(frozen=True)
class Settings:
    """How the service runs (``mgassist serve``'s options)."""

    public_url: str  # the base URL the EHR calls: JWT audiences are built from it
    docs_url: str | None = None  # the cards' source.url (default: this service's /about)
    trusted_issuers: Mapping[str, str] = field(default_factory=dict)  # iss -> JWK Set URL
    cors_origins: Sequence[str] = ()
    max_request_bytes: int = 1_048_576
    fhir_timeout: float = 5.0  # seconds, per request to the EHR's FHIR server
    feedback_path: Path | None = None  # JSON Lines; default: the log

    @property
    def source_url(self) -> str:
        return self.docs_url or f"{self.public_url}/about"


class _TooLarge(Exception):
    pass


@dataclass
class _State:
    settings: Settings
    rules: RuleSet
    services: dict[str, Service]
    client: httpx.AsyncClient | None = None
    verifier: Verifier | None = None
    kinds: CardKinds = field(default_factory=CardKinds)


def create_app(settings: Settings, rules: RuleSet,
               observation_codes: Mapping[str, Sequence[str]]) -> Starlette:
    """The ASGI application for ``rules`` (already loaded), asking for the observations of
    ``observation_codes`` (analyte -> LOINC codes) in its prefetch."""
    state = _State(settings, rules, services(observation_codes))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.fhir_timeout, connect=min(2.0, settings.fhir_timeout))
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                     limits=httpx.Limits(max_connections=50)) as client:
            state.client = client
            if settings.trusted_issuers:
                state.verifier = Verifier(settings.trusted_issuers, client)
            yield

    def guarded(handler: Callable[[Request, _State], Awaitable[Response]], *, auth: bool = True
                ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            try:
                if auth and state.verifier is not None:
                    await state.verifier.verify(request.headers.get("authorization"),
                                                settings.public_url + request.url.path)
                response = await handler(request, state)
            except Unauthorized:
                response = Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
            except _TooLarge:
                response = _error(413, "(body)", f"the request is larger than "
                                  f"{settings.max_request_bytes} bytes")
            except RequestError as exc:
                response = _error(400, exc.field, exc.problem)
            except PreconditionFailed as exc:
                response = _error(412, "prefetch", "not sent and not readable from the FHIR "
                                  f"server: {', '.join(exc.keys)}")
            except Exception as exc:  # a bug: its type only, never its message or values
                log.error("internal error (%s) on %s", type(exc).__name__,
                          _shown_path(request, state))
                response = _error(500, "(server)", "internal error")
            log.info("%s %s -> %d in %.1f ms", request.method, _shown_path(request, state),
                     response.status_code, 1000 * (time.perf_counter() - started))
            return response
        return endpoint

    routes = [
        Route("/cds-services", guarded(_discovery), methods=["GET"]),
        Route("/cds-services/{service_id}", guarded(_call), methods=["POST"]),
        Route("/cds-services/{service_id}/feedback", guarded(_feedback), methods=["POST"]),
        Route("/about", guarded(_about, auth=False), methods=["GET"]),
    ]
    middleware = []
    if settings.cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                                     allow_methods=["GET", "POST", "OPTIONS"],
                                     allow_headers=["Authorization", "Content-Type"]))
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def _shown_path(request: Request, state: _State) -> str:
    """The path as logged: a service id that is not one of ours is not repeated (a client
    could put anything in it)."""
    service_id = request.path_params.get("service_id")
    if service_id is None or service_id in state.services:
        return request.url.path
    return "/cds-services/(unknown)" + ("/feedback" if request.url.path.endswith("/feedback")
                                        else "")


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _error(status: int, field: str, message: str) -> Response:
    return _json({"error": {"field": field, "message": f"{field}: {message}"}}, status)


async def _body(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError:
        raise RequestError("(body)", "is not JSON") from None


async def _discovery(request: Request, state: _State) -> Response:
    return _json({"services": [s.discovery() for s in state.services.values()]})


def _service(request: Request, state: _State) -> Service:
    service = state.services.get(request.path_params["service_id"])
    if service is None:
        raise RequestError("(path)", "no such service; GET /cds-services lists them")
    return service


async def _call(request: Request, state: _State) -> Response:
    service = _service(request, state)
    call = read_call(await _body(request, state.settings.max_request_bytes), service)
    assert state.client is not None
    data = await gather(call, service, client=state.client,
                        timeout=state.settings.fhir_timeout)
    cards = _cards(call, data, state)
    for card in cards:
        state.kinds.remember(card["uuid"], card.pop("_kind"))
    return _json({"cards": [compact(card) for card in cards]})


def _cards(call: HookCall, data: PatientData, state: _State) -> list[dict[str, Any]]:
    url = state.settings.source_url
    try:
        assessment, values, notes = _assess(data, call.context["patientId"], state.rules)
    except (InputError, InputErrors) as exc:
        return [_unreadable(exc, url, state.rules, data.notes)]
    cards = assessment_cards(assessment, patient_id=call.context["patientId"], source_url=url,
                             values=values, notes=[*data.notes, *notes])
    kinds = ["decision"] + [f"finding:{f.id}" for f in assessment.findings
                            if str(f.severity) != "info"]
    if "draftOrders" in call.context:
        selections = call.context.get("selections") if call.hook == "order-select" else None
        orders = magnesium_orders(call.context["draftOrders"], state.rules, selections)
        extra = order_cards(assessment, orders, source_url=url)
        cards += extra
        kinds += ["order"] * len(extra)
    for card, kind in zip(cards, kinds, strict=True):
        card["_kind"] = kind
    return cards


def _assess(data: PatientData, patient_id: str, rules: RuleSet
            ) -> tuple[Assessment, list[str], list[str]]:
    """The assessment of the resources (read by the FHIR reader as of today, UTC), the values
    used with their dates and resources, and what the reader did not use and why."""
    resources = data.resources
    if not any(r.get("resourceType") == "Patient" for r in resources):
        # the client sent the Patient as null (no data): the patient of the context, of
        # unknown age and sex
        resources = [{"resourceType": "Patient", "id": patient_id}, *resources]
    fhir = read_fhir(bundle_of(resources), rules, as_of=datetime.now(UTC).date())
    assessment = evaluate_patient(fhir.patient(rules), rules)
    values = [_used_line(source, rules) for source in fhir.sources.used]
    skipped = [_skipped_line(item) for item in fhir.sources.skipped]
    return assessment, values, skipped


_LABELS = {"meds": "medication", "conditions": "condition", "symptoms": "symptom"}


def _used_line(source: Source, rules: RuleSet) -> str:
    """One value used: what it is, as read, its date and the resource it came from."""
    label = rules.quantities[source.field].label if source.field in rules.quantities \
        else _LABELS.get(source.field, source.field)
    where = f"{source.resource_type}/{source.id}" if source.id else source.resource_type
    coded = f", {_system_name(source.system)} {source.code}" if source.code else ""
    dated = f" on {source.date}" if source.date and source.date != source.value else ""
    line = f"{label}: {source.value}{dated} ({where}{coded})"
    if source.value != source.used:
        line += f", used as {source.used}"
    if source.old:
        line += " - older than the rules' freshness window"
    if source.note:
        line += f"; {source.note}"
    return line


def _skipped_line(item: Skipped) -> str:
    where = f"{item.resource_type}/{item.id}" if item.id else item.resource_type
    coded = f" ({_system_name(item.system)} {item.code})" if item.code else ""
    dated = f" of {item.date}" if item.date else ""
    return f"not used: {where}{coded}{dated}: {item.why}"


def _system_name(system: str | None) -> str:
    names = {"http://loinc.org": "LOINC", "http://snomed.info/sct": "SNOMED CT",
             "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm"}
    return names.get(system or "", system or "code")


def _unreadable(exc: InputError | InputErrors, url: str, rules: RuleSet,
                notes: Sequence[str]) -> dict[str, Any]:
    """The card when the patient's data cannot be used: what is wrong, and no decision."""
    errors = exc.errors if isinstance(exc, InputErrors) else (exc,)
    lines = "\n".join(f"- {error.message()}" for error in errors)
    detail = ("mgassist could not use this patient's data, so it makes no recommendation:\n\n"
              + lines + ("\n\n**About the data:**\n" + "\n".join(f"- {n}" for n in notes)
                         if notes else ""))
    card = {"uuid": str(uuid.uuid4()),
            "summary": summary("mgassist could not use this patient's data and makes no "
                               "recommendation"),
            "indicator": INDICATOR[Status.INSUFFICIENT_DATA], "detail": detail,
            "source": {"label": f"mgassist rules {rules.version}", "url": url},
            "overrideReasons": [{"code": c, "system": OVERRIDE_SYSTEM, "display": d}
                                for c, d in OVERRIDE_REASONS], "_kind": "unreadable"}
    return card


async def _feedback(request: Request, state: _State) -> Response:
    service = _service(request, state)
    records = read_feedback(await _body(request, state.settings.max_request_bytes),
                            service.id, state.kinds)
    path = state.settings.feedback_path
    lines = b"".join(orjson.dumps(record) + b"\n" for record in records)
    if path is not None:
        with path.open("ab") as out:
            out.write(lines)
    else:
        for record in records:
            feedback_log.info("%s", orjson.dumps(record).decode())
    return Response(status_code=200)


async def _about(request: Request, state: _State) -> Response:
    rules = state.rules
    reasons = "\n".join(f"- `{code}`: {display}" for code, display in OVERRIDE_REASONS)
    text = (f"# mgassist CDS Hooks service\n\nDecision support for oral magnesium "
            f"supplementation from cited rules: rule set {rules.version}, sha256 "
            f"{rules.sha256}.\n\nThe cards name their references. mgassist supports, and does "
            f"not replace, clinical judgement.\n\n## Override reasons\n\nSystem "
            f"`{OVERRIDE_SYSTEM}`:\n\n{reasons}\n")
    return Response(text, media_type="text/markdown; charset=utf-8")
