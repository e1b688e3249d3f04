"""Hostile requests: each gets its exact 4xx as problem+json, and no write lands."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import bson
import pytest
from bson import Code, DBRef, MaxKey, MinKey, ObjectId, Regex
from support import (
    CASES,
    Case,
    RawResponse,
    fetch,
    problem,
    raw_authorization,
    raw_exchange,
    read_response,
    send_json,
)

from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.pagination import signing_keys
from {{ cookiecutter.package_name }}.repository import Repository

# Framing, JSON parsing and body limits are the same for every resource: one serves.
CASE = CASES[0]
PATH = CASE.path
FIRST = CASE.fields[0]


@pytest.fixture
def case() -> Case:
    """The resource `existing` stores a document of: the first, unless the test names one."""
    return CASE


@pytest.fixture
async def existing(
    base_url: str, repositories: dict[str, Repository], case: Case
) -> AsyncIterator[dict[str, Any]]:
    """One stored document of `case`; the test fails if its collection changed by the end."""
    response = await send_json(f"{base_url}{case.path}", "POST", case.new(1))
    assert response.code == 201
    collection = repositories[case.name].collection
    before = await collection.find({}).to_list()
    yield json.loads(response.body)
    assert await collection.find({}).to_list() == before


def post(body: bytes, *headers: str) -> bytes:
    """A raw POST of `body` with a correct Content-Length unless `headers` frame it."""
    framing = headers or (f"Content-Length: {len(body)}",)
    lines = [
        f"POST {PATH} HTTP/1.1",
        "Host: test",
        "Content-Type: application/json",
        "Connection: close",
        *framing,
    ]
    head = "\r\n".join(lines) + "\r\n" + raw_authorization() + "\r\n"
    return head.encode("latin-1") + body


def valid_body_with(raw_value: str, field: str = FIRST) -> bytes:
    """A valid create body as JSON text, with `field` set to `raw_value` verbatim."""
    text = json.dumps({**CASE.new(2), field: "__VALUE__"})
    return text.replace('"__VALUE__"', raw_value).encode()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("DUPLICATE", "The body repeats the key"),
        ("NAN", "The body contains NaN, which is not JSON."),
        ("INFINITY", "The body contains -Infinity, which is not JSON."),
        ("DEEP", "The body is nested too deeply."),
        ("HUGE", "The body is not valid JSON."),
        ("SURROGATE", "The body is not valid JSON."),
        ("OVERLONG", "The body is not valid UTF-8."),
        ("SURROGATE_BYTES", "The body is not valid UTF-8."),
    ],
)
async def test_malformed_json_is_400_and_nothing_is_written(
    base_url: str, existing: dict[str, Any], body: str, detail: str
) -> None:
    raw = {
        # The operator comes first, the harmless value last: a last-wins parser hides it.
        "DUPLICATE": valid_body_with('{"$gt": ""}')[:-1] + f', "{FIRST}": "a"}}'.encode(),
        "NAN": valid_body_with("NaN"),
        "INFINITY": valid_body_with("-Infinity"),
        "DEEP": valid_body_with("[" * 5_000 + "]" * 5_000),
        "HUGE": valid_body_with("9" * 5_000),
        "SURROGATE": valid_body_with('"\\ud800"'),
        "OVERLONG": valid_body_with("__BYTES__").replace(b"__BYTES__", b'"\xc0\xaf"'),
        "SURROGATE_BYTES": valid_body_with("__BYTES__").replace(b"__BYTES__", b'"\xed\xa0\x80"'),
    }[body]
    for method, url in (
        ("POST", f"{base_url}{PATH}"),
        ("PUT", f"{base_url}{PATH}/{existing['id']}"),
        ("PATCH", f"{base_url}{PATH}/{existing['id']}"),
    ):
        headers = {"Content-Type": "application/json"}
        response = await fetch(url, method, body=raw, headers=headers)
        assert response.code == 400, (method, response.body)
        assert problem(response)["detail"].startswith(detail), problem(response)


async def test_duplicate_key_error_names_the_key(base_url: str, existing: dict[str, Any]) -> None:
    text = json.dumps(CASE.new(2))[:-1] + f', "{FIRST}": null}}'
    response = await fetch(
        f"{base_url}{PATH}", "POST", body=text, headers={"Content-Type": "application/json"}
    )
    assert response.code == 400
    assert problem(response)["detail"] == f"The body repeats the key {FIRST!r}."


@pytest.mark.parametrize(
    "key", ["$where", "$set", "{field}.$gt", "{field}\u0000", "_id", "id", "_v", "__proto__"]
)
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_operator_dotted_nul_and_internal_keys_are_422(
    base_url: str, existing: dict[str, Any], case: Case, key: str
) -> None:
    """Every resource's models refuse them; `{field}` stands for the resource's first field."""
    key = key.format(field=case.fields[0])
    item = f"{base_url}{case.path}/{existing['id']}"
    for method, url, body in (
        ("POST", f"{base_url}{case.path}", {**case.new(3), key: "x"}),
        ("PUT", item, {**case.new(3), key: "x"}),
        ("PATCH", item, {key: "x"}),
    ):
        response = await send_json(url, method, body)
        assert response.code == 422, (method, response.body)
        assert {error["path"] for error in problem(response)["errors"]} == {key}


@pytest.mark.parametrize(
    "query",
    [
        "{field}[$ne]=x",
        "{field}[$gt]=",
        "%24where=1",
        "{field}.%24gt=x",
        "limit=1.5",
        "limit=-1",
        "limit=0",
        "limit=" + "9" * 30,
        "limit=1e3",
        "limit=1&limit=2",
        "sort=%24natural",
        "unknown=1",
    ],
)
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_hostile_list_queries_are_422(base_url: str, case: Case, query: str) -> None:
    """Every resource's query parameters refuse them; `{field}` is its first field."""
    response = await fetch(f"{base_url}{case.path}?{query.format(field=case.fields[0])}")
    assert response.code == 422, response.body
    assert problem(response)["detail"] == "The query is invalid."


