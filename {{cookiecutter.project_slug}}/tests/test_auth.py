"""Who may call: a bearer credential on every resource route, and the scope each method needs.

These hold for API keys and JWTs alike; `support.authorization(scopes)` makes a credential
of the kind this service takes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import ObjectId
from support import (
    CASES,
    IDENTITY,
    SCOPES,
    Case,
    authorization,
    fetch,
    problem,
    raw_exchange,
    read_response,
    send_json,
)
from tornado.httpclient import HTTPResponse

from {{ cookiecutter.package_name }}.logs import access_log
from {{ cookiecutter.package_name }}.openapi import build_openapi
from {{ cookiecutter.package_name }}.repository import Repository

# Every method of every resource route, and the access it needs.
ROUTES = [
    ("GET", "collection", "read"),
    ("HEAD", "collection", "read"),
    ("POST", "collection", "write"),
    ("GET", "item", "read"),
    ("HEAD", "item", "read"),
    ("PUT", "item", "write"),
    ("PATCH", "item", "write"),
    ("DELETE", "item", "write"),
]
INVALID = 'Bearer error="invalid_token"'  # the challenge when a bearer credential came
# Body framing and the order of checks are the same for every resource: one serves.
CASE = CASES[0]


@pytest.fixture
def case() -> Case:
    """The resource `stored` stores a document of: the first, unless the test names one."""
    return CASE


@pytest.fixture
async def stored(
    base_url: str, repositories: dict[str, Repository], case: Case
) -> AsyncIterator[dict[str, Any]]:
    """One stored document of `case`; the test fails if its collection changed by the end."""
    response = await send_json(f"{base_url}{case.path}", "POST", case.new(1))
    assert response.code == 201, response.body
    collection = repositories[case.name].collection
    before = await collection.find({}).to_list()
    yield json.loads(response.body)
    assert await collection.find({}).to_list() == before


async def call(
    base_url: str, case: Case, item_id: str, method: str, route: str, **kwargs: Any
) -> HTTPResponse:
    """`method` on the collection or on the item `item_id`, with a valid body where one goes."""
    url = f"{base_url}{case.path}" + (f"/{item_id}" if route == "item" else "")
    if method in ("POST", "PUT"):
        return await send_json(url, method, case.new(2), **kwargs)
    if method == "PATCH":
        first = case.fields[0]
        return await send_json(url, method, {first: case.new(2)[first]}, **kwargs)
    return await fetch(url, method, **kwargs)


def refused(response: HTTPResponse, status: int, method: str) -> dict[str, Any]:
    """The problem document of a 401 or 403 (HEAD answers have the headers only)."""
    assert response.code == status, (method, response.code, response.body)
    assert response.headers["Cache-Control"] == "no-store"
    return {} if method == "HEAD" else problem(response)


def scopes_of_others(case: Case) -> set[str]:
    """Every scope but `case`'s own: those of the other resources (none if it is alone)."""
    return set(SCOPES) - {f"{case.name}:read", f"{case.name}:write"}


