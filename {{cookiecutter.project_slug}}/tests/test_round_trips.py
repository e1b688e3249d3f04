"""Every request costs at most one database round trip, counted by a command listener.

The listener is registered with PyMongo for the whole run when this module is collected, so
every client the tests make (the service's included, with either driver) reports to it.
Refusals that need no data (a malformed id, a body that fails validation, a missing
credential, a route that does not exist) and the health, schema, docs and preflight routes
cost none.
"""
{%- set auth = cookiecutter.auth != "none" %}

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from bson import ObjectId
from pymongo import monitoring
from support import CASES, Case, fetch, resource_of, send_json
from tornado.httpclient import HTTPResponse

from {{ cookiecutter.package_name }}.repository import VERSION, Repository


class Commands(monitoring.CommandListener):
    """The names of the commands started, in order."""

    def __init__(self) -> None:
        self.started_names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.started_names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COMMANDS = Commands()
monitoring.register(COMMANDS)


Request = Callable[[], Awaitable[HTTPResponse]]


async def commands_of(request: Request) -> tuple[HTTPResponse, list[str]]:
    """The response to `request`, and the commands the service sent to answer it."""
    before = len(COMMANDS.started_names)
    response = await request()
    return response, COMMANDS.started_names[before:]


async def create(base_url: str, case: Case, n: int = 1) -> tuple[str, str]:
    response = await send_json(f"{base_url}{case.path}", "POST", case.new(n))
    assert response.code == 201, response.body
    return f"{base_url}{response.headers['Location']}", response.headers["ETag"]


def first_field(case: Case, n: int) -> dict[str, Any]:
    return dict([next(iter(case.new(n).items()))])


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_each_resource_route_makes_exactly_one_round_trip(base_url: str, case: Case) -> None:
    url, tag = await create(base_url, case)
    stale = '"0123456789abcdef01234567"'
    collection = f"{base_url}{case.path}"
    requests: list[tuple[str, Request, int, list[str]]] = [
        ("create", lambda: send_json(collection, "POST", case.new(2)), 201, ["insert"]),
        ("list", lambda: fetch(collection), 200, ["find"]),
        ("read", lambda: fetch(url), 200, ["find"]),
        ("head", lambda: fetch(url, "HEAD"), 200, ["find"]),
        ("not modified", lambda: fetch(url, headers={"If-None-Match": tag}), 304, ["find"]),
        ("unknown id", lambda: fetch(f"{collection}/{ObjectId()}"), 404, ["find"]),
        ("replace", lambda: send_json(url, "PUT", case.new(3)), 200, ["findAndModify"]),
        ("update", lambda: send_json(url, "PATCH", first_field(case, 4)), 200, ["findAndModify"]),
        (
            "stale If-Match",
            lambda: send_json(url, "PATCH", first_field(case, 5), headers={"If-Match": stale}),
            412,
            ["findAndModify"],
        ),
        ("delete", lambda: fetch(url, "DELETE"), 204, ["delete"]),
    ]
    for name, request, status, expected in requests:
        response, sent = await commands_of(request)
        assert response.code == status, (name, response.body)
        assert sent == expected, name


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_page_of_a_thousand_is_one_round_trip(
    base_url: str, repositories: dict[str, Repository], case: Case
) -> None:
    """The whole page comes in the first batch; the server's default batch is 101."""
    model = resource_of(case).create
    collection = repositories[case.name].collection
    await collection.drop_indexes()  # a narrow unique field repeats its values past 100
    stored = [
        {**model.model_validate_json(json.dumps(case.new(n))).model_dump(), VERSION: ObjectId()}
        for n in range(150)
    ]
    await collection.insert_many(stored)

    response, sent = await commands_of(lambda: fetch(f"{base_url}{case.path}?limit=1000"))

    assert response.code == 200, response.body
    assert len(json.loads(response.body)[case.name]) == 150
    assert sent == ["find"]


async def test_refusals_and_service_routes_make_no_round_trip(base_url: str) -> None:
    case = CASES[0]
    item = f"{base_url}{case.path}/{ObjectId()}"
    collection = f"{base_url}{case.path}"
    requests: list[tuple[str, Request, int]] = [
        ("malformed id", lambda: fetch(f"{collection}/not-an-id"), 404),
        ("invalid body", lambda: send_json(collection, "POST", {"unknown": 1}), 422),
        ("invalid query", lambda: fetch(f"{collection}?limit=0"), 422),
{%- if auth %}
        ("no credential", lambda: fetch(item, authorized=False), 401),
{%- endif %}
        ("no route", lambda: fetch(f"{base_url}/no/such/route"), 404),
        ("preflight", lambda: fetch(item, "OPTIONS"), 204),
        ("liveness", lambda: fetch(f"{base_url}/healthz"), 200),
        ("schema", lambda: fetch(f"{base_url}/openapi.json"), 200),
        ("docs", lambda: fetch(f"{base_url}/docs"), 200),
    ]
    for name, request, status in requests:
        response, sent = await commands_of(request)
        assert response.code == status, (name, response.body)
        assert sent == [], name


async def test_readiness_is_one_ping(base_url: str) -> None:
    response, sent = await commands_of(lambda: fetch(f"{base_url}/readyz"))
    assert response.code == 200
    assert sent == ["ping"]
