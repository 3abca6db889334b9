"""The EHR's bearer JWT (CDS Hooks 2.0, "Trusting CDS Clients"), checked over real HTTP with
test keys: RS384 and ES384 accepted; none, HMAC and other algorithms refused; aud, exp, iat
and jti required; a jti used twice refused; 401 with no body on every failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from serve_support import FakeFhir, Keys, Server, unsigned_token

from mgassist._core.ruleset import RuleSet
from mgassist._serve.auth import ReplayCache

ISSUER = "https://ehr.example.org"


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def jwks_host(keys: Keys) -> Iterator[FakeFhir]:
    with FakeFhir() as host:
        host.routes["/jwks"] = (200, keys.jwks())
        yield host


@pytest.fixture(scope="module")
def server(rules: RuleSet, jwks_host: FakeFhir) -> Iterator[Server]:
    with Server(rules, trusted_issuers={ISSUER: f"{jwks_host.url}/jwks"},
                cors_origins=("https://ehr.example.org",)) as running:
        yield running


def discovery(server: Server, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{server.url}/cds-services", headers=headers)


def audience(server: Server, path: str = "/cds-services") -> str:
    return server.url + path


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_a_signed_token_for_the_endpoint_is_accepted(server: Server, keys: Keys, alg: str
                                                     ) -> None:
    response = discovery(server, keys.token(audience(server), issuer=ISSUER, alg=alg))
    assert response.status_code == 200
    assert len(response.json()["services"]) == 3


def test_a_service_call_needs_a_token_for_its_own_url(server: Server, keys: Keys) -> None:
    path = "/cds-services/mgassist-patient-view"
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/a", "patientId": "p1"}}
    right = keys.token(audience(server, path), issuer=ISSUER)
    response = httpx.post(server.url + path, json=body, headers={"Authorization":
                                                                 f"Bearer {right}"})
    assert response.status_code == 412  # past the token check: no prefetch, no FHIR server
    discovery_token = keys.token(audience(server), issuer=ISSUER)
    response = httpx.post(server.url + path, json=body, headers={"Authorization":
                                                                 f"Bearer {discovery_token}"})
    assert response.status_code == 401


def test_aud_may_be_a_list(server: Server, keys: Keys) -> None:
    token = jwt.encode({"iss": ISSUER, "aud": [audience(server)], "exp": 4102444800,
                        "iat": 1764000000, "jti": "list-aud"}, keys.rsa, algorithm="RS384",
                       headers={"kid": "rsa-1"})
    assert discovery(server, token).status_code == 200


def hmac_with_public_key(keys: Keys, claims: dict[str, Any]) -> str:
    """The classic confusion: the RSA public key used as an HMAC secret."""
    import base64
    import hashlib
    import hmac
    import json

    pem = keys.rsa.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)

    def part(data: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")
    signing = part({"alg": "HS384", "typ": "JWT", "kid": "rsa-1"}) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(pem, signing, hashlib.sha384).digest())
    return (signing + b"." + signature.rstrip(b"=")).decode()


def claims(server: Server, **change: Any) -> dict[str, Any]:
    import time
    import uuid

    now = int(time.time())
    return {"iss": ISSUER, "aud": audience(server), "exp": now + 300, "iat": now,
            "jti": str(uuid.uuid4()), **change}


@pytest.mark.parametrize("case", [
    "no token", "not a jwt", "alg none", "hmac with the public key", "RS256", "PS384",
    "wrong audience", "expired", "issued in the future", "no jti", "no iat", "no exp",
    "no aud", "untrusted issuer", "unknown kid", "signed by another key", "jku elsewhere",
    "no kid"])
def test_a_bad_token_is_401_with_no_detail(server: Server, keys: Keys, case: str) -> None:
    aud = audience(server)
    tokens: dict[str, str | None] = {
        "no token": None,
        "not a jwt": "abc.def",
        "alg none": unsigned_token(claims(server)),
        "hmac with the public key": hmac_with_public_key(keys, claims(server)),
        "RS256": keys.token(aud, issuer=ISSUER, alg="RS256"),
        "PS384": keys.token(aud, issuer=ISSUER, alg="PS384"),
        "wrong audience": keys.token(server.url + "/cds-services/other", issuer=ISSUER),
        "expired": keys.token(aud, issuer=ISSUER, exp_in=-120),
        "issued in the future": keys.token(aud, issuer=ISSUER, iat_in=600, exp_in=900),
        "no jti": keys.token(aud, issuer=ISSUER, drop=("jti",)),
        "no iat": keys.token(aud, issuer=ISSUER, drop=("iat",)),
        "no exp": keys.token(aud, issuer=ISSUER, drop=("exp",)),
        "no aud": keys.token(aud, issuer=ISSUER, drop=("aud",)),
        "untrusted issuer": keys.token(aud, issuer="https://other.example.org"),
        "unknown kid": keys.token(aud, issuer=ISSUER, kid="rsa-9"),
        "signed by another key": Keys().token(aud, issuer=ISSUER),
        "jku elsewhere": keys.token(aud, issuer=ISSUER,
                                    headers={"jku": "https://attacker.example.com/jwks"}),
        "no kid": jwt.encode(claims(server), keys.rsa, algorithm="RS384"),
    }
    response = discovery(server, tokens[case])
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_jku_that_is_the_configured_jwk_set_is_accepted(server: Server, keys: Keys,
                                                          jwks_host: FakeFhir) -> None:
    token = keys.token(audience(server), issuer=ISSUER, headers={"jku": f"{jwks_host.url}/jwks"})
    assert discovery(server, token).status_code == 200


def test_a_token_used_twice_is_refused(server: Server, keys: Keys) -> None:
    token = keys.token(audience(server), issuer=ISSUER)
    assert discovery(server, token).status_code == 200
    assert discovery(server, token).status_code == 401


def test_tokens_are_never_logged(server: Server, keys: Keys,
                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good = keys.token(audience(server), issuer=ISSUER)
    bad = keys.token(audience(server), issuer=ISSUER, exp_in=-120)
    assert discovery(server, good).status_code == 200
    assert discovery(server, bad).status_code == 401
    assert "GET /cds-services -> 401" in caplog.text  # the calls are logged...
    assert good.split(".")[1] not in caplog.text  # ...their tokens are not
    assert bad.split(".")[1] not in caplog.text


def test_about_and_cors_preflight_need_no_token(server: Server) -> None:
    assert httpx.get(f"{server.url}/about").status_code == 200
    preflight = httpx.options(f"{server.url}/cds-services/mgassist-order-sign", headers={
        "Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


def test_the_replay_cache_forgets_expired_tokens_and_fails_closed_when_full() -> None:
    now = [1000.0]
    cache = ReplayCache(clock=lambda: now[0], capacity=2)
    assert cache.first_use("iss", "a", expires=1100)
    assert not cache.first_use("iss", "a", expires=1100)
    assert cache.first_use("other-iss", "a", expires=1100)  # a jti is per issuer
    assert not cache.first_use("iss", "b", expires=1100)  # full of unexpired tokens
    now[0] = 1200.0  # both expired (and past the leeway): forgotten
    assert cache.first_use("iss", "b", expires=1300)
