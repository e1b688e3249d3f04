"""Every client error is a 4xx problem+json that never reaches MongoDB; unexpected ones are 500."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from typing import Any
from urllib.parse import quote

import pytest
from proxy import StallingProxy
from pymongo.errors import PyMongoError
from support import (
    CASES,
    Case,
    ServeApp,
    each,
    error_paths,
    fetch,
    problem,
    raw_authorization,
    send_json,
)
from tornado.httpclient import HTTPResponse

from {{ cookiecutter.package_name }}.context import ApiContext, Readiness
from {{ cookiecutter.package_name }}.database import close, connect
from {{ cookiecutter.package_name }}.repository import Repository, open_repositories
from {{ cookiecutter.package_name }}.settings import Settings

# Parsing, body limits, request ids and timeouts are the same for every resource: one serves.
CASE = CASES[0]


async def post_raw(
    base_url: str, body: bytes, content_type: str = "application/json"
) -> HTTPResponse:
    headers = {"Content-Type": content_type}
    return await fetch(f"{base_url}{CASE.path}", "POST", body=body, headers=headers)


async def create(base_url: str, case: Case = CASE) -> dict[str, Any]:
    response = await send_json(f"{base_url}{case.path}", "POST", case.new(1))
    assert response.code == 201, response.body
    created: dict[str, Any] = json.loads(response.body)
    return created


async def test_malformed_json_is_400(base_url: str) -> None:
    response = await post_raw(base_url, b'{"name": ')
    assert response.code == 400
    assert problem(response)["detail"] == "The body is not valid JSON."


async def test_non_utf8_body_is_400(base_url: str) -> None:
    response = await post_raw(base_url, b'{"name": "\xff\xfe"}')
    assert response.code == 400
    assert problem(response)["detail"] == "The body is not valid UTF-8."


async def test_unknown_route_is_404(base_url: str) -> None:
    response = await fetch(f"{base_url}/nowhere")
    assert response.code == 404
    assert problem(response)["detail"] == "No route for /nowhere."


async def test_wrong_method_is_405_with_allow(base_url: str) -> None:
    response = await fetch(f"{base_url}{CASE.path}", "DELETE")
    assert response.code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    assert problem(response)["title"] == "Method Not Allowed"


async def test_body_over_the_limit_is_413_and_nothing_is_stored(
    base_url: str, context: ApiContext, repositories: dict[str, Repository]
) -> None:
    oversized = b" " * (context.settings.max_body_bytes + 1)
    response = await post_raw(base_url, oversized)
    assert response.code == 413
    assert "larger than the limit" in problem(response)["detail"]
    assert await repositories[CASE.name].collection.count_documents({}) == 0


async def test_body_that_is_not_json_is_415(base_url: str) -> None:
    response = await post_raw(base_url, b"name=Ada", "application/x-www-form-urlencoded")
    assert response.code == 415
    assert problem(response)["detail"] == "Send the body as application/json."


@pytest.mark.parametrize(("case", "field"), each("fields", "field"))
async def test_wrong_type_is_422_naming_the_field(base_url: str, case: Case, field: str) -> None:
    body = {**case.new(1), field: case.wrong_types[field]}
    response = await send_json(f"{base_url}{case.path}", "POST", body)
    assert response.code == 422
    assert error_paths(response) == {field}


@pytest.mark.parametrize(("case", "field"), each("required", "required field"))
async def test_missing_required_field_is_422(base_url: str, case: Case, field: str) -> None:
    body = case.new(1)
    del body[field]
    response = await send_json(f"{base_url}{case.path}", "POST", body)
    assert response.code == 422
    assert error_paths(response) == {field}


@pytest.mark.parametrize("key", ["$set", "a.b", "_id", "id", "unknown"])
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_undeclared_keys_are_422_and_never_stored(
    base_url: str, repositories: dict[str, Repository], case: Case, key: str
) -> None:
    created = await create(base_url, case)
    collection = repositories[case.name].collection
    before = await collection.find_one({})
    smuggled = {key: {case.fields[0]: "x"} if key == "$set" else "x"}

    item = f"{base_url}{case.path}/{created['id']}"
    for method, url, body in (
        ("POST", f"{base_url}{case.path}", {**case.new(2), **smuggled}),
        ("PUT", item, {**case.new(2), **smuggled}),
        ("PATCH", item, smuggled),
    ):
        response = await send_json(url, method, body)
        assert response.code == 422, (method, response.body)
        assert error_paths(response) == {key}

    assert await collection.count_documents({}) == 1
    assert await collection.find_one({}) == before


async def test_body_must_be_an_object(base_url: str) -> None:
    response = await send_json(f"{base_url}{CASE.path}", "POST", [CASE.new(1)])
    assert response.code == 422
    assert error_paths(response) == {"(body)"}


async def test_empty_patch_is_422(base_url: str) -> None:
    created = await create(base_url)
    response = await send_json(f"{base_url}{CASE.path}/{created['id']}", "PATCH", {})
    assert response.code == 422
    assert problem(response)["errors"][0]["message"] == "name a field to change"


@pytest.mark.parametrize(("case", "field"), each("not_null", "required field"))
async def test_patch_cannot_null_a_field_that_is_not_optional(
    base_url: str, case: Case, field: str
) -> None:
    created = await create(base_url, case)
    response = await send_json(f"{base_url}{case.path}/{created['id']}", "PATCH", {field: None})
    assert response.code == 422
    assert error_paths(response) == {field}


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("after=bm90LWEtY3Vyc29y", "after"),
        ("after=%%%", "after"),
        ("colour=red", "colour"),
        ("limit=5&limit=6", "limit"),
    ],
)
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_bad_list_query_is_422(base_url: str, case: Case, query: str, path: str) -> None:
    response = await fetch(f"{base_url}{case.path}?{query}")
    assert response.code == 422, response.body
    assert error_paths(response) == {path}


@pytest.mark.parametrize(("case", "field"), each("fields", "field"))
async def test_invalid_filter_value_is_422(base_url: str, case: Case, field: str) -> None:
    response = await fetch(f"{base_url}{case.path}?{field}={quote(case.bad_filters[field])}")
    assert response.code == 422
    assert error_paths(response) == {field}


async def test_database_unavailable_is_503_within_the_timeout(
    unresponsive_base_url: str,
) -> None:
    started = time.monotonic()
    response = await send_json(f"{unresponsive_base_url}{CASE.path}", "POST", CASE.new(1))
    elapsed = time.monotonic() - started
    assert response.code == 503
    assert problem(response)["detail"] == "The database is unavailable; try again shortly."
    assert elapsed < 5, f"took {elapsed:.1f}s with a 0.5s database timeout"


async def test_unexpected_error_is_500_without_internals_and_logged_with_request_id(
    base_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(Repository, "find_page", broken)
    with caplog.at_level(logging.ERROR):
        response = await fetch(f"{base_url}{CASE.path}", headers={"X-Request-ID": "req-42"})
    assert response.code == 500
    body = problem(response)
    assert body["request_id"] == "req-42"
    assert "secret" not in response.body.decode()
    assert "Traceback" not in response.body.decode()
    assert any(
        "request_id=req-42" in record.getMessage() and record.exc_info for record in caplog.records
    )


async def test_request_id_is_echoed_or_generated(base_url: str) -> None:
    given = await fetch(f"{base_url}/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    generated = await fetch(f"{base_url}/healthz", headers={"X-Request-ID": "bad id!"})
    assert len(generated.headers["X-Request-ID"]) == 32
    assert generated.headers["X-Request-ID"] != "bad id!"


async def test_client_hanging_up_mid_body_is_not_left_in_flight(
    base_url: str, context: ApiContext
) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST {CASE.path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Expect: 100-continue\r\nContent-Length: 100\r\n{raw_authorization()}\r\n".encode()
    )
    await writer.drain()
    assert (await reader.readline()).startswith(b"HTTP/1.1 100")
    assert context.in_flight.count == 1
    writer.write(b'{"name": ')
    writer.close()
    await writer.wait_closed()
    assert await context.in_flight.wait_idle(5), "the abandoned request is still counted"


async def test_concurrent_requests_to_a_dead_database_all_end_within_the_timeout(
    unresponsive_base_url: str, unresponsive_settings: Settings
) -> None:
    """Motor queues operations on threads before its clock starts; the deadline still holds."""
    started = time.monotonic()
    responses = await asyncio.gather(
        *(fetch(f"{unresponsive_base_url}{CASE.path}?limit={n + 1}") for n in range(16))
    )
    elapsed = time.monotonic() - started
    assert {response.code for response in responses} == {503}
    assert all(response.headers["Retry-After"] == "1" for response in responses)
    budget = unresponsive_settings.mongodb_timeout_ms / 1000 + 1.0
    assert elapsed < budget, f"16 requests took {elapsed:.1f}s; the budget is {budget:.1f}s"


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_writes_wait_for_the_unique_indexes(
    serve_app: ServeApp,
    context: ApiContext,
    repositories: dict[str, Repository],
    case: Case,
) -> None:
    building = Readiness(building=[case.name])
    base_url = serve_app(dataclasses.replace(context, readiness=building))
    response = await send_json(f"{base_url}{case.path}", "POST", case.new(1))
    if case.unique:
        assert response.code == 503
        assert problem(response)["detail"].startswith("The unique indexes are being built")
        assert await repositories[case.name].collection.count_documents({}) == 0
    else:  # nothing to guard: writes need no index
        assert response.code == 201
    for other in CASES:  # the other resources' indexes exist: they serve as usual
        if other is not case:
            created = await send_json(f"{base_url}{other.path}", "POST", other.new(1))
            assert created.code == 201, created.body
    assert (await fetch(f"{base_url}/readyz")).code == 503


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_stored_document_that_breaks_the_model_is_skipped_not_a_500(
    base_url: str,
    repositories: dict[str, Repository],
    case: Case,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = await create(base_url, case)
    foreign = {case.fields[0]: {"written": "by another service"}}
    bad = await repositories[case.name].collection.insert_one(foreign)
    with caplog.at_level(logging.WARNING):
        response = await fetch(f"{base_url}{case.path}")
    assert response.code == 200
    assert json.loads(response.body)[case.name] == [good]
    skipped = f"skipping {case.singular} {bad.inserted_id}: "
    assert any(record.getMessage().startswith(skipped) for record in caplog.records)


async def test_responses_ask_clients_to_reconnect_while_draining(
    serve_app: ServeApp, context: ApiContext
) -> None:
    readiness = Readiness()
    base_url = serve_app(dataclasses.replace(context, readiness=readiness))
    readiness.draining = True
    response = await fetch(f"{base_url}/healthz")
    assert response.code == 200
    assert response.headers["Connection"] == "close"
    assert (await fetch(f"{base_url}/readyz")).code == 503


async def test_every_call_the_database_never_answers_is_a_503_within_the_timeout(
    serve_app: ServeApp, settings: Settings, stalling_proxy: StallingProxy
) -> None:
    """A live server that takes each command and never replies: every route still answers."""
    stalled = settings.model_copy(
        update={"mongodb_uri": stalling_proxy.uri, "mongodb_timeout_ms": 500}
    )
    client = connect(stalled)
    try:
        base_url = serve_app(
            ApiContext(
                settings=stalled,
                client=client,
                repositories=open_repositories(client, stalled),
                readiness=Readiness(),
            )
        )
        item = f"{CASE.path}/{(await create(base_url))['id']}"  # answered: not stalled yet
        stalling_proxy.stalled = True
        for method, path, body in [
            ("GET", item, None),
            ("GET", CASE.path, None),
            ("POST", CASE.path, CASE.new(2)),
            ("PUT", item, CASE.new(3)),
            ("PATCH", item, {CASE.fields[0]: CASE.new(4)[CASE.fields[0]]}),
            ("DELETE", item, None),
        ]:
            started = time.monotonic()
            if body is None:
                response = await fetch(f"{base_url}{path}", method)
            else:
                response = await send_json(f"{base_url}{path}", method, body)
            elapsed = time.monotonic() - started
            assert response.code == 503, (method, path, response.body)
            assert elapsed < 0.5 + 1.0, f"{method} {path} took {elapsed:.1f}s, the timeout is 0.5s"
    finally:
        stalling_proxy.stalled = False
        # Closing a client whose monitor is still reconnecting can leak that socket.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(PyMongoError):
                await client.admin.command("ping")
                break
        await close(client)


async def test_finished_and_failed_requests_leave_nothing_in_flight(
    base_url: str, context: ApiContext
) -> None:
    await create(base_url)
    await fetch(f"{base_url}{CASE.path}/{'0' * 24}")
    await post_raw(base_url, b"{")
    assert context.in_flight.count == 0
    assert await context.in_flight.wait_idle(0.1)
