"""docs/cds-hooks.md cannot drift: its example request, sent to the real server, gives the
cards the page shows (card and suggestion uuids aside, and the server's port). The example was
run on 2026-11-29; every date in it moves by the days since, so the patient is as old and the
results as recent as on the page, whatever day the tests run."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_support import Server

from mgassist._core.ruleset import RuleSet

DOC = Path(__file__).resolve().parent.parent / "docs" / "cds-hooks.md"
RUN_ON = datetime.date(2026, 11, 29)
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@pytest.fixture(scope="module")
def server(rules: RuleSet) -> Iterator[Server]:
    with Server(rules) as running:
        yield running


def block_after(text: str, label: str) -> Any:
    """The first ```json block after the line ``label``."""
    rest = text[text.index(f"\n{label}\n"):]
    return json.loads(rest.split("```json\n", 1)[1].split("\n```", 1)[0])


def moved(value: Any, days: int) -> Any:
    """``value`` (JSON) with every ISO date in its strings moved by ``days``."""
    text = json.dumps(value)

    def move(match: re.Match[str]) -> str:
        day = datetime.date(*(int(part) for part in match.groups()))
        return (day + datetime.timedelta(days=days)).isoformat()
    return json.loads(_DATE.sub(move, text))


def without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k != "uuid"}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"http://127\.0\.0\.1:\d+/", "http://127.0.0.1:8080/", value)
    return value


def test_the_documented_request_gives_the_documented_cards(server: Server) -> None:
    text = DOC.read_text(encoding="utf-8")
    days = (datetime.datetime.now(datetime.UTC).date() - RUN_ON).days
    request = moved(block_after(text, "Request:"), days)
    shown = moved(block_after(text, "Response (200):"), days)
    response = httpx.post(f"{server.url}/cds-services/mgassist-patient-view", json=request)
    assert response.status_code == 200
    assert without_ids(response.json()) == without_ids(shown)
