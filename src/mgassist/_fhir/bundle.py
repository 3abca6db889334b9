"""A FHIR document as a list of resources: a Bundle of any type (collection, searchset,
transaction, batch-response...) or a single resource, and references between them.

    resources(document) -> list[Entry]      # raises FhirError for anything else
    bundle_of(resources) -> dict            # loose resources as a collection Bundle
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from msgspec import Struct

from mgassist._core.errors import FhirError

__all__ = ["Entry", "References", "bundle_of", "items", "resources"]

_SHOWN = 64
_ACCEPTED = 'a FHIR R4 Bundle ({"resourceType": "Bundle", "entry": [...]}) or one resource ' \
            "with a resourceType"


class Entry(Struct, frozen=True):
    """One resource of the document, with the fullUrl its Bundle entry gave it (if any)."""

    resource: Mapping[str, Any]
    full_url: str | None = None

    @property
    def type(self) -> str:
        """The resource's resourceType."""
        return str(self.resource.get("resourceType"))

    @property
    def id(self) -> str | None:
        """The resource's id, if it has one (a string)."""
        value = self.resource.get("id")
        return value if isinstance(value, str) else None


def bundle_of(resources: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A collection Bundle holding ``resources`` (such as a CDS Hooks prefetch), each entry
    with a ``fullUrl`` of ``Type/id`` when the resource has an id."""
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {"resource": resource}
        if isinstance(resource, Mapping) and isinstance(resource.get("id"), str) and \
                isinstance(resource.get("resourceType"), str):
            entry["fullUrl"] = f"{resource['resourceType']}/{resource['id']}"
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def resources(document: object) -> list[Entry]:
    """Every resource of ``document``: a Bundle's entries (a Bundle nested in an entry, as
    a batch-response's searchset, is opened too), or the one resource given."""
    if not isinstance(document, Mapping):
        raise FhirError("fhir", _show(document), f"is {_kind(document)}, not a FHIR resource",
                        _ACCEPTED)
    kind = document.get("resourceType")
    if not isinstance(kind, str) or not kind:
        raise FhirError("fhir", _keys(document), "is a JSON object without a resourceType, "
                        "not a FHIR resource", _ACCEPTED)
    if kind != "Bundle":
        return [Entry(document)]
    found: list[Entry] = []
    _open(document, found, depth=0)
    return found


_DEEPEST = 4  # Bundles inside Bundles (a batch-response of searchsets), no further


def _open(bundle: Mapping[str, Any], found: list[Entry], *, depth: int) -> None:
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FhirError("fhir", _show(entries), "Bundle.entry is not a list", _ACCEPTED)
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise FhirError("fhir", _show(entry), "a Bundle entry is not a JSON object",
                            _ACCEPTED)
        resource = entry.get("resource")
        if resource is None:  # a transaction-response entry may hold only a response
            continue
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"),
                                                                str):
            raise FhirError("fhir", _show(resource), "a Bundle entry's resource has no "
                            "resourceType", _ACCEPTED)
        if resource["resourceType"] == "Bundle" and depth < _DEEPEST:
            _open(resource, found, depth=depth + 1)
            continue
        url = entry.get("fullUrl")
        found.append(Entry(resource, url if isinstance(url, str) else None))


class References:
    """Resolves a Reference (``Patient/1``, a fullUrl, ``#contained``) to a resource."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._by: dict[str, Mapping[str, Any]] = {}
        for entry in entries:
            if entry.full_url:
                self._by[entry.full_url] = entry.resource
            if entry.id:
                self._by.setdefault(f"{entry.type}/{entry.id}", entry.resource)

    def resolve(self, reference: object, within: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The resource ``reference`` ({"reference": ...}) points to, or None."""
        if not isinstance(reference, Mapping):
            return None
        target = reference.get("reference")
        if not isinstance(target, str):
            return None
        if target.startswith("#"):
            for contained in items(within.get("contained")):
                if isinstance(contained, Mapping) and contained.get("id") == target[1:]:
                    return contained
            return None
        found = self._by.get(target)
        if found is None:  # an absolute URL ending in Type/id
            parts = target.rstrip("/").split("/")
            found = self._by.get("/".join(parts[-2:])) if len(parts) >= 2 else None
        return found


def items(value: object) -> list[Any]:
    """``value`` if it is a JSON list, else no items (a FHIR list element given as one
    object, a string or a number is not read)."""
    return value if isinstance(value, list) else []


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a JSON list"
    if isinstance(value, str):
        return "a JSON string"
    if value is None:
        return "null"
    return f"a JSON {type(value).__name__}"


def _keys(value: Mapping[str, Any]) -> str:
    keys = ", ".join(str(k) for k in list(value)[:6])
    return f"{{{keys}}}" if len(keys) <= _SHOWN else f"{{{keys[:_SHOWN - 5]}...}}"


def _show(value: object) -> str:
    try:
        text = value if isinstance(value, str) else repr(value)
    except ValueError:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
