"""API keys: random secrets the service knows only by their SHA-256 digests.

A key is minted with `new-api-key --name NAME` (see __main__.py); its digest, name and
scopes go into `API_KEYS`, a JSON list. Several keys may be valid at once, so a key is
rotated by adding the new one, moving clients over, then removing the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

from pydantic import BaseModel, ConfigDict, Field

from {{ cookiecutter.package_name }}.auth import Caller, Unauthorized

KEY_BYTES = 32  # 256 bits


class ApiKey(BaseModel):
    """One entry of `API_KEYS`: who holds the key, its digest, and what it may do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: tuple[str, ...] = ()


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyAuthenticator:
    """Finds the entry whose digest matches, comparing every entry in constant time."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self.keys = [
            (bytes.fromhex(entry.sha256), Caller(entry.name, frozenset(entry.scopes)))
            for entry in keys
        ]

    async def caller(self, credential: str) -> Caller:
        presented = hashlib.sha256(credential.encode()).digest()
        found = None
        for stored, caller in self.keys:  # no early exit: every key costs the same
            if hmac.compare_digest(presented, stored):
                found = caller
        if found is None:
            raise Unauthorized("The API key is not valid.")
        return found


def new_api_key(name: str, scopes: list[str]) -> tuple[str, str]:
    """A fresh key, and its `API_KEYS` entry (the key itself is not in it)."""
    key = secrets.token_urlsafe(KEY_BYTES)
    entry = ApiKey(name=name, sha256=digest(key), scopes=tuple(scopes))
    return key, json.dumps(entry.model_dump(mode="json"))
