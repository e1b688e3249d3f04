"""How values become BSON and come back, checked without a server."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from uuid import UUID

import bson
import pytest
from bson import Binary, Decimal128
from bson.codec_options import CodecOptions
from pydantic import ValidationError
from support import CASES, Case, body_text, each, resource_of

from {{ cookiecutter.package_name }}.database import CODEC_OPTIONS


def round_trip(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`document` as MongoDB stores it (raw BSON types), and as the service reads it back."""
    raw = bson.encode(document, codec_options=CODEC_OPTIONS)
    stored = bson.decode(raw, codec_options=CodecOptions[dict[str, Any]](tz_aware=True))
    return stored, bson.decode(raw, codec_options=CODEC_OPTIONS)


def test_uuid_survives_a_bson_round_trip_as_a_standard_uuid() -> None:
    ref = UUID("12345678-1234-5678-1234-567812345678")
    stored, decoded = round_trip({"ref": ref})
    assert stored["ref"] == Binary(ref.bytes, 4)
    assert decoded["ref"] == ref


@pytest.mark.skipif(
    not any(case.decimal_values for case in CASES), reason="the spec declares no decimal field"
)
def test_decimal_survives_a_bson_round_trip_exactly() -> None:
    price = Decimal("12345678901234567890.123456789")
    stored, decoded = round_trip({"price": price})
    assert stored["price"] == Decimal128("12345678901234567890.123456789")
    assert decoded["price"] == price


@pytest.mark.skipif(not any(case.dates for case in CASES), reason="the spec declares no date field")
def test_a_date_is_stored_as_midnight_utc() -> None:
    stored, _ = round_trip({"day": dt.date(2024, 2, 29)})
    assert stored["day"] == dt.datetime(2024, 2, 29, tzinfo=dt.UTC)


@pytest.mark.parametrize(("case", "field"), each("decimals", "decimal field"))
def test_decimal_is_read_from_a_string_or_number_and_returned_as_a_string(
    case: Case, field: str
) -> None:
    resource = resource_of(case)
    for sent, expected in (
        ('"10.10"', "10.10"),
        ("10.10", "10.10"),
        ("12345678901234567890.123456789", "12345678901234567890.123456789"),
    ):
        body: dict[str, Any] = {**case.new(1), field: "PLACEHOLDER"}
        raw = json.dumps(body).replace('"PLACEHOLDER"', sent).encode()
        created = resource.create.model_validate_json(body_text(case, raw))
        assert getattr(created, field) == Decimal(expected)
        document = {"_id": bson.ObjectId(), **created.model_dump()}
        public = resource.public.from_document(document)
        assert json.loads(public.model_dump_json())[field] == expected


@pytest.mark.parametrize(("case", "field"), each("decimals", "decimal field"))
@pytest.mark.parametrize("text", ['"1_000"', '" 1"', '"\\u0663"', '"1e"', '"0x10"', '"NaN"'])
def test_decimal_text_must_be_written_as_a_number(case: Case, field: str, text: str) -> None:
    """Python's Decimal() reads these; the API takes only what a JSON number looks like."""
    body: dict[str, Any] = {**case.new(1), field: "PLACEHOLDER"}
    raw = json.dumps(body).replace('"PLACEHOLDER"', text).encode()
    with pytest.raises(ValidationError) as raised:
        resource_of(case).create.model_validate_json(body_text(case, raw))
    assert {error["loc"] for error in raised.value.errors()} == {(field,)}
