"""Helpers of the CDS Hooks tests: the real server (uvicorn on a free loopback port, in a
thread), a small FHIR server and JWK Set host (the standard library's HTTP server), test keys
and JWTs, and the recursive check that a JSON value holds no null or empty value."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mgassist._core.ruleset import RuleSet
from mgassist._serve.app import Settings, create_app
from mgassist._serve.run import observation_codes


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Server:
    """mgassist's CDS Hooks service on uvicorn, on a free loopback port, in a thread."""

    def __init__(self, rules: RuleSet, **settings: Any) -> None:
        self.sock = free_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.settings = Settings(public_url=self.url, **settings)
        app = create_app(self.settings, rules, observation_codes(rules))
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the CDS Hooks server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the service's timeout) is expected, not an error


@dataclass
class FakeFhir:
    """A FHIR server and JWK Set host: GET path (with query) -> (status, JSON); every request
    is recorded with its Authorization header."""

    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    delay: float = 0.0

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                fake.requests.append((self.path, self.headers.get("Authorization")))
                if fake.delay:
                    time.sleep(fake.delay)
                status, body = fake.routes.get(self.path, (404, {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "not-found"}]}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> FakeFhir:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()


@dataclass
class Keys:
    """The EHR's signing keys (RSA for RS384, P-384 for ES384) and their JWK Set."""

    rsa: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    ec: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP384R1()))

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.ec.public_key()))
        return {"keys": [{**rsa_jwk, "kid": "rsa-1", "alg": "RS384", "use": "sig"},
                         {**ec_jwk, "kid": "ec-1", "alg": "ES384", "use": "sig"}]}

    def token(self, audience: str, *, issuer: str, alg: str = "RS384",
              kid: str | None = None, drop: tuple[str, ...] = (), exp_in: float = 300,
              iat_in: float = 0, jti: str | None = None, headers: Mapping[str, Any] = {}
              ) -> str:
        now = time.time()
        claims = {"iss": issuer, "aud": audience, "exp": int(now + exp_in),
                  "iat": int(now + iat_in), "jti": jti or str(uuid.uuid4())}
        for name in drop:
            claims.pop(name)
        key = self.rsa if alg.startswith(("RS", "PS")) else self.ec
        kid = kid or ("rsa-1" if key is self.rsa else "ec-1")
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, **headers})


def unsigned_token(claims: Mapping[str, Any]) -> str:
    """A JWT with ``alg: none`` (no signature)."""
    def part(data: Mapping[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'rsa-1'})}.{part(claims)}."


def empties(value: Any, path: str = "$") -> Iterator[str]:
    """The paths of every null, empty string, empty array and empty object in ``value``."""
    if value is None or (isinstance(value, str | list | dict) and not value):
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from empties(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from empties(item, f"{path}[{index}]")
