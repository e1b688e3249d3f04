"""Details the other suites leave loose, each pinned because a mutation test showed a gap.

Request counting for shutdown, body-size boundaries, the readiness probe's deadline,
cursor key rotation, and the exact problem documents clients program against.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from bson import ObjectId
from pydantic import SecretStr
from support import (
    CASES,
    Case,
    ServeApp,
    as_query_value,
    fetch,
    problem,
    raw_authorization,
    raw_exchange,
    send_json,
    with_settings,
)

from {{ cookiecutter.package_name }}.context import ApiContext, Readiness
from {{ cookiecutter.package_name }}.database import (
    AsyncMongoClient,
    Document,
    close,
    connect,
)
from {{ cookiecutter.package_name }}.repository import open_repositories
from {{ cookiecutter.package_name }}.settings import Settings

# Counting, framing, body limits and cursor keys are the same for every resource: one serves.
CASE = CASES[0]
LOGGER = "{{ cookiecutter.package_name }}.handlers"
# HTTP/1.1 keeps the connection open unless the server says otherwise.
KEEP_ALIVE_GET = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
DEADLINE = 10.0


async def eventually(condition: Callable[[], bool], seconds: float = DEADLINE) -> None:
    """Poll until `condition` holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def create(base_url: str, n: int, case: Case = CASE) -> dict[str, Any]:
    response = await send_json(f"{base_url}{case.path}", "POST", case.new(n))
    assert response.code == 201, response.body
    created: dict[str, Any] = json.loads(response.body)
    return created


def raw_post(body: bytes, *headers: str) -> bytes:
    """A raw POST to the collection with exactly the given framing headers (and a credential)."""
    lines = [f"POST {CASE.path} HTTP/1.1", "Host: test", "Connection: close", *headers]
    head = "\r\n".join(lines) + "\r\n" + raw_authorization() + "\r\n"
    return head.encode("latin-1") + body


def chunked(body: bytes, size: int = 1024) -> bytes:
    pieces = [body[start : start + size] for start in range(0, len(body), size)]
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"


def body_of_size(size: int) -> bytes:
    """A valid create body padded with whitespace to exactly `size` bytes."""
    body = json.dumps(CASE.new(3)).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def selects(value: Any, stored: Any) -> bool:
    """Whether filtering on `value` selects a document whose field holds `stored`."""
    return value in stored if isinstance(stored, list) else bool(value == stored)


# Requests in flight: shutdown waits for this count, so it must come back to exactly zero.


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", CASE.path, None, 200),
        ("DELETE", CASE.path, None, 405),
        ("GET", "/no/such/route", None, 404),
        ("POST", CASE.path, "not json", 400),
    ],
)
async def test_every_request_leaves_the_in_flight_count_at_zero(
    base_url: str,
    context: ApiContext,
    method: str,
    path: str,
    body: str | None,
    status: int,
) -> None:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    response = await fetch(f"{base_url}{path}", method, body=body, headers=headers)
    assert response.code == status
    assert context.in_flight.count == 0


