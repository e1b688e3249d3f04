"""Opaque keyset cursors for the list endpoint: where the next page starts.

A cursor is the BSON of (collection, sort, value, id) and an HMAC of it, so the service only ever
resumes from positions it issued: a forged value never reaches a query. `CURSOR_SECRET`
holds comma-separated keys; the first signs, all verify, so keys rotate without breaking
the cursors clients hold. Without it, each process start draws its own key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from functools import lru_cache
from typing import Any

import bson
from bson import ObjectId
from bson.errors import BSONError

from {{ cookiecutter.package_name }}.database import CODEC_OPTIONS, Document

_SIGNATURE_BYTES = 16
_PROCESS_KEY = secrets.token_bytes(32)


class InvalidCursor(ValueError):
    """The `after` parameter is not a cursor this service issued for this sort."""


@lru_cache(maxsize=4)
def signing_keys(secret: str | None) -> tuple[bytes, ...]:
    """The keys from `CURSOR_SECRET`, the signing key first."""
    keys = tuple(key.strip().encode() for key in (secret or "").split(",") if key.strip())
    return keys or (_PROCESS_KEY,)


def _sign(key: bytes, raw: bytes) -> bytes:
    return hmac.digest(key, raw, hashlib.sha256)[:_SIGNATURE_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(collection: str, sort: str, last: Document, keys: tuple[bytes, ...]) -> str:
    """The position after `last` in `sort` order: its sort value and its `_id`, signed."""
    field = sort.lstrip("-")
    value = last["_id"] if field == "id" else last.get(field)
    position = {"of": collection, "sort": sort, "value": value, "id": last["_id"]}
    raw = bson.encode(position, codec_options=CODEC_OPTIONS)
    return f"{_b64(raw)}.{_b64(_sign(keys[0], raw))}"


def decode_cursor(
    cursor: str, collection: str, sort: str, keys: tuple[bytes, ...]
) -> tuple[Any, ObjectId]:
    """The (value, id) a cursor holds, if this service signed it for this list and sort."""
    payload, _, signature = cursor.partition(".")
    try:
        raw, mac = _unb64(payload), _unb64(signature)
    except (binascii.Error, ValueError) as error:
        raise InvalidCursor(cursor) from error
    if not any(hmac.compare_digest(mac, _sign(key, raw)) for key in keys):
        raise InvalidCursor(cursor)
    try:
        position = bson.decode(raw, codec_options=CODEC_OPTIONS)
    except (BSONError, ValueError) as error:
        raise InvalidCursor(cursor) from error
    if (position.get("of"), position.get("sort")) != (collection, sort) or not isinstance(
        position.get("id"), ObjectId
    ):
        raise InvalidCursor(cursor)
    return position.get("value"), position["id"]