async def test_underscore_parameters_are_ignored_as_cache_busters(
    base_url: str, existing: dict[str, Any]
) -> None:
    response = await fetch(f"{base_url}{PATH}?_=1700000000&limit=5")
    assert response.code == 200
    assert json.loads(response.body)[CASE.name] == [existing]


def forged_cursor(case: Case, sort: str, value: Any, signed_with: bytes | None = None) -> str:
    raw = bson.encode({"of": case.name, "sort": sort, "value": value, "id": ObjectId()})
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if signed_with is None:
        return payload
    mac = hmac.digest(signed_with, raw, hashlib.sha256)[:16]
    return f"{payload}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


@pytest.mark.parametrize(
    "value",
    [Regex(".*"), Code("sleep(1000)"), MinKey(), MaxKey(), DBRef("x", ObjectId()), {"$gt": 1}, "a"],
    ids=["regex", "code", "minkey", "maxkey", "dbref", "operator", "string"],
)
@pytest.mark.parametrize(
    ("case", "sort"),
    [
        pytest.param(case, sort, id=f"{case.name}.{sort}")
        for case in CASES
        for sort in ("id", *case.sortable)
    ],
)
async def test_forged_cursor_is_422(
    base_url: str, existing: dict[str, Any], case: Case, sort: str, value: Any
) -> None:
    wrong_key = b"not the service's key"
    for cursor in (forged_cursor(case, sort, value), forged_cursor(case, sort, value, wrong_key)):
        response = await fetch(f"{base_url}{case.path}?sort={sort}&after={cursor}")
        assert response.code == 422, (cursor, response.body)
        assert {error["path"] for error in problem(response)["errors"]} == {"after"}
    # The same position signed with the service's key is accepted: the signature decides.
    position = ObjectId() if sort == "id" else None
    genuine = forged_cursor(case, sort, position, signing_keys(None)[0])
    assert (await fetch(f"{base_url}{case.path}?sort={sort}&after={genuine}")).code == 200