async def test_a_client_that_hangs_up_is_counted_out_once(
    serve_app: ServeApp,
    unresponsive_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Hanging up ends the count at once; the handler finishing later must not count again."""
    client = connect(unresponsive_settings)
    context = ApiContext(
        settings=unresponsive_settings,
        client=client,
        repositories=open_repositories(client, unresponsive_settings),
        readiness=Readiness(),
    )
    host, port = serve_app(context).removeprefix("http://").split(":")
    path = f"{CASE.path}/{ObjectId()}"
    caplog.set_level(logging.WARNING, logger=LOGGER)
    try:
        _, writer = await asyncio.open_connection(host, int(port))
        request = (
            f"GET {path} HTTP/1.1\r\nHost: test\r\nX-Request-ID: hang-up-1\r\n"
            f"{raw_authorization()}\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        await eventually(lambda: context.in_flight.count == 1)
        writer.close()
        await eventually(lambda: context.in_flight.count == 0)
        await eventually(lambda: "request_id=hang-up-1" in caplog.text)
        assert context.in_flight.count == 0
        assert f"GET {path} failed with 503 (request_id=hang-up-1)" in caplog.text
    finally:
        await close(client)


# Draining and readiness: what load balancers see.


async def test_draining_answers_503_shutting_down_and_closes_connections(
    base_url: str, context: ApiContext
) -> None:
    context.readiness.draining = True
    response = await fetch(f"{base_url}/readyz")
    assert response.code == 503
    assert json.loads(response.body) == {"status": "shutting down"}
    kept_alive = await raw_exchange(base_url, KEEP_ALIVE_GET.encode())
    assert kept_alive.status == 200
    assert kept_alive.headers["connection"] == "close"


async def test_readyz_is_503_creating_indexes_until_they_exist(
    base_url: str, context: ApiContext
) -> None:
    context.readiness.building.add(CASES[-1].name)
    response = await fetch(f"{base_url}/readyz")
    assert response.code == 503
    assert json.loads(response.body) == {"status": "creating indexes"}
    kept_alive = await raw_exchange(base_url, KEEP_ALIVE_GET.encode())
    assert "connection" not in kept_alive.headers


async def test_readyz_gives_up_on_a_hung_database_within_two_seconds(
    serve_app: ServeApp, unresponsive_settings: Settings
) -> None:
    """A probe must answer before the load balancer's own timeout, whatever MONGODB_TIMEOUT_MS."""
    settings = unresponsive_settings.model_copy(update={"mongodb_timeout_ms": 10_000})
    client = connect(settings)
    context = ApiContext(
        settings=settings,
        client=client,
        repositories=open_repositories(client, settings),
        readiness=Readiness(),
    )
    try:
        started = time.monotonic()
        response = await fetch(f"{serve_app(context)}/readyz", request_timeout=30)
        elapsed = time.monotonic() - started
    finally:
        await close(client)
    assert response.code == 503
    assert json.loads(response.body) == {"status": "unavailable"}
    assert 1.5 < elapsed < 2.8


# Body size: MAX_BODY_BYTES is allowed, one byte more is not, however the body is framed.


@pytest.mark.parametrize("framing", ["declared", "chunked"])
async def test_a_body_of_exactly_the_limit_is_accepted(
    base_url: str, context: ApiContext, framing: str
) -> None:
    body = body_of_size(context.settings.max_body_bytes)
    if framing == "declared":
        request = raw_post(body, "Content-Type: application/json", f"Content-Length: {len(body)}")
    else:
        request = raw_post(
            chunked(body), "Content-Type: application/json", "Transfer-Encoding: chunked"
        )
    response = await raw_exchange(base_url, request)
    assert response.status == 201, response.body


@pytest.mark.parametrize("framing", ["declared", "chunked", "declared-with-expect"])
async def test_one_byte_over_the_limit_is_413_naming_the_limit(
    base_url: str, context: ApiContext, framing: str
) -> None:
    limit = context.settings.max_body_bytes
    body = body_of_size(limit + 1)
    headers = ["Content-Type: application/json"]
    if framing == "chunked":
        request = raw_post(chunked(body), *headers, "Transfer-Encoding: chunked")
    elif framing == "declared":
        request = raw_post(body, *headers, f"Content-Length: {len(body)}")
    else:
        request = raw_post(b"", *headers, f"Content-Length: {len(body)}", "Expect: 100-continue")
    response = await raw_exchange(base_url, request)
    assert response.status == 413
    assert response.problem()["detail"] == f"The body is larger than the limit of {limit} bytes."


@pytest.mark.parametrize(("method", "length"), [("GET", "LIMIT+1"), ("POST", "70000000")])
async def test_a_declared_length_too_large_to_read_is_413_at_once(
    base_url: str, context: ApiContext, method: str, length: str
) -> None:
    """Nothing of the body is sent: the 413 must come without waiting for it."""
    limit = context.settings.max_body_bytes
    declared = limit + 1 if length == "LIMIT+1" else int(length)
    request = (
        f"{method} {CASE.path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n{raw_authorization()}\r\n"
    )
    response = await raw_exchange(base_url, request.encode())
    assert response.status == 413
    assert response.problem()["detail"] == f"The body is larger than the limit of {limit} bytes."


async def test_a_repeated_identical_content_length_is_accepted(base_url: str) -> None:
    body = json.dumps(CASE.new(5)).encode()
    request = raw_post(
        body, "Content-Type: application/json", f"Content-Length: {len(body)}, {len(body)}"
    )
    response = await raw_exchange(base_url, request)
    assert response.status == 201, response.body


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json; charset=utf-8", 201),
        ("Application/JSON ; charset=UTF-8", 201),
        (None, 415),
    ],
)
async def test_the_media_type_is_read_without_its_parameters(
    base_url: str, content_type: str | None, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps(CASE.new(6))
    response = await fetch(f"{base_url}{CASE.path}", "POST", body=body, headers=headers)
    assert response.code == status, response.body
    if status == 415:
        assert problem(response)["detail"] == "Send the body as application/json."


async def test_a_body_without_content_type_is_415(base_url: str) -> None:
    """Raw, because client libraries add a default Content-Type to a body."""
    body = json.dumps(CASE.new(7)).encode()
    response = await raw_exchange(base_url, raw_post(body, f"Content-Length: {len(body)}"))
    assert response.status == 415
    assert response.problem()["detail"] == "Send the body as application/json."


# Query strings.


async def test_a_cache_buster_does_not_hide_the_parameters_after_it(base_url: str) -> None:
    response = await fetch(f"{base_url}{CASE.path}?_=1700000000&limit=0")
    assert response.code == 422
    assert [error["path"] for error in problem(response)["errors"]] == ["limit"]


async def test_a_repeated_parameter_is_422_naming_it(base_url: str) -> None:
    response = await fetch(f"{base_url}{CASE.path}?limit=1&limit=2")
    assert response.code == 422
    body = problem(response)
    assert body["detail"] == "The query is invalid."
    assert body["errors"] == [
        {"path": "limit", "message": "give this parameter once", "type": "repeated"}
    ]


async def test_a_query_that_is_not_utf8_is_400(base_url: str) -> None:
    response = await fetch(f"{base_url}{CASE.path}?{CASE.fields[0]}=%ff")
    assert response.code == 400
    assert problem(response)["detail"] == "The query string is not valid UTF-8."


# Pages and cursors.


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_an_exactly_full_page_has_no_next(base_url: str, case: Case) -> None:
    created = [await create(base_url, n, case) for n in range(3)]
    response = await fetch(f"{base_url}{case.path}?limit=3")
    assert json.loads(response.body) == {case.name: created, "next": None}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_filters_still_apply_after_the_cursor(base_url: str, case: Case) -> None:
    first, *later = [await create(base_url, n, case) for n in range(3)]
    page = json.loads((await fetch(f"{base_url}{case.path}?limit=1")).body)
    assert page[case.name] == [first]
    field = case.fields[0]
    value = first[field][0] if isinstance(first[field], list) else first[field]
    query = f"limit=5&after={page['next']}&{field}={as_query_value(value)}"
    response = await fetch(f"{base_url}{case.path}?{query}")
    assert response.code == 200, response.body
    # Usually none: a bool, an enum or a narrow range can give later documents the same value.
    matching = [doc for doc in later if selects(value, doc[field])]
    assert json.loads(response.body) == {case.name: matching, "next": None}


async def test_cursors_are_signed_with_cursor_secret_and_survive_rotation(
    serve_app: ServeApp, context: ApiContext
) -> None:
    old = serve_app(with_settings(context, cursor_secret=SecretStr("old-key")))
    rotated = serve_app(with_settings(context, cursor_secret=SecretStr("new-key, old-key")))
    other = serve_app(with_settings(context, cursor_secret=SecretStr("new-key")))
    created = [await create(old, n) for n in range(2)]
    cursor = json.loads((await fetch(f"{old}{CASE.path}?limit=1")).body)["next"]

    resumed = await fetch(f"{rotated}{CASE.path}?limit=1&after={cursor}")
    assert json.loads(resumed.body) == {CASE.name: created[1:], "next": None}
    refused = await fetch(f"{other}{CASE.path}?limit=1&after={cursor}")
    assert refused.code == 422
    body = problem(refused)
    assert body["detail"] == "The query is invalid."
    assert body["errors"] == [
        {"path": "after", "message": "not a cursor for this sort", "type": "cursor"}
    ]


# One document: 404 and 412 choices, and problem documents that name the resource.


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_an_unknown_id_is_404_naming_it_while_others_exist(
    base_url: str,
    client: AsyncMongoClient[Document],
    settings: Settings,
    case: Case,
    method: str,
) -> None:
    await create(base_url, 1, case)
    stored = client[settings.mongodb_database][case.name]
    assert await stored.count_documents({}) == 1
    for id_text in (str(ObjectId()), "not-an-id"):
        body = case.new(2)
        if method == "PATCH":
            body = dict([next(iter(body.items()))])
        url = f"{base_url}{case.path}/{id_text}"
        if method in ("PUT", "PATCH"):
            response = await send_json(url, method, body)
        else:
            response = await fetch(url, method)
        assert response.code == 404
        expected = f"No {case.singular} with id {id_text!r}."
        assert problem(response)["detail"] == expected
    assert await stored.count_documents({}) == 1


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_an_if_match_tag_of_24_non_hex_characters_is_412_naming_the_resource(
    base_url: str, case: Case
) -> None:
    created = await create(base_url, 1, case)
    url = f"{base_url}{case.path}/{created['id']}"
    response = await send_json(url, "PUT", case.new(2), headers={"If-Match": f'"{"z" * 24}"'})
    assert response.code == 412
    assert problem(response)["detail"] == (
        f"No {case.singular} here has a version that If-Match and If-None-Match allow."
        " Read it again."
    )
    assert json.loads((await fetch(url)).body) == created


async def test_invalid_bodies_are_422_naming_the_body(base_url: str) -> None:
    created = await create(base_url, 1)
    response = await send_json(f"{base_url}{CASE.path}/{created['id']}", "PATCH", {})
    assert response.code == 422
    body = problem(response)
    assert body["detail"] == "The body is invalid."
    assert body["errors"] == [
        {"path": "(body)", "message": "name a field to change", "type": "empty"}
    ]
    wrong = await send_json(f"{base_url}{CASE.path}", "POST", [])
    assert wrong.code == 422
    assert problem(wrong)["detail"] == "The body is invalid."


async def test_route_and_method_errors_are_complete_problem_documents(base_url: str) -> None:
    missing = await fetch(f"{base_url}/no/such/route")
    assert json.loads(missing.body) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No route for /no/such/route.",
    }
    refused = await fetch(f"{base_url}{CASE.path}", "DELETE")
    allowed = refused.headers["Allow"]
    assert json.loads(refused.body) == {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": f"DELETE is not allowed here; use {allowed}.",
    }
