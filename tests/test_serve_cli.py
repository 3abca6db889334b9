"""``mgassist serve`` as installed: the real command in a subprocess answers discovery and a
hook; a missing extra, an unusable option and a rule set without FHIR codes are refused with
a clear message (exit 2); the rest of the command line never imports the server's packages."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_support import free_socket

REPO = Path(__file__).resolve().parent.parent
SERVE_STACK = ("starlette", "uvicorn", "httpx", "jwt", "cryptography")


def test_mgassist_serve_answers_discovery_and_a_hook() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "mgassist", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                discovery = httpx.get(f"{url}/cds-services")
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "mgassist serve did not start"
                time.sleep(0.1)
        assert discovery.status_code == 200
        prefetch = dict.fromkeys(discovery.json()["services"][0]["prefetch"])
        prefetch["patient"] = {"resourceType": "Patient", "id": "p1", "gender": "male",
                               "birthDate": "1960-01-01"}
        response = httpx.post(f"{url}/cds-services/mgassist-patient-view", json={
            "hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/a", "patientId": "p1"}, "prefetch": prefetch})
        assert response.status_code == 200
        decision, *findings = response.json()["cards"]  # no magnesium: insufficient data
        assert decision["indicator"] == "warning"
        assert decision["summary"].startswith("Magnesium: insufficient data")
        assert [card["indicator"] for card in findings] == ["warning"]  # mg-level-required
    finally:
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=30)
    log = err.decode()
    assert "POST /cds-services/mgassist-patient-view -> 200" in log
    assert "1960-01-01" not in log and "p1" not in log  # no patient data in the log


@pytest.mark.parametrize(("args", "message"), [
    (["--trusted-issuer", "ehr"], "--trusted-issuer: 'ehr' is not ISS=JWKS_URL"),
    (["--trusted-issuer", "https://ehr.example.org=http://ehr.example.org/jwks"],
     "is not https"),
    (["--public-url", "ehr.example.org"], "--public-url: 'ehr.example.org' is not an http"),
    (["--max-request-bytes", "10"], "--max-request-bytes: 10 is too small"),
    (["--fhir-timeout", "0"], "--fhir-timeout: 0 is not between 0 and 60"),
])
def test_an_unusable_option_is_exit_2_naming_it(cli: Callable[..., Any], args: list[str],
                                                 message: str) -> None:
    result = cli("serve", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_rules_without_fhir_codes_cannot_serve(cli: Callable[..., Any], tmp_path: Path
                                               ) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for file in (REPO / "rules").glob("*.yaml"):
        if file.name != "fhir.yaml":
            (rules / file.name).write_text(file.read_text())
    result = cli("serve", "--rules", str(rules))
    assert result.exit_code == 2
    assert "--rules: this rule set has no fhir section" in result.stderr


def test_without_the_extra_serve_says_how_to_install_it(cli: Callable[..., Any],
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    real = importlib.util.find_spec

    def hidden(name: str, *args: Any) -> Any:
        return None if name in ("uvicorn", "jwt") else real(name, *args)
    monkeypatch.setattr(importlib.util, "find_spec", hidden)
    result = cli("serve")
    assert result.exit_code == 2
    assert result.stderr == ("error: mgassist serve needs uvicorn, PyJWT, of the optional extra "
                             "'serve': pip install 'mgassist[serve]'\n")


def test_the_command_line_never_imports_the_server_stack() -> None:
    code = ("import sys\nfrom mgassist._shell.cli import app\n"
            "from mgassist._shell.entry import main\n"
            f"print(sorted(m for m in {SERVE_STACK!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
    help_run = subprocess.run([sys.executable, "-X", "importtime", "-m", "mgassist", "serve",
                               "--help"], capture_output=True, text=True, check=True)
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in help_run.stderr.splitlines() if "|" in line}
    assert imported.isdisjoint(SERVE_STACK)
    assert "pip install 'mgassist[serve]'" in help_run.stdout
