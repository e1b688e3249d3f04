"""The CRUD routes of `/{{ cookiecutter.collection_name }}`, against the real database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bson import ObjectId
from support import FIELDS, as_query_value, fetch, new_{{ cookiecutter.resource_name }}, problem, send_json

from {{ cookiecutter.package_name }}.repository import {{ cookiecutter.resource_name | pascal }}Repository

PATH = "/{{ cookiecutter.collection_name }}"


async def create(base_url: str, n: int = 0) -> dict[str, Any]:
    response = await send_json(f"{base_url}{PATH}", "POST", new_{{ cookiecutter.resource_name }}(n))
    assert response.code == 201, response.body
    created: dict[str, Any] = json.loads(response.body)
    return created


async def list_page(base_url: str, query: str = "") -> dict[str, Any]:
    response = await fetch(f"{base_url}{PATH}?{query}")
    assert response.code == 200, response.body
    page: dict[str, Any] = json.loads(response.body)
    return page


async def test_create_returns_201_with_location_and_the_stored_document(
    base_url: str, {{ cookiecutter.collection_name }}: {{ cookiecutter.resource_name | pascal }}Repository
) -> None:
    body = new_{{ cookiecutter.resource_name }}(1)
    response = await send_json(f"{base_url}{PATH}", "POST", body)

    assert response.code == 201
    assert response.headers["Content-Type"] == "application/json"
    created = json.loads(response.body)
    assert response.headers["Location"] == f"{PATH}/{created['id']}"
    assert created == {"id": created["id"], **json.loads(json.dumps(body))}
    stored = await {{ cookiecutter.collection_name }}.collection.find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert set(stored) == {"_id", "_v", *FIELDS}
    assert response.headers["ETag"] == f'"{stored["_v"]}"'


async def test_get_returns_the_{{ cookiecutter.resource_name }}(base_url: str) -> None:
    created = await create(base_url, 2)
    response = await fetch(f"{base_url}{PATH}/{created['id']}")
    assert response.code == 200
    assert json.loads(response.body) == created


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_unknown_and_malformed_ids_are_404(base_url: str, method: str) -> None:
    for id_text in (str(ObjectId()), "not-an-id", "0" * 23, "z" * 24):
        body = json.dumps(new_{{ cookiecutter.resource_name }}(0)) if method in ("PUT", "PATCH") else None
        headers = {"Content-Type": "application/json"} if body else None
        response = await fetch(f"{base_url}{PATH}/{id_text}", method, body=body, headers=headers)
        assert response.code == 404, (id_text, response.body)
        assert problem(response)["title"] == "Not Found"


async def test_put_replaces_the_whole_document(base_url: str) -> None:
    created = await create(base_url, 1)
    replacement = new_{{ cookiecutter.resource_name }}(7)
    response = await send_json(f"{base_url}{PATH}/{created['id']}", "PUT", replacement)
    assert response.code == 200
    expected = {"id": created["id"], **json.loads(json.dumps(replacement))}
    assert json.loads(response.body) == expected
    assert json.loads((await fetch(f"{base_url}{PATH}/{created['id']}")).body) == expected


@pytest.mark.parametrize("field", FIELDS)
async def test_patch_changes_only_the_named_field(base_url: str, field: str) -> None:
    created = await create(base_url, 1)
    change = {field: json.loads(json.dumps(new_{{ cookiecutter.resource_name }}(8)[field]))}
    response = await send_json(f"{base_url}{PATH}/{created['id']}", "PATCH", change)
    assert response.code == 200, response.body
    assert json.loads(response.body) == {**created, **change}


async def test_delete_returns_204_and_the_{{ cookiecutter.resource_name }}_is_gone(base_url: str) -> None:
    created = await create(base_url, 1)
    response = await fetch(f"{base_url}{PATH}/{created['id']}", "DELETE")
    assert response.code == 204
    assert response.body == b""
    assert (await fetch(f"{base_url}{PATH}/{created['id']}")).code == 404
    assert (await fetch(f"{base_url}{PATH}/{created['id']}", "DELETE")).code == 404


async def test_list_pages_through_everything_once_in_creation_order(base_url: str) -> None:
    created = [await create(base_url, n) for n in range(7)]
    seen: list[dict[str, Any]] = []
    page = await list_page(base_url, "limit=3")
    pages = 1
    while page["next"] and pages < 10:  # a bug that ignores `after` must not loop forever
        seen += page["{{ cookiecutter.collection_name }}"]
        assert len(page["{{ cookiecutter.collection_name }}"]) == 3
        page = await list_page(base_url, f"limit=3&after={page['next']}")
        pages += 1
    seen += page["{{ cookiecutter.collection_name }}"]
    assert pages == 3
    assert seen == created


async def test_list_cursor_is_stable_under_concurrent_inserts(base_url: str) -> None:
    first = [await create(base_url, n) for n in range(4)]
    page = await list_page(base_url, "limit=2")
    late = await create(base_url, 10)
    rest = await list_page(base_url, f"limit=10&after={page['next']}")
    assert page["{{ cookiecutter.collection_name }}"] + rest["{{ cookiecutter.collection_name }}"] == [*first, late]
    assert rest["next"] is None


async def test_list_defaults_to_50_per_page(base_url: str) -> None:
    for n in range(51):
        await create(base_url, n)
    page = await list_page(base_url)
    assert len(page["{{ cookiecutter.collection_name }}"]) == 50
    assert page["next"] is not None


async def test_empty_collection_lists_nothing(base_url: str) -> None:
    assert await list_page(base_url) == {"{{ cookiecutter.collection_name }}": [], "next": None}


@pytest.mark.parametrize("field", FIELDS)
async def test_list_filters_by_exact_typed_value(base_url: str, field: str) -> None:
    created = [await create(base_url, n) for n in range(5)]
    value = created[3][field]
    if isinstance(value, list):  # a list field filters by membership
        wanted = value[0]
        expected = [item for item in created if wanted in item[field]]
    else:
        wanted = value
        expected = [item for item in created if item[field] == wanted]
    page = await list_page(base_url, f"{field}={as_query_value(wanted)}")
    assert page["{{ cookiecutter.collection_name }}"] == expected
    assert expected
