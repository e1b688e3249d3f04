"""What the declared fields promise: constraints, defaults, exact types, uniqueness, sorting."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from bson import Binary, Decimal128
from bson.codec_options import CodecOptions
from support import (
    CALENDAR,
    DATETIMES,
    DECIMAL_VALUES,
    DECIMALS,
    DEFAULTS,
    EMAILS,
    FIELDS,
    INTEGERS,
    LISTS,
    MISWRITTEN_FILTERS,
    MULTIKEY,
    NOT_NULL,
    OPTIONAL,
    OPTIONAL_UNIQUE,
    SORTABLE,
    UNIQUE,
    VIOLATIONS,
    as_query_value,
    error_paths,
    fetch,
    new_{{ cookiecutter.resource_name }},
    none_declared,
    problem,
    send_json,
)

from {{ cookiecutter.package_name }}.openapi import build_openapi
from {{ cookiecutter.package_name }}.repository import INDEXES, {{ cookiecutter.resource_name | pascal }}Repository

PATH = "/{{ cookiecutter.collection_name }}"
FERRETDB_UPDATE_CONFLICT = (
    "FerretDB 1.x reports a unique violation on update as InternalError (code 1), "
    "not DuplicateKeyError (11000); MongoDB gets 409"
)
FERRETDB_KEY_PATTERN = (
    "FerretDB 1.x omits keyPattern from duplicate-key errors, so with several unique "
    "fields the service cannot name the one that clashed; MongoDB names it"
)

FERRETDB_SPARSE = (
    "FerretDB 1.x leaves `sparse` out of index information (and lets any number of "
    "documents omit a unique field); MongoDB reports the sparse index"
)

RAW = CodecOptions[dict[str, Any]](tz_aware=True)


async def create(base_url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await send_json(f"{base_url}{PATH}", "POST", body)
    assert response.code == 201, response.body
    created: dict[str, Any] = json.loads(response.body)
    return created


@pytest.mark.parametrize(
    ("field", "value"), VIOLATIONS or none_declared("constraint", 2), ids=lambda v: str(v)[:20]
)
async def test_constraint_violation_is_422_naming_the_field(
    base_url: str, field: str, value: Any
) -> None:
    body = {**new_{{ cookiecutter.resource_name }}(1), field: value}
    response = await send_json(f"{base_url}{PATH}", "POST", body)
    assert response.code == 422, (field, value)
    assert error_paths(response) == {field}
    created = await create(base_url, new_{{ cookiecutter.resource_name }}(2))
    response = await send_json(f"{base_url}{PATH}/{created['id']}", "PATCH", {field: value})
    assert response.code == 422
    assert error_paths(response) == {field}


@pytest.mark.parametrize("field", OPTIONAL or none_declared("optional field"))
async def test_optional_field_may_be_null_or_absent(base_url: str, field: str) -> None:
    as_null = await create(base_url, {**new_{{ cookiecutter.resource_name }}(1), field: None})
    absent_body = new_{{ cookiecutter.resource_name }}(2)
    del absent_body[field]
    absent = await create(base_url, absent_body)
    assert as_null[field] is None
    assert absent[field] is None or field in DEFAULTS


@pytest.mark.parametrize("field", list(DEFAULTS) or none_declared("default"))
async def test_default_fills_an_absent_field(base_url: str, field: str) -> None:
    body = new_{{ cookiecutter.resource_name }}(1)
    del body[field]
    created = await create(base_url, body)
    assert created[field] == DEFAULTS[field]
    fetched = json.loads((await fetch(f"{base_url}{PATH}/{created['id']}")).body)
    assert fetched[field] == DEFAULTS[field]


async def test_values_round_trip_with_their_bson_types(
    base_url: str, {{ cookiecutter.collection_name }}: {{ cookiecutter.resource_name | pascal }}Repository
) -> None:
    body = new_{{ cookiecutter.resource_name }}(3)
    created = await create(base_url, body)
    assert created == {"id": created["id"], **json.loads(json.dumps(body))}
    assert json.loads((await fetch(f"{base_url}{PATH}/{created['id']}")).body) == created

    stored = await {{ cookiecutter.collection_name }}.collection.with_options(codec_options=RAW).find_one({})
    assert stored is not None
    for name in DECIMALS:
        assert isinstance(stored[name], Decimal128)
        assert stored[name].to_decimal() == Decimal(body[name])
    for name in DATETIMES:
        assert isinstance(stored[name], datetime)
    for name, value in stored.items():
        if isinstance(value, Binary):
            assert value.subtype == 4, f"{name} should be a standard UUID"


@pytest.mark.parametrize("field", DATETIMES or none_declared("datetime field"))
async def test_datetime_comes_back_as_the_same_instant_in_utc(base_url: str, field: str) -> None:
    moment = "2024-03-10T09:30:15.123456+02:00"
    created = await create(base_url, {**new_{{ cookiecutter.resource_name }}(1), field: moment})
    assert created[field] == "2024-03-10T07:30:15.123000Z"


@pytest.mark.parametrize("field", DATETIMES or none_declared("datetime field"))
@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"], ids=["10000", "0"]
)
async def test_datetime_outside_utc_years_is_422(base_url: str, field: str, moment: str) -> None:
    """The instant exists, but not in UTC between the years 1 and 9999, where BSON dates live."""
    body = {**new_{{ cookiecutter.resource_name }}(1), field: moment}
    response = await send_json(f"{base_url}{PATH}", "POST", body)
    assert response.code == 422
    assert error_paths(response) == {field}
    filtered = await fetch(f"{base_url}{PATH}?{field}={quote(moment)}")
    assert filtered.code == 422


@pytest.mark.parametrize("field", UNIQUE or none_declared("unique field"))
async def test_duplicate_unique_value_on_create_is_409(
    base_url: str, {{ cookiecutter.collection_name }}: {{ cookiecutter.resource_name | pascal }}Repository, field: str
) -> None:
    first = await create(base_url, new_{{ cookiecutter.resource_name }}(1))
    clash = {**new_{{ cookiecutter.resource_name }}(2), field: first[field]}
    response = await send_json(f"{base_url}{PATH}", "POST", clash)
    assert response.code == 409
    assert problem(response)["title"] == "Conflict"
    assert await {{ cookiecutter.collection_name }}.collection.count_documents({}) == 1


@pytest.mark.parametrize("field", UNIQUE or none_declared("unique field"))
async def test_conflict_names_the_field(
    base_url: str, on_ferretdb: bool, request: pytest.FixtureRequest, field: str
) -> None:
    if on_ferretdb and len(UNIQUE) > 1:
        request.applymarker(pytest.mark.xfail(reason=FERRETDB_KEY_PATTERN, strict=True))
    first = await create(base_url, new_{{ cookiecutter.resource_name }}(1))
    clash = {**new_{{ cookiecutter.resource_name }}(2), field: first[field]}
    response = await send_json(f"{base_url}{PATH}", "POST", clash)
    assert error_paths(response) == {field}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("field", UNIQUE or none_declared("unique field"))
async def test_duplicate_unique_value_on_replace_or_patch_is_409(
    base_url: str, on_ferretdb: bool, request: pytest.FixtureRequest, field: str, method: str
) -> None:
    if on_ferretdb:
        request.applymarker(pytest.mark.xfail(reason=FERRETDB_UPDATE_CONFLICT, strict=True))
    first = await create(base_url, new_{{ cookiecutter.resource_name }}(1))
    second = await create(base_url, new_{{ cookiecutter.resource_name }}(2))
    clash = {field: first[field]}
    body = {**new_{{ cookiecutter.resource_name }}(2), **clash} if method == "PUT" else clash
    response = await send_json(f"{base_url}{PATH}/{second['id']}", method, body)
    assert response.code == 409
    fetched = json.loads((await fetch(f"{base_url}{PATH}/{second['id']}")).body)
    assert fetched == second


async def test_indexes_are_created_once_and_idempotently(
    {{ cookiecutter.collection_name }}: {{ cookiecutter.resource_name | pascal }}Repository,
) -> None:
    await {{ cookiecutter.collection_name }}.ensure_indexes()
    info = await {{ cookiecutter.collection_name }}.collection.index_information()
    declared = {tuple(key for key, _ in model.document["key"].items()) for model in INDEXES}
    present = {tuple(key for key, _ in index["key"]) for index in info.values()}
    assert declared <= present
    unique = {index["key"][0][0] for index in info.values() if index.get("unique")}
    assert unique == set(UNIQUE)


@pytest.mark.parametrize("field", OPTIONAL_UNIQUE or none_declared("optional unique field"))
async def test_optional_unique_field_has_a_sparse_index(
    {{ cookiecutter.collection_name }}: {{ cookiecutter.resource_name | pascal }}Repository,
    on_ferretdb: bool,
    request: pytest.FixtureRequest,
    field: str,
) -> None:
    """Documents without the field stay out of its unique index, so many may omit it."""
    if on_ferretdb:
        request.applymarker(pytest.mark.xfail(reason=FERRETDB_SPARSE, strict=True))
    await {{ cookiecutter.collection_name }}.ensure_indexes()
    info = await {{ cookiecutter.collection_name }}.collection.index_information()
    unique = [index for index in info.values() if index.get("unique")]
    assert [index.get("sparse") for index in unique if index["key"][0][0] == field] == [True]


@pytest.mark.parametrize("field", UNIQUE or none_declared("unique field"))
async def test_unique_field_has_a_sort_index(
    {{ cookiecutter.collection_name }}: {{ cookiecutter.resource_name | pascal }}Repository,
    field: str,
) -> None:
    """Pages sorted on a unique field are read in (field, _id) order; an index must serve it."""
    await {{ cookiecutter.collection_name }}.ensure_indexes()
    info = await {{ cookiecutter.collection_name }}.collection.index_information()
    keys = [[key for key, _ in index["key"]] for index in info.values()]
    assert [field, "_id"] in keys
    assert field in SORTABLE


@pytest.mark.parametrize("field", OPTIONAL_UNIQUE or none_declared("optional unique field"))
async def test_two_documents_may_omit_an_optional_unique_field(base_url: str, field: str) -> None:
    absent = new_{{ cookiecutter.resource_name }}(1)
    del absent[field]
    also_absent = new_{{ cookiecutter.resource_name }}(2)
    del also_absent[field]
    first = await create(base_url, absent)
    second = await create(base_url, also_absent)
    third = await create(base_url, {**new_{{ cookiecutter.resource_name }}(3), field: None})
    assert first[field] is second[field] is third[field] is None
    given = await create(base_url, new_{{ cookiecutter.resource_name }}(4))
    clash = {**new_{{ cookiecutter.resource_name }}(5), field: given[field]}
    response = await send_json(f"{base_url}{PATH}", "POST", clash)
    assert response.code == 409


@pytest.mark.parametrize("field", MULTIKEY or none_declared("indexed list field"))
async def test_indexed_list_filters_but_does_not_sort(
    base_url: str,
    {{ cookiecutter.collection_name }}: {{ cookiecutter.resource_name | pascal }}Repository,
    field: str,
) -> None:
    await {{ cookiecutter.collection_name }}.ensure_indexes()
    info = await {{ cookiecutter.collection_name }}.collection.index_information()
    keys = [[key for key, _ in index["key"]] for index in info.values()]
    assert [key for key in keys if key[0] == field] == [[field]]
    response = await fetch(f"{base_url}{PATH}?sort={field}")
    assert response.code == 422
    assert error_paths(response) == {"sort"}


@pytest.mark.parametrize("field", EMAILS or none_declared("email field"))
async def test_email_is_stored_in_lower_case(base_url: str, field: str) -> None:
    body = new_{{ cookiecutter.resource_name }}(1)
    lower = body[field]
    body[field] = [item.upper() for item in lower] if field in LISTS else lower.upper()
    created = await create(base_url, body)
    assert created[field] == lower
    shouting = (lower[0] if field in LISTS else lower).upper()
    response = await fetch(f"{base_url}{PATH}?{field}={as_query_value(shouting)}")
    assert response.code == 200, response.body
    found = json.loads(response.body)["{{ cookiecutter.collection_name }}"]
    assert [item["id"] for item in found] == [created["id"]]


@pytest.mark.parametrize(
    "field", [name for name in EMAILS if name in UNIQUE] or none_declared("unique email field")
)
async def test_email_is_unique_regardless_of_case(base_url: str, field: str) -> None:
    first = await create(base_url, new_{{ cookiecutter.resource_name }}(1))
    clash = {**new_{{ cookiecutter.resource_name }}(2), field: first[field].upper()}
    response = await send_json(f"{base_url}{PATH}", "POST", clash)
    assert response.code == 409


def as_sent(field: str, value: Any) -> Any:
    """`value` in `field`'s body shape: a one-item list for list fields."""
    return [value] if field in LISTS else value


