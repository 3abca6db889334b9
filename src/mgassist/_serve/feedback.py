"""The feedback endpoint's body (CDS Hooks 2.0, "Feedback"), recorded without patient data.

    records = read_feedback(body, service_id, kinds)    -> [dict, ...] or RequestError

Each item needs ``card`` (a card's uuid), ``outcome`` (``accepted`` or ``overridden``),
``outcomeTimestamp``, and ``acceptedSuggestions`` (ids) when accepted. What is recorded:
the service, the card's uuid and what kind of card it was (the decision, a finding's id, an
order alert: no patient value, no patient or user id), the outcome, the accepted suggestion
ids, the override reason's code and system, and the time. An ``overrideReason.userComment``
is free text a clinician typed and may name the patient: it is never recorded, only whether
there was one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .hook_request import RequestError

__all__ = ["CardKinds", "read_feedback"]

_OUTCOMES = ("accepted", "overridden")


class CardKinds:
    """What each recently issued card was (decision, finding id, order), by its uuid: a
    bounded memory, so feedback can name the rule it is about without keeping patient data."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._kinds: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def remember(self, card_uuid: str, kind: str) -> None:
        self._kinds[card_uuid] = kind
        if len(self._kinds) > self._capacity:
            self._kinds.popitem(last=False)

    def kind(self, card_uuid: str) -> str:
        return self._kinds.get(card_uuid, "unknown")


def read_feedback(body: Any, service_id: str, kinds: CardKinds) -> list[dict[str, Any]]:
    """The records to keep for ``body``, or RequestError naming what is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("feedback"), list):
        raise RequestError("feedback", "is required: an array of feedback objects")
    records = []
    for n, item in enumerate(body["feedback"]):
        where = f"feedback[{n}]"
        if not isinstance(item, dict):
            raise RequestError(where, "must be an object")
        card = _text(item, "card", where)
        outcome = _text(item, "outcome", where)
        if outcome not in _OUTCOMES:
            raise RequestError(f"{where}.outcome", "must be 'accepted' or 'overridden'")
        stamp = _text(item, "outcomeTimestamp", where)
        try:
            datetime.fromisoformat(stamp)
        except ValueError:
            raise RequestError(f"{where}.outcomeTimestamp", "must be an ISO 8601 date and "
                                                            "time (RFC 3339)") from None
        record: dict[str, Any] = {"service": service_id, "card": card,
                                  "card_kind": kinds.kind(card), "outcome": outcome,
                                  "outcome_timestamp": stamp}
        accepted = item.get("acceptedSuggestions")
        if outcome == "accepted":
            if not isinstance(accepted, list) or not accepted or not all(
                    isinstance(a, dict) and isinstance(a.get("id"), str) for a in accepted):
                raise RequestError(f"{where}.acceptedSuggestions", "is required when accepted:"
                                                                   " an array of {\"id\": ...}")
            record["accepted_suggestions"] = [a["id"] for a in accepted]
        reason = item.get("overrideReason")
        if reason is not None:
            if not isinstance(reason, dict):
                raise RequestError(f"{where}.overrideReason", "must be an object")
            coding = reason.get("reason")
            if isinstance(coding, Mapping):
                record["override_reason"] = {k: coding[k] for k in ("system", "code")
                                             if isinstance(coding.get(k), str)}
            record["override_comment_given"] = bool(reason.get("userComment"))
        records.append(record)
    return records


def _text(item: Mapping[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise RequestError(f"{where}.{name}", "is required (a string)")
    return value