@pytest.mark.parametrize(
    "path",
    ["%2F..%2Fadmin", "..", "%2e%2e", "%00", "a%2Fb", "0" * 24 + "%00", "$where", "%7B%7D"],
)
async def test_odd_ids_are_404(base_url: str, existing: dict[str, Any], path: str) -> None:
    for method in ("GET", "DELETE"):
        response = await fetch(f"{base_url}{PATH}/{path}", method)
        assert response.code == 404, (method, path, response.body)
        assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "framing",
    [
        ("Content-Length: abc",),
        ("Content-Length: -1",),
        ("Content-Length: +5",),
        ("Content-Length: 0x10",),
        ("Content-Length: 1 2",),
        ("Content-Length: 5, 6",),
        ("Content-Length: \xb2",),
        ("Content-Length: " + "9" * 5_000,),
        ("Transfer-Encoding: gzip",),
        ("Transfer-Encoding: chunked", "Content-Length: 5"),
    ],
    ids=[
        "letters",
        "negative",
        "plus",
        "hex",
        "space",
        "unequal-list",
        "superscript-two",
        "5000-digits",
        "gzip",
        "chunked-and-length",
    ],
)
async def test_malformed_framing_is_400(
    base_url: str, existing: dict[str, Any], framing: tuple[str, ...]
) -> None:
    # A well-formed length beyond any limit is refused as too large, before reading.
    expected = 413 if framing[0].endswith("9" * 5_000) else 400
    response = await raw_exchange(base_url, post(b"{}", *framing))
    assert response.status == expected
    response.problem()


async def test_declared_body_over_the_limit_is_413_after_reading_it(
    base_url: str, existing: dict[str, Any], context: ApiContext
) -> None:
    """A client that sends everything before reading (http.client does) still gets the 413."""
    oversized = b" " * (context.settings.max_body_bytes * 20)
    response = await raw_exchange(base_url, post(oversized))
    assert response.status == 413
    assert "larger than the limit" in response.problem()["detail"]


async def test_declared_body_over_the_limit_with_expect_is_413_before_the_body(
    base_url: str, existing: dict[str, Any], context: ApiContext
) -> None:
    length = context.settings.max_body_bytes + 1
    response = await raw_exchange(
        base_url, post(b"", f"Content-Length: {length}", "Expect: 100-continue")
    )
    assert response.status == 413  # and no 100 Continue came first
    response.problem()


async def test_chunked_body_over_the_limit_is_413(
    base_url: str, existing: dict[str, Any], context: ApiContext
) -> None:
    chunk = b" " * 1024
    count = context.settings.max_body_bytes // len(chunk) + 2
    chunks = b"".join(b"400\r\n" + chunk + b"\r\n" for _ in range(count)) + b"0\r\n\r\n"
    response = await raw_exchange(base_url, post(chunks, "Transfer-Encoding: chunked"))
    assert response.status == 413
    response.problem()


async def test_chunked_body_within_the_limit_is_accepted(base_url: str) -> None:
    body = json.dumps(CASE.new(4)).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    response = await raw_exchange(base_url, post(chunked, "Transfer-Encoding: chunked"))
    assert response.status == 201, response.body


async def test_a_slow_client_does_not_delay_others(base_url: str) -> None:
    body = json.dumps(CASE.new(5)).encode()
    pieces = [body[start : start + 8] for start in range(0, len(body), 8)]
    parts = [post(b"", f"Content-Length: {len(body)}"), *pieces]
    slow = asyncio.create_task(raw_exchange(base_url, *parts, pause=2.0 / len(parts)))
    started = time.monotonic()
    for _ in range(5):
        assert (await fetch(f"{base_url}/healthz")).code == 200
    assert time.monotonic() - started < 1.5, "requests waited for the slow client"
    assert not slow.done()
    response: RawResponse = await slow
    assert response.status == 201


async def assert_head_answers_like_get(url: str) -> None:
    got = await fetch(url)
    assert got.code == 200, got.body
    head = await fetch(url, "HEAD")
    assert (head.code, head.body) == (got.code, b"")
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers.get("ETag") == got.headers.get("ETag")


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_head_answers_like_get_on_each_resource(
    base_url: str, existing: dict[str, Any], case: Case
) -> None:
    await assert_head_answers_like_get(f"{base_url}{case.path}")
    await assert_head_answers_like_get(f"{base_url}{case.path}/{existing['id']}")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json"])