@pytest.mark.parametrize("value", ["1" * 35, "1e999999999", "1e-999999999"])
@pytest.mark.parametrize("field", DECIMAL_VALUES or none_declared("decimal field"))
async def test_decimal_beyond_decimal128_is_422(base_url: str, field: str, value: str) -> None:
    body = {**new_{{ cookiecutter.resource_name }}(1), field: as_sent(field, value)}
    response = await send_json(f"{base_url}{PATH}", "POST", body)
    assert response.code == 422, response.body
    assert {path.split(".")[0] for path in error_paths(response)} == {field}
    response = await fetch(f"{base_url}{PATH}?{field}={value}")
    assert response.code == 422
    assert error_paths(response) == {field}


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 1e20])
@pytest.mark.parametrize("field", INTEGERS or none_declared("int field"))
async def test_int_beyond_int64_is_422(base_url: str, field: str, value: float) -> None:
    body = {**new_{{ cookiecutter.resource_name }}(1), field: as_sent(field, value)}
    response = await send_json(f"{base_url}{PATH}", "POST", body)
    assert response.code == 422, response.body
    assert {path.split(".")[0] for path in error_paths(response)} == {field}
    if isinstance(value, int):
        response = await fetch(f"{base_url}{PATH}?{field}={value}")
        assert response.code == 422
        assert error_paths(response) == {field}


