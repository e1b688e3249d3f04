"""The CRUD routes of every resource, against the real database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bson import ObjectId
from support import CASES, Case, as_query_value, each, fetch, problem, send_json

from {{ cookiecutter.package_name }}.repository import Repository
from {{ cookiecutter.package_name }}.resources import RESOURCES


async def create(base_url: str, case: Case, n: int = 0) -> dict[str, Any]:
    response = await send_json(f"{base_url}{case.path}", "POST", case.new(n))
    assert response.code == 201, response.body
    created: dict[str, Any] = json.loads(response.body)
    return created


async def list_page(base_url: str, case: Case, query: str = "") -> dict[str, Any]:
    response = await fetch(f"{base_url}{case.path}?{query}")
    assert response.code == 200, response.body
    page: dict[str, Any] = json.loads(response.body)
    return page


def test_every_resource_served_has_a_case() -> None:
    """The tests run once per `Case`: a resource without one would go untested."""
    served = {resource.name: resource for resource in RESOURCES}
    cases = {case.name: case for case in CASES}
    for name, resource in served.items():
        case = cases.get(name)
        assert case is not None, (
            f"/{name} is served but not tested: add `new_{resource.singular}()` and a "
            f"`Case` for it to tests/support.py, and list the case in CASES"
        )
        assert case.singular == resource.singular, f"the Case of /{name}: its singular"
        assert case.fields == tuple(resource.create.model_fields), (
            f"the Case of /{name} in tests/support.py lists other fields than "
            f"{resource.create.__name__}: update its `fields` (and `new_{resource.singular}()`)"
        )
    unserved = sorted(cases.keys() - served.keys())
    assert not unserved, f"tests/support.py has cases for resources not in RESOURCES: {unserved}"


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_create_returns_201_with_location_and_the_stored_document(
    base_url: str, repositories: dict[str, Repository], case: Case
) -> None:
    body = case.new(1)
    response = await send_json(f"{base_url}{case.path}", "POST", body)

    assert response.code == 201
    assert response.headers["Content-Type"] == "application/json"
    created = json.loads(response.body)
    assert response.headers["Location"] == f"{case.path}/{created['id']}"
    assert created == {"id": created["id"], **json.loads(json.dumps(body))}
    stored = await repositories[case.name].collection.find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert set(stored) == {"_id", "_v", *case.fields}
    assert response.headers["ETag"] == f'"{stored["_v"]}"'


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_get_returns_the_document(base_url: str, case: Case) -> None:
    created = await create(base_url, case, 2)
    response = await fetch(f"{base_url}{case.path}/{created['id']}")
    assert response.code == 200
    assert json.loads(response.body) == created


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_unknown_and_malformed_ids_are_404(base_url: str, case: Case, method: str) -> None:
    created = await create(base_url, case)
    shouting = created["id"].upper()  # ObjectId() reads it; the API writes ids in lower case
    for id_text in (str(ObjectId()), "not-an-id", "0" * 23, "z" * 24, shouting, "a" * 12):
        body = json.dumps(case.new(0)) if method in ("PUT", "PATCH") else None
        headers = {"Content-Type": "application/json"} if body else None
        url = f"{base_url}{case.path}/{id_text}"
        response = await fetch(url, method, body=body, headers=headers)
        assert response.code == 404, (id_text, response.body)
        assert problem(response)["title"] == "Not Found"
        assert problem(response)["detail"] == f"No {case.singular} with id {id_text!r}."


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_put_replaces_the_whole_document(base_url: str, case: Case) -> None:
    created = await create(base_url, case, 1)
    replacement = case.new(7)
    url = f"{base_url}{case.path}/{created['id']}"
    response = await send_json(url, "PUT", replacement)
    assert response.code == 200
    expected = {"id": created["id"], **json.loads(json.dumps(replacement))}
    assert json.loads(response.body) == expected
    assert json.loads((await fetch(url)).body) == expected


@pytest.mark.parametrize(("case", "field"), each("fields", "field"))
async def test_patch_changes_only_the_named_field(base_url: str, case: Case, field: str) -> None:
    created = await create(base_url, case, 1)
    change = {field: json.loads(json.dumps(case.new(8)[field]))}
    response = await send_json(f"{base_url}{case.path}/{created['id']}", "PATCH", change)
    assert response.code == 200, response.body
    assert json.loads(response.body) == {**created, **change}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_delete_returns_204_and_the_document_is_gone(base_url: str, case: Case) -> None:
    created = await create(base_url, case, 1)
    url = f"{base_url}{case.path}/{created['id']}"
    response = await fetch(url, "DELETE")
    assert response.code == 204
    assert response.body == b""
    assert (await fetch(url)).code == 404
    assert (await fetch(url, "DELETE")).code == 404


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_pages_through_everything_once_in_creation_order(
    base_url: str, case: Case
) -> None:
    created = [await create(base_url, case, n) for n in range(7)]
    seen: list[dict[str, Any]] = []
    page = await list_page(base_url, case, "limit=3")
    pages = 1
    while page["next"] and pages < 10:  # a bug that ignores `after` must not loop forever
        seen += page[case.name]
        assert len(page[case.name]) == 3
        page = await list_page(base_url, case, f"limit=3&after={page['next']}")
        pages += 1
    seen += page[case.name]
    assert pages == 3
    assert seen == created


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_cursor_is_stable_under_concurrent_inserts(base_url: str, case: Case) -> None:
    first = [await create(base_url, case, n) for n in range(4)]
    page = await list_page(base_url, case, "limit=2")
    late = await create(base_url, case, 10)
    rest = await list_page(base_url, case, f"limit=10&after={page['next']}")
    assert page[case.name] + rest[case.name] == [*first, late]
    assert rest["next"] is None


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_defaults_to_50_per_page(base_url: str, case: Case) -> None:
    for n in range(51):
        await create(base_url, case, n)
    page = await list_page(base_url, case)
    assert len(page[case.name]) == 50
    assert page["next"] is not None


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_empty_collection_lists_nothing(base_url: str, case: Case) -> None:
    assert await list_page(base_url, case) == {case.name: [], "next": None}


@pytest.mark.parametrize(("case", "field"), each("fields", "field"))
async def test_list_filters_by_exact_typed_value(base_url: str, case: Case, field: str) -> None:
    created = [await create(base_url, case, n) for n in range(5)]
    value = created[3][field]
    if isinstance(value, list):  # a list field filters by membership
        wanted = value[0]
        expected = [item for item in created if wanted in item[field]]
    else:
        wanted = value
        expected = [item for item in created if item[field] == wanted]
    page = await list_page(base_url, case, f"{field}={as_query_value(wanted)}")
    assert page[case.name] == expected
    assert expected