async def test_head_answers_like_get_on_the_service_routes(base_url: str, path: str) -> None:
    await assert_head_answers_like_get(f"{base_url}{path}")


async def allowed_methods(url: str) -> str:
    response = await fetch(url, "OPTIONS")
    assert response.code == 204
    return response.headers["Allow"]


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_options_lists_the_allowed_methods(
    base_url: str, existing: dict[str, Any], case: Case
) -> None:
    assert await allowed_methods(f"{base_url}{case.path}") == "GET, HEAD, POST, OPTIONS"
    item = f"{base_url}{case.path}/{existing['id']}"
    assert await allowed_methods(item) == "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"
    assert await allowed_methods(f"{base_url}/healthz") == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", PATH), ("POST", "ITEM"), ("PUT", PATH), ("POST", "/healthz")]
)
async def test_wrong_method_is_405_and_writes_nothing(
    base_url: str, existing: dict[str, Any], method: str, path: str
) -> None:
    url = f"{base_url}{PATH}/{existing['id']}" if path == "ITEM" else f"{base_url}{path}"
    body = json.dumps(CASE.new(6)) if method in ("POST", "PUT") else None
    headers = {"Content-Type": "application/json"} if body else None
    response = await fetch(url, method, body=body, headers=headers, allow_nonstandard_methods=True)
    assert response.code == 405
    assert problem(response)["title"] == "Method Not Allowed"


async def test_keep_alive_connection_survives_a_refused_request(base_url: str) -> None:
    """A refused body is read to its end, so the next request on the connection works."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        bad = b"name=Ada"
        writer.write(
            f"POST {PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(bad)}\r\n{raw_authorization()}\r\n".encode()
            + bad
            + b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        await writer.drain()
        async with asyncio.timeout(10):
            first = await read_response(reader)
            second = await read_response(reader)
    finally:
        writer.close()
    assert (first.status, second.status) == (415, 200)


async def test_a_key_repeated_at_the_end_of_a_large_body_is_named(
    base_url: str, existing: dict[str, Any], context: ApiContext
) -> None:
    count = (context.settings.max_body_bytes - 32) // len('"k0000000": 0, ')
    keys = ", ".join(f'"k{n:07}": 0' for n in range(count))
    body = ("{" + keys + ', "k0000000": 1}').encode()
    assert len(body) <= context.settings.max_body_bytes
    response = await fetch(
        f"{base_url}{PATH}", "POST", body=body, headers={"Content-Type": "application/json"}
    )
    assert response.code == 400, response.body
    assert problem(response)["detail"] == "The body repeats the key 'k0000000'."


async def test_a_422_lists_at_most_50_errors(base_url: str, existing: dict[str, Any]) -> None:
    body = {**CASE.new(7), **{f"unknown_{n}": n for n in range(200)}}
    response = await send_json(f"{base_url}{PATH}", "POST", body)
    assert response.code == 422
    assert len(problem(response)["errors"]) == 50
    assert problem(response)["detail"] == "The body is invalid. The first 50 are listed."


async def test_documents_whose_id_is_not_an_object_id_do_not_break_pages(
    base_url: str, repositories: dict[str, Repository]
) -> None:
    first = await send_json(f"{base_url}{PATH}", "POST", CASE.new(1))
    foreign = {"_id": "written-elsewhere", **CASE.new(2)}
    await repositories[CASE.name].collection.insert_one(foreign)
    second = await send_json(f"{base_url}{PATH}", "POST", CASE.new(3))
    page = json.loads((await fetch(f"{base_url}{PATH}?limit=1")).body)
    rest = json.loads((await fetch(f"{base_url}{PATH}?limit=5&after={page['next']}")).body)
    listed = page[CASE.name] + rest[CASE.name]
    assert [item["id"] for item in listed] == [
        json.loads(first.body)["id"],
        json.loads(second.body)["id"],
    ]
