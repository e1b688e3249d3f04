"""How values become BSON and come back, checked without a server."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from uuid import UUID

import bson
import pytest
from bson import Decimal128
from bson.codec_options import CodecOptions
from pydantic import ValidationError
from support import DECIMALS, new_{{ cookiecutter.resource_name }}, none_declared

from {{ cookiecutter.package_name }}.database import CODEC_OPTIONS
from {{ cookiecutter.package_name }}.models import (
    {{ cookiecutter.resource_name | pascal }}Create,
    {{ cookiecutter.resource_name | pascal }}Public,
    json_body,
)


def test_decimal_date_and_uuid_survive_a_bson_round_trip_exactly() -> None:
    document = {
        "price": Decimal("12345678901234567890.123456789"),
        "day": dt.date(2024, 2, 29),
        "ref": UUID("12345678-1234-5678-1234-567812345678"),
    }
    raw = bson.encode(document, codec_options=CODEC_OPTIONS)
    stored = bson.decode(raw, codec_options=CodecOptions[dict[str, Any]](tz_aware=True))
    assert stored["price"] == Decimal128("12345678901234567890.123456789")
    assert stored["day"] == dt.datetime(2024, 2, 29, tzinfo=dt.UTC)
    decoded = bson.decode(raw, codec_options=CODEC_OPTIONS)
    assert decoded["price"] == document["price"]
    assert decoded["ref"] == document["ref"]


@pytest.mark.parametrize("field", DECIMALS or [None])
def test_decimal_is_read_from_a_string_or_number_and_returned_as_a_string(
    field: str | None,
) -> None:
    if field is None:
        pytest.skip("the spec declares no decimal field")
    for sent, expected in (
        ('"10.10"', "10.10"),
        ("10.10", "10.10"),
        ("12345678901234567890.123456789", "12345678901234567890.123456789"),
    ):
        body: dict[str, Any] = {**new_{{ cookiecutter.resource_name }}(1), field: "PLACEHOLDER"}
        text = json.dumps(body).replace('"PLACEHOLDER"', sent)
        created = {{ cookiecutter.resource_name | pascal }}Create.model_validate_json(json_body(text.encode()))
        assert getattr(created, field) == Decimal(expected)
        document = {"_id": bson.ObjectId(), **created.model_dump()}
        public = {{ cookiecutter.resource_name | pascal }}Public.from_document(document)
        assert json.loads(public.model_dump_json())[field] == expected


@pytest.mark.parametrize("field", DECIMALS or none_declared("decimal field"))
@pytest.mark.parametrize("text", ['"1_000"', '" 1"', '"\\u0663"', '"1e"', '"0x10"', '"NaN"'])
def test_decimal_text_must_be_written_as_a_number(field: str, text: str) -> None:
    """Python's Decimal() reads these; the API takes only what a JSON number looks like."""
    body: dict[str, Any] = {**new_{{ cookiecutter.resource_name }}(1), field: "PLACEHOLDER"}
    raw = json.dumps(body).replace('"PLACEHOLDER"', text).encode()
    with pytest.raises(ValidationError) as raised:
        {{ cookiecutter.resource_name | pascal }}Create.model_validate_json(json_body(raw))
    assert {error["loc"] for error in raised.value.errors()} == {(field,)}
