"""What the declared fields promise: constraints, defaults, exact types, uniqueness, sorting."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from bson import Binary, Decimal128, ObjectId
from bson.codec_options import CodecOptions
from support import (
    CASES,
    Case,
    as_query_value,
    as_sent,
    each,
    each_pair,
    error_paths,
    fetch,
    none_declared,
    problem,
    resource_of,
    send_json,
)

from {{ cookiecutter.package_name }}.openapi import build_openapi
from {{ cookiecutter.package_name }}.repository import Repository

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


async def create(base_url: str, case: Case, body: dict[str, Any]) -> dict[str, Any]:
    response = await send_json(f"{base_url}{case.path}", "POST", body)
    assert response.code == 201, response.body
    created: dict[str, Any] = json.loads(response.body)
    return created


@pytest.mark.parametrize(("case", "field", "value"), each_pair("violations", "constraint"))
async def test_constraint_violation_is_422_naming_the_field(
    base_url: str, case: Case, field: str, value: Any
) -> None:
    body = {**case.new(1), field: value}
    response = await send_json(f"{base_url}{case.path}", "POST", body)
    assert response.code == 422, (field, value)
    assert error_paths(response) == {field}
    created = await create(base_url, case, case.new(2))
    response = await send_json(f"{base_url}{case.path}/{created['id']}", "PATCH", {field: value})
    assert response.code == 422
    assert error_paths(response) == {field}


@pytest.mark.parametrize(("case", "field"), each("optional", "optional field"))
async def test_optional_field_may_be_null_or_absent(base_url: str, case: Case, field: str) -> None:
    as_null = await create(base_url, case, {**case.new(1), field: None})
    absent_body = case.new(2)
    del absent_body[field]
    absent = await create(base_url, case, absent_body)
    assert as_null[field] is None
    assert absent[field] is None or field in case.defaults


@pytest.mark.parametrize(("case", "field"), each("defaults", "default"))
async def test_default_fills_an_absent_field(base_url: str, case: Case, field: str) -> None:
    body = case.new(1)
    del body[field]
    created = await create(base_url, case, body)
    assert created[field] == case.defaults[field]
    fetched = json.loads((await fetch(f"{base_url}{case.path}/{created['id']}")).body)
    assert fetched[field] == case.defaults[field]


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_values_round_trip_with_their_bson_types(
    base_url: str, repositories: dict[str, Repository], case: Case
) -> None:
    body = case.new(3)
    created = await create(base_url, case, body)
    assert created == {"id": created["id"], **json.loads(json.dumps(body))}
    assert json.loads((await fetch(f"{base_url}{case.path}/{created['id']}")).body) == created

    collection = repositories[case.name].collection.with_options(codec_options=RAW)
    stored = await collection.find_one({})
    assert stored is not None
    for name in case.decimals:
        assert isinstance(stored[name], Decimal128)
        assert stored[name].to_decimal() == Decimal(body[name])
    for name in case.datetimes:
        assert isinstance(stored[name], datetime)
    for name in case.references:
        value = stored[name] if name in case.lists else [stored[name]]
        assert all(isinstance(item, ObjectId) for item in value), f"{name} should hold ObjectIds"
    for name, value in stored.items():
        if isinstance(value, Binary):
            assert value.subtype == 4, f"{name} should be a standard UUID"


@pytest.mark.parametrize(("case", "field"), each("datetimes", "datetime field"))
async def test_datetime_comes_back_as_the_same_instant_in_utc(
    base_url: str, case: Case, field: str
) -> None:
    moment = "2024-03-10T09:30:15.123456+02:00"
    created = await create(base_url, case, {**case.new(1), field: moment})
    assert created[field] == "2024-03-10T07:30:15.123000Z"


@pytest.mark.parametrize(("case", "field"), each("datetimes", "datetime field"))
@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"], ids=["10000", "0"]
)
async def test_datetime_outside_utc_years_is_422(
    base_url: str, case: Case, field: str, moment: str
) -> None:
    """The instant exists, but not in UTC between the years 1 and 9999, where BSON dates live."""
    body = {**case.new(1), field: moment}
    response = await send_json(f"{base_url}{case.path}", "POST", body)
    assert response.code == 422
    assert error_paths(response) == {field}
    filtered = await fetch(f"{base_url}{case.path}?{field}={quote(moment)}")
    assert filtered.code == 422


@pytest.mark.parametrize(("case", "field"), each("unique", "unique field"))
async def test_duplicate_unique_value_on_create_is_409(
    base_url: str, repositories: dict[str, Repository], case: Case, field: str
) -> None:
    first = await create(base_url, case, case.new(1))
    clash = {**case.new(2), field: first[field]}
    response = await send_json(f"{base_url}{case.path}", "POST", clash)
    assert response.code == 409
    assert problem(response)["title"] == "Conflict"
    assert problem(response)["detail"].startswith(f"Another {case.singular} already has this ")
    assert await repositories[case.name].collection.count_documents({}) == 1


@pytest.mark.parametrize(("case", "field"), each("unique", "unique field"))
async def test_conflict_names_the_field(
    base_url: str, on_ferretdb: bool, request: pytest.FixtureRequest, case: Case, field: str
) -> None:
    if on_ferretdb and len(case.unique) > 1:
        request.applymarker(pytest.mark.xfail(reason=FERRETDB_KEY_PATTERN, strict=True))
    first = await create(base_url, case, case.new(1))
    clash = {**case.new(2), field: first[field]}
    response = await send_json(f"{base_url}{case.path}", "POST", clash)
    assert error_paths(response) == {field}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(("case", "field"), each("unique", "unique field"))
async def test_duplicate_unique_value_on_replace_or_patch_is_409(
    base_url: str,
    on_ferretdb: bool,
    request: pytest.FixtureRequest,
    case: Case,
    field: str,
    method: str,
) -> None:
    if on_ferretdb:
        request.applymarker(pytest.mark.xfail(reason=FERRETDB_UPDATE_CONFLICT, strict=True))
    first = await create(base_url, case, case.new(1))
    second = await create(base_url, case, case.new(2))
    clash = {field: first[field]}
    body = {**case.new(2), **clash} if method == "PUT" else clash
    url = f"{base_url}{case.path}/{second['id']}"
    response = await send_json(url, method, body)
    assert response.code == 409
    fetched = json.loads((await fetch(url)).body)
    assert fetched == second


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_indexes_are_created_once_and_idempotently(
    repositories: dict[str, Repository], case: Case
) -> None:
    repository = repositories[case.name]
    await repository.ensure_indexes()
    info = await repository.collection.index_information()
    declared = {tuple(model.document["key"]) for model in repository.indexes}
    present = {tuple(key for key, _ in index["key"]) for index in info.values()}
    assert declared <= present
    unique = {index["key"][0][0] for index in info.values() if index.get("unique")}
    assert unique == set(case.unique)


@pytest.mark.parametrize(("case", "field"), each("optional_unique", "optional unique field"))
async def test_optional_unique_field_has_a_sparse_index(
    repositories: dict[str, Repository],
    on_ferretdb: bool,
    request: pytest.FixtureRequest,
    case: Case,
    field: str,
) -> None:
    """Documents without the field stay out of its unique index, so many may omit it."""
    if on_ferretdb:
        request.applymarker(pytest.mark.xfail(reason=FERRETDB_SPARSE, strict=True))
    info = await repositories[case.name].collection.index_information()
    unique = [index for index in info.values() if index.get("unique")]
    assert [index.get("sparse") for index in unique if index["key"][0][0] == field] == [True]


@pytest.mark.parametrize(("case", "field"), each("unique", "unique field"))
async def test_unique_field_has_a_sort_index(
    repositories: dict[str, Repository], case: Case, field: str
) -> None:
    """Pages sorted on a unique field are read in (field, _id) order; an index must serve it."""
    info = await repositories[case.name].collection.index_information()
    keys = [[key for key, _ in index["key"]] for index in info.values()]
    assert [field, "_id"] in keys
    assert field in case.sortable


@pytest.mark.parametrize(("case", "field"), each("optional_unique", "optional unique field"))
async def test_two_documents_may_omit_an_optional_unique_field(
    base_url: str, case: Case, field: str
) -> None:
    absent = case.new(1)
    del absent[field]
    also_absent = case.new(2)
    del also_absent[field]
    first = await create(base_url, case, absent)
    second = await create(base_url, case, also_absent)
    third = await create(base_url, case, {**case.new(3), field: None})
    assert first[field] is second[field] is third[field] is None
    given = await create(base_url, case, case.new(4))
    clash = {**case.new(5), field: given[field]}
    response = await send_json(f"{base_url}{case.path}", "POST", clash)
    assert response.code == 409


@pytest.mark.parametrize(("case", "field"), each("multikey", "indexed list field"))
async def test_indexed_list_filters_but_does_not_sort(
    base_url: str, repositories: dict[str, Repository], case: Case, field: str
) -> None:
    info = await repositories[case.name].collection.index_information()
    assert any(index["key"][0][0] == field for index in info.values()), info
    response = await fetch(f"{base_url}{case.path}?sort={field}")
    assert response.code == 422
    assert error_paths(response) == {"sort"}


@pytest.mark.parametrize(("case", "field"), each("emails", "email field"))
async def test_email_is_stored_in_lower_case(base_url: str, case: Case, field: str) -> None:
    body = case.new(1)
    lower = body[field]
    body[field] = [item.upper() for item in lower] if field in case.lists else lower.upper()
    created = await create(base_url, case, body)
    assert created[field] == lower
    shouting = (lower[0] if field in case.lists else lower).upper()
    response = await fetch(f"{base_url}{case.path}?{field}={as_query_value(shouting)}")
    assert response.code == 200, response.body
    found = json.loads(response.body)[case.name]
    assert [item["id"] for item in found] == [created["id"]]


@pytest.mark.parametrize(("case", "field"), each("emails", "unique email field", also="unique"))
async def test_email_is_unique_regardless_of_case(base_url: str, case: Case, field: str) -> None:
    first = await create(base_url, case, case.new(1))
    clash = {**case.new(2), field: first[field].upper()}
    response = await send_json(f"{base_url}{case.path}", "POST", clash)
    assert response.code == 409


@pytest.mark.parametrize("value", ["1" * 35, "1e999999999", "1e-999999999"])
@pytest.mark.parametrize(("case", "field"), each("decimal_values", "decimal field"))
async def test_decimal_beyond_decimal128_is_422(
    base_url: str, case: Case, field: str, value: str
) -> None:
    body = {**case.new(1), field: as_sent(case, field, value)}
    response = await send_json(f"{base_url}{case.path}", "POST", body)
    assert response.code == 422, response.body
    assert {path.split(".")[0] for path in error_paths(response)} == {field}
    response = await fetch(f"{base_url}{case.path}?{field}={value}")
    assert response.code == 422
    assert error_paths(response) == {field}


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 1e20])
@pytest.mark.parametrize(("case", "field"), each("integers", "int field"))
async def test_int_beyond_int64_is_422(base_url: str, case: Case, field: str, value: float) -> None:
    body = {**case.new(1), field: as_sent(case, field, value)}
    response = await send_json(f"{base_url}{case.path}", "POST", body)
    assert response.code == 422, response.body
    assert {path.split(".")[0] for path in error_paths(response)} == {field}
    if isinstance(value, int):
        response = await fetch(f"{base_url}{case.path}?{field}={value}")
        assert response.code == 422
        assert error_paths(response) == {field}


@pytest.mark.parametrize(("case", "field"), each("integers", "int field"))
async def test_integral_float_is_accepted_for_int(base_url: str, case: Case, field: str) -> None:
    """JSON Schema (and so the OpenAPI document) calls 1.0 an integer."""
    body = case.new(1)
    exact = body[field]
    as_float = [float(item) for item in exact] if field in case.lists else float(exact)
    created = await create(base_url, case, {**body, field: as_float})
    assert created[field] == exact
    assert json.dumps(created[field]) == json.dumps(exact)
    halves = [item + 0.5 for item in exact] if field in case.lists else exact + 0.5
    response = await send_json(f"{base_url}{case.path}", "POST", {**body, field: halves})
    assert response.code == 422


@pytest.mark.parametrize(("case", "field"), each("calendar", "date or datetime field"))
async def test_date_filter_rejects_a_timestamp(base_url: str, case: Case, field: str) -> None:
    response = await fetch(f"{base_url}{case.path}?{field}=0")
    assert response.code == 422
    assert error_paths(response) == {field}


@pytest.mark.parametrize(
    ("case", "field", "value"), each_pair("miswritten_filters", "typed filter")
)
async def test_filter_takes_only_the_documented_form(
    base_url: str, case: Case, field: str, value: str
) -> None:
    response = await fetch(f"{base_url}{case.path}?{field}={as_query_value(value)}")
    assert response.code == 422, value
    assert error_paths(response) == {field}


@pytest.mark.parametrize(("case", "field"), each("not_null", "required field"))
def test_patch_schema_does_not_offer_null_for_a_required_field(case: Case, field: str) -> None:
    """The OpenAPI document says what the service does: null there is a 422."""
    schemas = build_openapi()["components"]["schemas"]
    patch = schemas[resource_of(case).patch.__name__]["properties"][field]
    assert '"type": "null"' not in json.dumps(patch)
    assert "default" not in patch


def sort_key(case: Case, field: str) -> Any:
    def key(item: dict[str, Any]) -> tuple[Any, ...]:
        value = item[field]
        if field in case.decimals and value is not None:
            value = Decimal(value)
        return (value is not None, value if value is not None else 0, item["id"])

    return key


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize(("case", "field"), each("sort_fields", "sort"))
async def test_sorted_pages_cover_everything_once_in_order(
    base_url: str, case: Case, field: str, descending: bool
) -> None:
    created = []
    for n in range(7):
        body = case.new(n)
        if field in case.optional and n in (2, 5):
            body[field] = None
        created.append(await create(base_url, case, body))
    expected = sorted(created, key=sort_key(case, field), reverse=descending)
    sort = f"-{field}" if descending else field

    seen: list[dict[str, Any]] = []
    query = f"limit=2&sort={sort}"
    while True:
        response = await fetch(f"{base_url}{case.path}?{query}")
        assert response.code == 200, response.body
        page = json.loads(response.body)
        seen += page[case.name]
        if page["next"] is None:
            break
        query = f"limit=2&sort={sort}&after={page['next']}"
    assert seen == expected


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_cursor_from_another_sort_is_422(base_url: str, case: Case) -> None:
    for n in range(3):
        await create(base_url, case, case.new(n))
    page = json.loads((await fetch(f"{base_url}{case.path}?limit=1&sort=-id")).body)
    response = await fetch(f"{base_url}{case.path}?limit=1&sort=id&after={page['next']}")
    assert response.code == 422
    assert error_paths(response) == {"after"}


@pytest.mark.parametrize("after", ["", "x", "."])
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_an_empty_or_malformed_cursor_is_422(base_url: str, case: Case, after: str) -> None:
    response = await fetch(f"{base_url}{case.path}?after={after}")
    assert response.code == 422
    assert error_paths(response) == {"after"}


@pytest.mark.parametrize(
    ("case", "other"),
    [
        pytest.param(case, other, id=f"{other.name}-on-{case.name}")
        for case in CASES
        for other in CASES
        if other is not case
    ]
    or none_declared("second resource", 2),
)
async def test_cursor_from_another_resource_is_422(base_url: str, case: Case, other: Case) -> None:
    """A cursor holds a position in one list: another resource's means nothing here."""
    for n in range(2):
        await create(base_url, other, other.new(n))
        await create(base_url, case, case.new(n))
    page = json.loads((await fetch(f"{base_url}{other.path}?limit=1")).body)
    response = await fetch(f"{base_url}{case.path}?limit=1&after={page['next']}")
    assert response.code == 422
    assert error_paths(response) == {"after"}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_unknown_sort_is_422(base_url: str, case: Case) -> None:
    unsortable = next((name for name in case.fields if name not in case.sortable), "nope")
    response = await fetch(f"{base_url}{case.path}?sort={unsortable}")
    assert response.code == 422
    assert error_paths(response) == {"sort"}
