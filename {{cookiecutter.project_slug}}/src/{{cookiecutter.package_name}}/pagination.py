"""Opaque keyset cursors for the list endpoint: where the next page starts."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import bson
from bson import ObjectId
from bson.errors import BSONError

from {{ cookiecutter.package_name }}.database import CODEC_OPTIONS, Document


class InvalidCursor(ValueError):
    """The `after` parameter is not a cursor this service issued for this sort."""


def encode_cursor(sort: str, last: Document) -> str:
    """The position after `last` in `sort` order: its sort value and its `_id`."""
    field = sort.lstrip("-")
    value = last["_id"] if field == "id" else last.get(field)
    position = {"sort": sort, "value": value, "id": last["_id"]}
    raw = bson.encode(position, codec_options=CODEC_OPTIONS)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, ObjectId]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = bson.decode(raw, codec_options=CODEC_OPTIONS)
    except (binascii.Error, BSONError, ValueError) as error:
        raise InvalidCursor(cursor) from error
    last_id = position.get("id")
    if set(position) != {"sort", "value", "id"} or not isinstance(last_id, ObjectId):
        raise InvalidCursor(cursor)
    if position["sort"] != sort or isinstance(position["value"], (dict, list)):
        raise InvalidCursor(cursor)
    return position["value"], last_id
