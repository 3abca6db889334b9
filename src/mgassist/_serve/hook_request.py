"""A service call's body, read and checked (CDS Hooks 2.0, "Calling a CDS Service").

    read_call(body, service) -> HookCall      or RequestError, naming the field at fault

Checked: the body is a JSON object; ``hook`` is the service's hook; ``hookInstance`` is a
UUID; ``context`` holds the hook's required fields with their JSON types (and a
``patientId`` that is a FHIR id, since it goes into the FHIR server's URLs); ``fhirServer``
is an http(s) URL and is there whenever ``fhirAuthorization`` is; ``fhirAuthorization`` has
its required fields with ``token_type`` Bearer; ``prefetch``, when given, is an object. An
error message names the field and what is accepted, never the value sent (it may be patient
data or a token).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .services import HOOKS, Service

__all__ = ["FhirAccess", "HookCall", "RequestError", "read_call"]

# FHIR R4 datatype id: "Any combination of upper- or lower-case ASCII letters, numerals, '-'
# and '.', with a length limit of 64 characters".
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_TYPE_NAMES = {str: "a string", dict: "an object", list: "an array", int: "an integer"}
_AUTHORIZATION = {"access_token": str, "token_type": str, "expires_in": int, "scope": str,
                  "subject": str}


class RequestError(Exception):
    """The request body is not a service call this service can answer (HTTP 400)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class FhirAccess:
    """Where and how to read from the EHR's FHIR server (the token is never logged)."""

    base_url: str
    access_token: str

    def __repr__(self) -> str:  # a token must not reach a log through a repr
        return f"FhirAccess(base_url={self.base_url!r}, access_token=<hidden>)"


@dataclass(frozen=True)
class HookCall:
    """A checked service call."""

    hook: str
    hook_instance: str
    context: Mapping[str, Any]
    prefetch: Mapping[str, Any]
    fhir: FhirAccess | None


def read_call(body: Any, service: Service) -> HookCall:
    """The call in ``body`` (the parsed JSON) for ``service``, or RequestError."""
    if not isinstance(body, dict):
        raise RequestError("(body)", "the request body must be a JSON object")
    hook = _required(body, "hook", str)
    if hook != service.hook:
        raise RequestError("hook", f"this service answers the hook {service.hook!r} only")
    instance = _required(body, "hookInstance", str)
    try:
        uuid.UUID(instance)
    except ValueError:
        raise RequestError("hookInstance", "must be a UUID") from None
    context = _required(body, "context", dict)
    for spec in HOOKS[hook]:
        if spec.required:
            _required(context, spec.name, spec.kind, where="context.")
        elif spec.name in context:
            _typed(context, spec.name, spec.kind, where="context.")
    if not _FHIR_ID.fullmatch(context["patientId"]):
        raise RequestError("context.patientId", "must be a FHIR id (1-64 letters, digits, "
                                                "'-' or '.')")
    if "selections" in context and not all(isinstance(s, str) for s in context["selections"]):
        raise RequestError("context.selections", "must be an array of strings "
                                                 "(e.g. 'MedicationRequest/123')")
    if "draftOrders" in context and context["draftOrders"].get("resourceType") != "Bundle":
        raise RequestError("context.draftOrders", "must be a FHIR Bundle")
    prefetch = body.get("prefetch", {})
    if not isinstance(prefetch, dict):
        raise RequestError("prefetch", "must be an object (prefetch key -> FHIR resource)")
    return HookCall(hook, instance, context, prefetch, _fhir_access(body))


def _fhir_access(body: Mapping[str, Any]) -> FhirAccess | None:
    server = body.get("fhirServer")
    if server is not None:
        _typed(body, "fhirServer", str)
        parts = urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RequestError("fhirServer", "must be an http or https URL")
    if "fhirAuthorization" not in body:
        return None
    authorization = _typed(body, "fhirAuthorization", dict)
    for name, kind in _AUTHORIZATION.items():
        _required(authorization, name, kind, where="fhirAuthorization.")
    if authorization["token_type"] != "Bearer":
        raise RequestError("fhirAuthorization.token_type", "must be 'Bearer'")
    if server is None:
        raise RequestError("fhirServer", "is required when fhirAuthorization is given")
    return FhirAccess(server.rstrip("/"), authorization["access_token"])


def _required(data: Mapping[str, Any], name: str, kind: type, *, where: str = "") -> Any:
    if name not in data:
        raise RequestError(where + name, f"is required ({_TYPE_NAMES[kind]})")
    return _typed(data, name, kind, where=where)


def _typed(data: Mapping[str, Any], name: str, kind: type, *, where: str = "") -> Any:
    value = data[name]
    # bool is an int in Python, never in JSON
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RequestError(where + name, f"must be {_TYPE_NAMES[kind]}")
    if kind in (str, dict) and not value:
        raise RequestError(where + name, "must not be empty")
    return value
