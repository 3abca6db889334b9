"""``mgassist serve``: check the options, load the rules once, and run uvicorn.

Imports nothing outside the standard library at module level, so the command line can import
it and say which optional packages are missing (``pip install 'mgassist[serve]'``) instead
of failing on an ImportError.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from mgassist._core.ruleset import RuleSet

__all__ = ["EXTRA_PACKAGES", "ServeOptionError", "missing_packages", "parse_issuers",
           "run_serve"]

# import name -> distribution, for the message when the extra is not installed
EXTRA_PACKAGES = {"starlette": "starlette", "uvicorn": "uvicorn", "httpx": "httpx",
                  "jwt": "PyJWT", "cryptography": "cryptography"}
INSTALL_HINT = "pip install 'mgassist[serve]'"
_ISSUER = re.compile(r"(?P<iss>.+?)=(?P<url>https?://.+)")


class ServeOptionError(Exception):
    """An option of ``serve`` cannot be used: the message names the option and the value."""


def missing_packages() -> list[str]:
    """The distributions of the ``serve`` extra that are not installed."""
    return [dist for name, dist in EXTRA_PACKAGES.items() if not _installed(name)]


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: in sys.modules as None (blocked)
        return False


def parse_issuers(values: Sequence[str]) -> dict[str, str]:
    """``--trusted-issuer ISS=JWKS_URL`` values as {iss: JWK Set URL}. The JWK Set URL must be
    https, except on this machine (a loopback address), where http is accepted."""
    issuers: dict[str, str] = {}
    for value in values:
        match = _ISSUER.fullmatch(value.strip())
        if match is None:
            raise ServeOptionError(f"--trusted-issuer: {value!r} is not ISS=JWKS_URL; accepted:"
                                   " e.g. https://ehr.example.org=https://ehr.example.org/jwks")
        url = match["url"]
        parts = urlsplit(url)
        if parts.scheme != "https" and not _loopback(parts.hostname or ""):
            raise ServeOptionError(f"--trusted-issuer: the JWK Set URL {url!r} is not https; "
                                   "accepted: an https URL (http only on a loopback address)")
        issuers[match["iss"]] = url
    return issuers


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def observation_codes(rules: RuleSet) -> dict[str, list[str]]:
    """The LOINC codes of each analyte (the patient field it fills), from the table the FHIR
    reader reads (rules/fhir.yaml), in the rules' order."""
    if rules.fhir is None:
        raise ServeOptionError("--rules: this rule set has no fhir section (rules/fhir.yaml), "
                               "so it cannot read an EHR's FHIR data; accepted: a rule set "
                               "with one (the bundled rules have it)")
    codes: dict[str, list[str]] = {}
    for code, loinc in rules.fhir.loinc.items():
        codes.setdefault(loinc.field, []).append(code)
    return codes


def run_serve(*, host: str, port: int, rules: RuleSet, public_url: str | None,
              docs_url: str | None, trusted_issuers: Sequence[str],
              cors_origins: Sequence[str], max_request_bytes: int, fhir_timeout: float,
              feedback_log: Path | None) -> None:
    """Serve until interrupted. Raises ServeOptionError for an unusable option."""
    import uvicorn

    from .app import Settings, create_app

    issuers = parse_issuers(trusted_issuers)
    base = (public_url or f"http://{_host_in_url(host)}:{port}").rstrip("/")
    for name, url in (("--public-url", base), ("--docs-url", docs_url)):
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise ServeOptionError(f"{name}: {url!r} is not an http or https URL")
    if max_request_bytes < 1024:
        raise ServeOptionError(f"--max-request-bytes: {max_request_bytes} is too small; "
                               "accepted: 1024 or more")
    if not 0 < fhir_timeout <= 60:
        raise ServeOptionError(f"--fhir-timeout: {fhir_timeout:g} is not between 0 and 60 "
                               "seconds")
    settings = Settings(public_url=base, docs_url=docs_url, trusted_issuers=issuers,
                        cors_origins=tuple(cors_origins), max_request_bytes=max_request_bytes,
                        fhir_timeout=fhir_timeout, feedback_path=feedback_log)
    app = create_app(settings, rules, observation_codes(rules))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not _loopback(host) and not issuers:
        sys.stderr.write(f"warning: serving on {host} without --trusted-issuer: any caller "
                         "that reaches this port gets answers; put TLS and JWT checks in "
                         "front of it\n")
    uvicorn.run(app, host=host, port=port, access_log=False, server_header=False,
                log_level="info")


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host