@pytest.mark.parametrize(
    ("header", "challenge"),
    [
        pytest.param(None, "Bearer", id="no-header"),
        pytest.param("Basic dGVzdDp0ZXN0", "Bearer", id="basic-scheme"),
        pytest.param("Bearer ", INVALID, id="empty-bearer"),
        pytest.param("Bearer not-a-credential", INVALID, id="garbage"),
        pytest.param("Bearer two words", INVALID, id="two-words"),
        pytest.param("Bearer " + "x" * 4000, INVALID, id="long-garbage"),
    ],
)
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_every_route_is_401_without_a_usable_credential(
    base_url: str, stored: dict[str, Any], case: Case, header: str | None, challenge: str
) -> None:
    """RFC 6750: the challenge names `invalid_token` only when a bearer credential came."""
    sent = {"authorized": False} if header is None else {"headers": {"Authorization": header}}
    for method, route, _ in ROUTES:
        response = await call(base_url, case, stored["id"], method, route, **sent)
        refused(response, 401, method)
        assert response.headers["WWW-Authenticate"] == challenge, method


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_read_credential_reads_and_is_403_naming_the_scope_on_every_write(
    base_url: str, stored: dict[str, Any], case: Case
) -> None:
    read_only = authorization([f"{case.name}:read"])
    for method, route, access in ROUTES:
        response = await call(base_url, case, stored["id"], method, route, headers=read_only)
        if access == "read":
            assert response.code == 200, (method, response.body)
            continue
        body = refused(response, 403, method)
        assert f"'{case.name}:write'" in body["detail"], method
        assert response.headers["WWW-Authenticate"] == (
            f'Bearer error="insufficient_scope", scope="{case.name}:write"'
        )


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_write_credential_writes_and_is_403_naming_the_scope_on_every_read(
    base_url: str, case: Case
) -> None:
    write_only = authorization([f"{case.name}:write"])
    created = await send_json(f"{base_url}{case.path}", "POST", case.new(1), headers=write_only)
    assert created.code == 201, created.body
    item_id = json.loads(created.body)["id"]
    for method, route, access in ROUTES:
        if access == "read":
            response = await call(base_url, case, item_id, method, route, headers=write_only)
            body = refused(response, 403, method)
            if method == "GET":
                assert f"'{case.name}:read'" in body["detail"]
    for method in ("PUT", "PATCH", "DELETE"):
        response = await call(base_url, case, item_id, method, "item", headers=write_only)
        assert response.code == (204 if method == "DELETE" else 200), (method, response.body)


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_credential_for_the_other_resources_is_403_on_every_route(
    base_url: str, stored: dict[str, Any], case: Case
) -> None:
    others = authorization(scopes_of_others(case))
    for method, route, access in ROUTES:
        response = await call(base_url, case, stored["id"], method, route, headers=others)
        body = refused(response, 403, method)
        if method != "HEAD":
            assert f"'{case.name}:{access}'" in body["detail"], method


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_without_a_credential_no_id_is_told_from_another(
    base_url: str, stored: dict[str, Any], case: Case
) -> None:
    """A stored id, an unknown one and a malformed one all get the same 401."""
    bodies = []
    for item_id in (stored["id"], str(ObjectId()), "not-an-id"):
        response = await fetch(f"{base_url}{case.path}/{item_id}", authorized=False)
        bodies.append(refused(response, 401, "GET"))
    assert bodies[0] == bodies[1] == bodies[2]


@pytest.mark.parametrize(
    ("method", "query", "body", "content_type"),
    [
        pytest.param("GET", "?limit=0", None, None, id="invalid-query"),
        pytest.param("POST", "", "not json", "application/json", id="invalid-json"),
        pytest.param("POST", "", "{}", "text/plain", id="wrong-media-type"),
        pytest.param("POST", "", "{}", "application/json", id="invalid-body"),
    ],
)
async def test_the_credential_is_checked_before_the_request(
    base_url: str, method: str, query: str, body: str | None, content_type: str | None
) -> None:
    """Who may not call learns nothing from validation errors."""
    headers = {"Content-Type": content_type} if content_type else {}
    response = await fetch(
        f"{base_url}{CASE.path}{query}", method, body=body, headers=headers, authorized=False
    )
    refused(response, 401, method)


