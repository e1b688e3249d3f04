"""Bearer JWTs from an identity provider, checked against the keys it publishes (JWKS).

The service is an OAuth 2.0 resource server: it never sees a password, only tokens the
provider signed. The key set is fetched without blocking the event loop and kept in memory:
a token naming an unknown key (`kid`) triggers a refresh, at most one per
`JWT_JWKS_REFRESH_SECONDS`, so a flood of made-up `kid`s cannot hammer the provider, and the
last good key set is kept while the provider is down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import OrderedDict
from typing import Any

import jwt
from tornado.httpclient import AsyncHTTPClient

from {{ cookiecutter.package_name }}.auth import Caller, Unauthorized
from {{ cookiecutter.package_name }}.errors import ApiError
from {{ cookiecutter.package_name }}.settings import ASYMMETRIC_ALGORITHMS, Settings

log = logging.getLogger(__name__)

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# Tokens that passed, remembered by their exact text until they expire or their key changes:
# a client sends the same token with every request, and checking its signature each time
# cost a third of a GET's CPU.
VERIFIED_TOKENS = 1024
FETCH_TIMEOUT_SECONDS = 5.0
# A failed fetch is retried this soon (or after JWT_JWKS_REFRESH_SECONDS, if sooner).
RETRY_SECONDS = 5.0
# Keys are fetched again when the set is this old, so a key the provider withdrew stops
# being trusted without a restart (the old set is kept if that fetch fails).
MAX_AGE_SECONDS = 600.0
# What PyJWK raises for a key this service cannot use: symmetric, of an unknown type, or
# broken (PyJWT 2.10 lets the cryptography library's ValueError through for those).
_UNUSABLE_KEY = (jwt.PyJWTError, ValueError, TypeError, KeyError)


class KeysUnavailable(ApiError):
    """503: the token names a key we do not have, and the provider cannot be asked."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            503,
            "The identity provider's keys cannot be fetched; try again shortly.",
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
        )


class JwtAuthenticator:
    """Verifies signature, `exp`, `nbf`, `iat`, `iss` and `aud`; the scopes come from
    `scope` (space-separated) or `scp` (a list, or space-separated)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -math.inf  # time.monotonic() of the last good fetch
        self._next_attempt = -math.inf  # no fetch before this time.monotonic()
        self._reachable = False  # whether the last fetch succeeded
        self._lock = asyncio.Lock()
        # token -> (its caller, its `exp` plus the leeway, the kid and key that verified it)
        self._verified: OrderedDict[str, tuple[Caller, float, str, jwt.PyJWK]] = OrderedDict()

    async def caller(self, credential: str) -> Caller:
        if (remembered := self._verified.get(credential)) is not None:
            known, expires, verified_by, verifier = remembered
            # What else was checked holds for good; `exp` and the key set do not.
            fresh = time.monotonic() - self._fetched_at <= MAX_AGE_SECONDS
            if time.time() < expires and fresh and self.keys.get(verified_by) is verifier:
                return known
            del self._verified[credential]
        try:
            header = jwt.get_unverified_header(credential)
        except jwt.PyJWTError:
            raise Unauthorized("The token is malformed.") from None
        algorithm = header.get("alg")
        if algorithm not in self.settings.jwt_algorithms:
            raise Unauthorized("The token is not signed with an algorithm this service accepts.")
        kid = header.get("kid")
        key = await self._key(kid)
        if key.algorithm_name != algorithm:
            raise Unauthorized("The token's algorithm does not match its key.")
        try:
            claims = jwt.decode(
                credential,
                key.key,
                algorithms=[algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("The token is not valid yet.") from None
        except jwt.PyJWTError:
            raise Unauthorized("The token is not valid for this service.") from None
        caller = Caller(identity=str(claims["sub"]), scopes=frozenset(_scopes(claims)))
        expires = float(claims["exp"]) + self.settings.jwt_leeway_seconds
        self._verified[credential] = (caller, expires, str(kid), key)
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return caller

    async def _key(self, kid: object) -> jwt.PyJWK:
        if not isinstance(kid, str):
            raise Unauthorized("The token names no key (kid).")
        stale = time.monotonic() - self._fetched_at > MAX_AGE_SECONDS
        if kid not in self.keys or stale:
            await self._refresh()
        if kid in self.keys:
            return self.keys[kid]
        if not self._reachable:
            raise KeysUnavailable(retry_after=self._next_attempt - time.monotonic())
        raise Unauthorized("The token is signed with a key this service does not know.")

    async def _refresh(self) -> None:
        """Fetch the key set, unless another request just did (or is doing) so."""
        async with self._lock:
            if time.monotonic() < self._next_attempt:
                return
            interval = self.settings.jwt_jwks_refresh_seconds
            client = AsyncHTTPClient(force_instance=True)  # not queued behind requests
            try:
                response = await client.fetch(
                    self.settings.jwt_jwks_url,
                    connect_timeout=FETCH_TIMEOUT_SECONDS,
                    request_timeout=FETCH_TIMEOUT_SECONDS,
                )
                keys = _signing_keys(json.loads(response.body))
            except Exception as error:  # any failure: keep the keys we have
                self._reachable = False
                self._next_attempt = time.monotonic() + min(interval, RETRY_SECONDS)
                log.warning("JWKS from %s not fetched: %r", self.settings.jwt_jwks_url, error)
                return
            finally:
                client.close()
            self._reachable = True
            self._fetched_at = time.monotonic()
            self._next_attempt = self._fetched_at + interval
            self.keys = keys


def _signing_keys(document: Any) -> dict[str, jwt.PyJWK]:
    """The keys of a JWKS document that can verify a signature, by `kid`."""
    keys: dict[str, jwt.PyJWK] = {}
    for data in document["keys"]:
        if not isinstance(data, dict) or data.get("use", "sig") != "sig" or "kid" not in data:
            continue
        try:
            key = jwt.PyJWK.from_dict(data)
        except _UNUSABLE_KEY:
            continue
        if key.algorithm_name in ASYMMETRIC_ALGORITHMS:
            keys[str(data["kid"])] = key
    return keys


def _scopes(claims: dict[str, Any]) -> list[str]:
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [item for item in value if isinstance(item, str)]
    return []
