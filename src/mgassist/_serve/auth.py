"""The EHR's bearer JWT (CDS Hooks 2.0, "Trusting CDS Clients"), when issuers are configured.

    verifier = Verifier({"https://ehr.example/": "https://ehr.example/jwks.json"}, client)
    await verifier.verify(authorization_header, audience)   -> None, or raises Unauthorized

Accepted: a signed JWT (PyJWT) with ``alg`` RS384 or ES384 only - never ``none``, never an
HMAC (the specification forbids both; the algorithm list is fixed here, never read from the
token) - and a ``kid`` found in the JWK Set configured for its issuer; claims ``iss`` (a
trusted issuer), ``aud`` (the URL of the endpoint called), ``exp``, ``iat`` and ``jti`` all
present; ``exp`` not passed and ``iat`` not in the future (with a minute of clock skew); a
``jti`` not seen before from that issuer while the token is valid (the replay cache). A
``jku`` header is accepted only when it is the configured JWK Set URL of that issuer: the
service never fetches a key from a URL a token names. JWK Sets are fetched with httpx and
kept for a while; an unknown ``kid`` refetches at most every REFETCH_SECONDS (keys rotate).

Failures raise Unauthorized with a reason for tests; the HTTP answer is 401 with no detail,
and neither the token nor the reason is logged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt

__all__ = ["ALGORITHMS", "ReplayCache", "Unauthorized", "Verifier"]

ALGORITHMS = ("RS384", "ES384")  # the specification's recommended, asymmetric algorithms
LEEWAY_SECONDS = 60
KEYS_SECONDS = 300  # how long a fetched JWK Set is used before it is fetched again
REFETCH_SECONDS = 30  # at most one refetch this often for a kid not in the set
REPLAY_CAPACITY = 100_000  # jti values remembered; beyond it, tokens are refused (fail closed)
_REQUIRED = ["iss", "aud", "exp", "iat", "jti"]


class Unauthorized(Exception):
    """The request's bearer token is missing or not acceptable (HTTP 401, no detail)."""


class ReplayCache:
    """The ``jti`` values seen, each until its token expires."""

    def __init__(self, clock: Callable[[], float] = time.time,
                 capacity: int = REPLAY_CAPACITY) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._clock = clock
        self._capacity = capacity

    def first_use(self, issuer: str, jti: str, expires: float) -> bool:
        """Remember ``jti``; False when it was seen before (a replay) or when the cache is
        full of unexpired tokens."""
        now = self._clock()
        if len(self._seen) >= self._capacity:
            self._seen = {k: v for k, v in self._seen.items() if v + LEEWAY_SECONDS > now}
            if len(self._seen) >= self._capacity:
                return False
        key = (issuer, jti)
        if key in self._seen and self._seen[key] + LEEWAY_SECONDS > now:
            return False
        self._seen[key] = expires
        return True


class Verifier:
    """Checks bearer JWTs against the trusted issuers' JWK Sets."""

    def __init__(self, issuers: Mapping[str, str], client: httpx.AsyncClient) -> None:
        self._issuers = dict(issuers)  # iss -> JWK Set URL
        self._client = client
        self._keys: dict[str, tuple[float, jwt.PyJWKSet]] = {}  # JWKS URL -> (when, set)
        self._tried: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self.replays = ReplayCache()

    async def verify(self, authorization: str | None, audience: str) -> None:
        """Accept the ``Authorization`` header's token for ``audience``, or raise."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("no bearer token")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("algorithm not accepted")
        issuer = claims.get("iss")
        jwks_url = self._issuers.get(issuer) if isinstance(issuer, str) else None
        if jwks_url is None or not isinstance(issuer, str):
            raise Unauthorized("issuer not trusted")
        if "jku" in header and header["jku"] != jwks_url:
            raise Unauthorized("jku is not the issuer's configured JWK Set")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("no kid")
        key = await self._key(jwks_url, kid)
        try:
            verified: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=list(ALGORITHMS), audience=audience, issuer=issuer,
                leeway=LEEWAY_SECONDS, options={"require": _REQUIRED})
        except jwt.PyJWTError as exc:
            raise Unauthorized(type(exc).__name__) from None
        jti = verified["jti"]
        if not isinstance(jti, str) or not jti:
            raise Unauthorized("jti is not a string")
        if not self.replays.first_use(issuer, jti, float(verified["exp"])):
            raise Unauthorized("jti replayed")

    async def _key(self, url: str, kid: str) -> jwt.PyJWK:
        async with self._lock:
            now = time.monotonic()
            cached = self._keys.get(url)
            if cached is None or now - cached[0] > KEYS_SECONDS or (
                    kid not in _kids(cached[1])
                    and now - self._tried.get(url, -REFETCH_SECONDS) >= REFETCH_SECONDS):
                self._tried[url] = now
                fetched = await self._fetch(url)
                if fetched is not None:
                    cached = (now, fetched)
                    self._keys[url] = cached
        if cached is None:
            raise Unauthorized("JWK Set not available")
        for key in cached[1].keys:
            if key.key_id == kid:
                return key
        raise Unauthorized("kid not in the JWK Set")

    async def _fetch(self, url: str) -> jwt.PyJWKSet | None:
        try:
            response = await self._client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError):
            return None


def _kids(keys: jwt.PyJWKSet) -> set[str]:
    return {key.key_id for key in keys.keys if key.key_id}
