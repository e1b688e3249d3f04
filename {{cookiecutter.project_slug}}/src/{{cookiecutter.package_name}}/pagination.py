"""Opaque keyset cursors for the list endpoint: where the next page starts."""

from __future__ import annotations

import base64
import binascii

import bson
from bson import ObjectId
from bson.errors import BSONError


class InvalidCursor(ValueError):
    """The `after` parameter is not a cursor this service issued."""


def encode_cursor(last_id: ObjectId) -> str:
    return base64.urlsafe_b64encode(bson.encode({"id": last_id})).decode().rstrip("=")


def decode_cursor(cursor: str) -> ObjectId:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = bson.decode(raw)
    except (binascii.Error, BSONError, ValueError) as error:
        raise InvalidCursor(cursor) from error
    last_id = position.get("id")
    if set(position) != {"id"} or not isinstance(last_id, ObjectId):
        raise InvalidCursor(cursor)
    return last_id
