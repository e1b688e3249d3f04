"""References: fields holding the ids of another resource's documents (or of their own).

MongoDB has no foreign keys: the service checks that a reference is shaped like an id,
never that the document it names exists.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from bson import ObjectId
from support import Case, as_query_value, as_sent, case_named, each, error_paths, fetch, send_json

from {{ cookiecutter.package_name }}.repository import Repository

REFERENCES = each("references", "reference field")
# What a client might send instead of 24 lower-case hex digits.
MALFORMED: list[Any] = [
    pytest.param("6650F1C2A3B4C5D6E7F80912", id="upper-case"),
    pytest.param("6650f1c2a3b4c5d6e7f8091", id="23-digits"),
    pytest.param("6650f1c2a3b4c5d6e7f809123", id="25-digits"),
    pytest.param("6650f1c2a3b4c5d6e7f8091g", id="not-hex"),
    pytest.param(12345, id="number"),
    pytest.param({"$oid": "6650f1c2a3b4c5d6e7f80912"}, id="extended-json"),
]


async def create(base_url: str, case: Case, body: dict[str, Any]) -> dict[str, Any]:
    response = await send_json(f"{base_url}{case.path}", "POST", body)
    assert response.code == 201, response.body
    created: dict[str, Any] = json.loads(response.body)
    return created


async def create_target(base_url: str, case: Case, field: str, n: int) -> str:
    """The id of a new document of the resource `field` refers to, created through its API."""
    target = case_named(case.references[field])
    created = await create(base_url, target, target.new(n))
    return str(created["id"])


def holding(case: Case, field: str, n: int, id_: str) -> Any:
    """Document `n`'s value of `field`, referring to `id_` (a list holds it last)."""
    if field not in case.lists:
        return id_
    return [*case.new(n)[field][1:], id_]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize(("case", "field"), REFERENCES)
async def test_reference_is_stored_as_an_object_id_and_returned_as_hex(
    base_url: str, repositories: dict[str, Repository], case: Case, field: str, method: str
) -> None:
    target = await create_target(base_url, case, field, 100)
    value = holding(case, field, 1, target)
    if method == "POST":
        response = await send_json(f"{base_url}{case.path}", "POST", {**case.new(1), field: value})
    else:
        existing = await create(base_url, case, case.new(1))
        body = {**case.new(1), field: value} if method == "PUT" else {field: value}
        response = await send_json(f"{base_url}{case.path}/{existing['id']}", method, body)

    assert response.code in (200, 201), response.body
    returned = json.loads(response.body)
    assert returned[field] == value
    fetched = await fetch(f"{base_url}{case.path}/{returned['id']}")
    assert json.loads(fetched.body)[field] == value
    stored = await repositories[case.name].collection.find_one({"_id": ObjectId(returned["id"])})
    assert stored is not None
    assert stored[field] == (
        [ObjectId(item) for item in value] if field in case.lists else ObjectId(target)
    )


@pytest.mark.parametrize("value", MALFORMED)
@pytest.mark.parametrize(("case", "field"), REFERENCES)
async def test_malformed_reference_is_422_naming_the_field(
    base_url: str, case: Case, field: str, value: Any
) -> None:
    body = {**case.new(1), field: as_sent(case, field, value)}
    response = await send_json(f"{base_url}{case.path}", "POST", body)
    assert response.code == 422, response.body
    assert {path.split(".")[0] for path in error_paths(response)} == {field}
    created = await create(base_url, case, case.new(2))
    change = {field: as_sent(case, field, value)}
    response = await send_json(f"{base_url}{case.path}/{created['id']}", "PATCH", change)
    assert response.code == 422, response.body
    assert {path.split(".")[0] for path in error_paths(response)} == {field}


@pytest.mark.parametrize(("case", "field"), REFERENCES)
async def test_reference_to_a_missing_document_is_accepted(
    base_url: str, case: Case, field: str
) -> None:
    """Only the shape is checked: no document anywhere has this id."""
    value = holding(case, field, 1, str(ObjectId()))
    created = await create(base_url, case, {**case.new(1), field: value})
    assert created[field] == value
    fetched = await fetch(f"{base_url}{case.path}/{created['id']}")
    assert json.loads(fetched.body)[field] == value


@pytest.mark.parametrize(("case", "field"), REFERENCES)
async def test_list_filters_by_reference(base_url: str, case: Case, field: str) -> None:
    """`?<field>=<id>` finds the documents referring to it (a list field: holding it)."""
    wanted = await create_target(base_url, case, field, 100)
    other = await create_target(base_url, case, field, 101)
    # A unique reference lets one document refer to each target; others may share one.
    ids = [wanted, other] if field in case.unique else [wanted, other, wanted, other]
    created = [
        await create(base_url, case, {**case.new(n), field: holding(case, field, n, id_)})
        for n, id_ in enumerate(ids)
    ]
    if field in case.optional:
        await create(base_url, case, {**case.new(4), field: None})

    for id_, expected in ((wanted, created[0::2]), (other, created[1::2])):
        response = await fetch(f"{base_url}{case.path}?{field}={id_}")
        assert response.code == 200, response.body
        assert json.loads(response.body)[case.name] == expected


@pytest.mark.parametrize("value", MALFORMED)
@pytest.mark.parametrize(("case", "field"), REFERENCES)
async def test_malformed_reference_filter_is_422(
    base_url: str, case: Case, field: str, value: Any
) -> None:
    response = await fetch(f"{base_url}{case.path}?{field}={as_query_value(value)}")
    assert response.code == 422, response.body
    assert error_paths(response) == {field}


@pytest.mark.parametrize(("case", "field"), REFERENCES)
async def test_reference_sorts_only_when_marked(base_url: str, case: Case, field: str) -> None:
    """Every reference is indexed for its filter; only `!index` or `!unique` make it a sort."""
    response = await fetch(f"{base_url}{case.path}?sort=-{field}")
    assert response.code == (200 if field in case.sortable else 422), response.body


@pytest.mark.parametrize(("case", "field"), REFERENCES)
async def test_reference_field_has_an_index_starting_with_it(
    repositories: dict[str, Repository], case: Case, field: str
) -> None:
    """`?<field>=<id>` must not scan the collection."""
    info = await repositories[case.name].collection.index_information()
    assert any(index["key"][0][0] == field for index in info.values()), info