async def test_the_bearer_scheme_name_is_case_insensitive(base_url: str) -> None:
    credential = authorization()["Authorization"].removeprefix("Bearer ")
    response = await fetch(
        f"{base_url}{CASE.path}", headers={"Authorization": f"bearer {credential}"}
    )
    assert response.code == 200, response.body


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json"])
@pytest.mark.parametrize("header", [None, "Bearer not-a-credential"], ids=["none", "garbage"])
async def test_the_service_routes_need_no_credential(
    base_url: str, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = await fetch(f"{base_url}{path}", headers=headers, authorized=False)
    assert response.code == 200, response.body


def raw_head(method: str, path: str, length: int, credential: str, *headers: str) -> bytes:
    """The head of a raw JSON request with no credential, or a read-only one."""
    sent = {} if credential == "none" else authorization([f"{CASE.name}:read"])
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: test",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *(f"{name}: {value}" for name, value in sent.items()),
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("credential", ["none", "read-only"])
async def test_a_refused_body_is_read_first_so_the_connection_survives(
    base_url: str, stored: dict[str, Any], method: str, credential: str
) -> None:
    """The 401 or 403 comes after the body: closing on unread data would reset the client."""
    path = CASE.path if method == "POST" else f"{CASE.path}/{stored['id']}"
    body = json.dumps(CASE.new(2)).encode().ljust(12_000)
    request = raw_head(method, path, len(body), credential)
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request + body + b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(10):
            first = await read_response(reader)
            second = await read_response(reader)
    finally:
        writer.close()
    assert (first.status, second.status) == (401 if credential == "none" else 403, 200)
    first.problem()


@pytest.mark.parametrize("credential", ["none", "read-only"])
async def test_a_refusal_comes_at_once_to_a_client_that_expects_100_continue(
    base_url: str, credential: str
) -> None:
    """No `100 Continue`: the client learns before sending a body it should not send."""
    request = raw_head("POST", CASE.path, 10_000, credential, "Expect: 100-continue")
    response = await raw_exchange(base_url, request)
    assert response.status == (401 if credential == "none" else 403)
    assert response.headers["www-authenticate"].startswith("Bearer")
    response.problem()


async def test_the_access_log_names_the_caller_and_never_the_credential(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=access_log.name)
    full = authorization()
    read_only = authorization([f"{CASE.name}:read"])
    garbage = {"Authorization": "Bearer not-a-credential-but-secret-looking"}
    await fetch(f"{base_url}{CASE.path}", headers=full)
    await send_json(f"{base_url}{CASE.path}", "POST", CASE.new(1), headers=read_only)
    await fetch(f"{base_url}{CASE.path}", headers=garbage)
    await fetch(f"{base_url}{CASE.path}", authorized=False)
    callers = [
        getattr(record, "caller", "(missing)")
        for record in caplog.records
        if record.name == access_log.name
    ]
    assert len(callers) == 4, callers
    assert callers[0] == IDENTITY
    assert callers[1] not in (None, "(missing)")  # the 403 knows who asked
    assert callers[2:] == [None, None]
    for header in (full, read_only, garbage):
        secret = header["Authorization"].removeprefix("Bearer ")
        assert secret not in caplog.text


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_resource_answers_are_not_stored_by_caches(
    base_url: str, stored: dict[str, Any], case: Case
) -> None:
    """They depend on the credential: `no-store` on success, errors and 304 alike."""
    item = f"{base_url}{case.path}/{stored['id']}"
    responses = [
        await fetch(f"{base_url}{case.path}"),
        await fetch(item),
        await fetch(item, headers={"If-None-Match": (await fetch(item)).headers["ETag"]}),
        await fetch(f"{base_url}{case.path}/{ObjectId()}"),
        await fetch(f"{base_url}{case.path}?limit=0"),
        await fetch(item, authorized=False),
        await fetch(f"{base_url}{case.path}", "OPTIONS", authorized=False),
    ]
    assert [response.code for response in responses] == [200, 200, 304, 404, 422, 401, 204]
    for response in responses:
        assert response.headers.get("Cache-Control") == "no-store", response.code


def test_openapi_declares_the_bearer_scheme_and_each_operations_scope() -> None:
    document = build_openapi()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for case in CASES:
        item = case.path + "/{" + case.singular + "_id}"
        for path in (case.path, item):
            for method, operation in document["paths"][path].items():
                if method == "parameters":
                    continue
                access = "read" if method == "get" else "write"
                assert operation["security"] == [{"bearer": [f"{case.name}:{access}"]}]
                for status in ("401", "403"):
                    response = operation["responses"][status]
                    assert "WWW-Authenticate" in response["headers"], (path, method, status)
                    assert "application/problem+json" in response["content"]
    for path in ("/healthz", "/readyz"):
        assert "security" not in document["paths"][path]["get"]
        assert "401" not in document["paths"][path]["get"]["responses"]