@pytest.mark.parametrize("field", INTEGERS or none_declared("int field"))
async def test_integral_float_is_accepted_for_int(base_url: str, field: str) -> None:
    """JSON Schema (and so the OpenAPI document) calls 1.0 an integer."""
    body = new_{{ cookiecutter.resource_name }}(1)
    exact = body[field]
    as_float = [float(item) for item in exact] if field in LISTS else float(exact)
    created = await create(base_url, {**body, field: as_float})
    assert created[field] == exact
    assert json.dumps(created[field]) == json.dumps(exact)
    halves = [item + 0.5 for item in exact] if field in LISTS else exact + 0.5
    response = await send_json(f"{base_url}{PATH}", "POST", {**body, field: halves})
    assert response.code == 422


@pytest.mark.parametrize("field", CALENDAR or none_declared("date or datetime field"))
async def test_date_filter_rejects_a_timestamp(base_url: str, field: str) -> None:
    response = await fetch(f"{base_url}{PATH}?{field}=0")
    assert response.code == 422
    assert error_paths(response) == {field}


@pytest.mark.parametrize(
    ("field", "value"), MISWRITTEN_FILTERS or none_declared("typed filter", 2), ids=str
)
async def test_filter_takes_only_the_documented_form(base_url: str, field: str, value: str) -> None:
    response = await fetch(f"{base_url}{PATH}?{field}={as_query_value(value)}")
    assert response.code == 422, value
    assert error_paths(response) == {field}


@pytest.mark.parametrize("field", NOT_NULL or none_declared("required field"))
def test_patch_schema_does_not_offer_null_for_a_required_field(field: str) -> None:
    """The OpenAPI document says what the service does: null there is a 422."""
    schemas = build_openapi()["components"]["schemas"]
    patch = schemas["{{ cookiecutter.resource_name | pascal }}Patch"]["properties"][field]
    assert '"type": "null"' not in json.dumps(patch)
    assert "default" not in patch


def sort_key(field: str) -> Any:
    def key(item: dict[str, Any]) -> tuple[Any, ...]:
        value = item[field]
        if field in DECIMALS and value is not None:
            value = Decimal(value)
        return (value is not None, value if value is not None else 0, item["id"])

    return key


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("field", ["id", *SORTABLE])
async def test_sorted_pages_cover_everything_once_in_order(
    base_url: str, field: str, descending: bool
) -> None:
    created = []
    for n in range(7):
        body = new_{{ cookiecutter.resource_name }}(n)
        if field in OPTIONAL and n in (2, 5):
            body[field] = None
        created.append(await create(base_url, body))
    expected = sorted(created, key=sort_key(field), reverse=descending)
    sort = f"-{field}" if descending else field

    seen: list[dict[str, Any]] = []
    query = f"limit=2&sort={sort}"
    while True:
        response = await fetch(f"{base_url}{PATH}?{query}")
        assert response.code == 200, response.body
        page = json.loads(response.body)
        seen += page["{{ cookiecutter.collection_name }}"]
        if page["next"] is None:
            break
        query = f"limit=2&sort={sort}&after={page['next']}"
    assert seen == expected


async def test_cursor_from_another_sort_is_422(base_url: str) -> None:
    for n in range(3):
        await create(base_url, new_{{ cookiecutter.resource_name }}(n))
    page = json.loads((await fetch(f"{base_url}{PATH}?limit=1&sort=-id")).body)
    response = await fetch(f"{base_url}{PATH}?limit=1&sort=id&after={page['next']}")
    assert response.code == 422
    assert error_paths(response) == {"after"}


async def test_unknown_sort_is_422(base_url: str) -> None:
    unsortable = next((name for name in FIELDS if name not in SORTABLE), "nope")
    response = await fetch(f"{base_url}{PATH}?sort={unsortable}")
    assert response.code == 422
    assert error_paths(response) == {"sort"}
