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
    FIELDS,
    SORTABLE,
    RawResponse,
    fetch,
    new_{{ cookiecutter.resource_name }},
    problem,
    raw_exchange,
    read_response,
    send_json,
)

from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.pagination import signing_keys
from {{ cookiecutter.package_name }}.repository import {{ cookiecutter.resource_name | pascal }}Repository

PATH = "/{{ cookiecutter.collection_name }}"
FIRST = FIELDS[0]


@pytest.fixture
async def existing(
    base_url: str,
    {{ cookiecutter.collection_name }}: {{ cookiecutter.resource_name | pascal }}Repository,
) -> AsyncIterator[dict[str, Any]]:
    """One stored {{ cookiecutter.resource_name }}; the test fails if the collection changed by the end."""
    response = await send_json(f"{base_url}{PATH}", "POST", new_{{ cookiecutter.resource_name }}(1))
    assert response.code == 201
    before = await {{ cookiecutter.collection_name }}.collection.find({}).to_list()
    yield json.loads(response.body)
    assert await {{ cookiecutter.collection_name }}.collection.find({}).to_list() == before


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
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def valid_body_with(raw_value: str, field: str = FIRST) -> bytes:
    """A valid create body as JSON text, with `field` set to `raw_value` verbatim."""
    text = json.dumps({**new_{{ cookiecutter.resource_name }}(2), field: "__VALUE__"})
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
    text = json.dumps(new_{{ cookiecutter.resource_name }}(2))[:-1] + f', "{FIRST}": null}}'
    response = await fetch(
        f"{base_url}{PATH}", "POST", body=text, headers={"Content-Type": "application/json"}
    )
    assert response.code == 400
    assert problem(response)["detail"] == f"The body repeats the key {FIRST!r}."


@pytest.mark.parametrize(
    "key", ["$where", "$set", f"{FIRST}.$gt", f"{FIRST}\u0000", "_id", "id", "_v", "__proto__"]
)
async def test_operator_dotted_nul_and_internal_keys_are_422(
    base_url: str, existing: dict[str, Any], key: str
) -> None:
    for method, url, body in (
        ("POST", f"{base_url}{PATH}", {**new_{{ cookiecutter.resource_name }}(3), key: "x"}),
        ("PUT", f"{base_url}{PATH}/{existing['id']}", {**new_{{ cookiecutter.resource_name }}(3), key: "x"}),
        ("PATCH", f"{base_url}{PATH}/{existing['id']}", {key: "x"}),
    ):
        response = await send_json(url, method, body)
        assert response.code == 422, (method, response.body)
        assert {error["path"] for error in problem(response)["errors"]} == {key}


@pytest.mark.parametrize(
    "query",
    [
        f"{FIRST}[$ne]=x",
        f"{FIRST}[$gt]=",
        "%24where=1",
        f"{FIRST}.%24gt=x",
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
async def test_hostile_list_queries_are_422(base_url: str, query: str) -> None:
    response = await fetch(f"{base_url}{PATH}?{query}")
    assert response.code == 422, response.body
    assert problem(response)["detail"] == "The query is invalid."


async def test_underscore_parameters_are_ignored_as_cache_busters(
    base_url: str, existing: dict[str, Any]
) -> None:
    response = await fetch(f"{base_url}{PATH}?_=1700000000&limit=5")
    assert response.code == 200
    assert json.loads(response.body)["{{ cookiecutter.collection_name }}"] == [existing]


def forged_cursor(sort: str, value: Any, signed_with: bytes | None = None) -> str:
    raw = bson.encode({"sort": sort, "value": value, "id": ObjectId()})
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
@pytest.mark.parametrize("sort", ["id", *SORTABLE])
async def test_forged_cursor_is_422(
    base_url: str, existing: dict[str, Any], context: ApiContext, sort: str, value: Any
) -> None:
    wrong_key = b"not the service's key"
    for cursor in (forged_cursor(sort, value), forged_cursor(sort, value, wrong_key)):
        response = await fetch(f"{base_url}{PATH}?sort={sort}&after={cursor}")
        assert response.code == 422, (cursor, response.body)
        assert {error["path"] for error in problem(response)["errors"]} == {"after"}
    # The same position signed with the service's key is accepted: the signature decides.
    genuine = forged_cursor(sort, ObjectId() if sort == "id" else None, signing_keys(None)[0])
    assert (await fetch(f"{base_url}{PATH}?sort={sort}&after={genuine}")).code == 200


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
    body = json.dumps(new_{{ cookiecutter.resource_name }}(4)).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    response = await raw_exchange(base_url, post(chunked, "Transfer-Encoding: chunked"))
    assert response.status == 201, response.body


async def test_a_slow_client_does_not_delay_others(base_url: str) -> None:
    body = json.dumps(new_{{ cookiecutter.resource_name }}(5)).encode()
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


@pytest.mark.parametrize("path", [PATH, "/healthz", "/readyz", "/openapi.json", "ITEM"])
async def test_head_answers_like_get_without_a_body(
    base_url: str, existing: dict[str, Any], path: str
) -> None:
    url = f"{base_url}{PATH}/{existing['id']}" if path == "ITEM" else f"{base_url}{path}"
    got = await fetch(url)
    head = await fetch(url, "HEAD")
    assert (head.code, head.body) == (got.code, b"")
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers.get("ETag") == got.headers.get("ETag")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (PATH, "GET, HEAD, POST, OPTIONS"),
        ("ITEM", "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"),
        ("/healthz", "GET, HEAD, OPTIONS"),
    ],
)
async def test_options_lists_the_allowed_methods(
    base_url: str, existing: dict[str, Any], path: str, allowed: str
) -> None:
    url = f"{base_url}{PATH}/{existing['id']}" if path == "ITEM" else f"{base_url}{path}"
    response = await fetch(url, "OPTIONS")
    assert response.code == 204
    assert response.headers["Allow"] == allowed


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", PATH), ("POST", "ITEM"), ("PUT", PATH), ("POST", "/healthz")]
)
async def test_wrong_method_is_405_and_writes_nothing(
    base_url: str, existing: dict[str, Any], method: str, path: str
) -> None:
    url = f"{base_url}{PATH}/{existing['id']}" if path == "ITEM" else f"{base_url}{path}"
    body = json.dumps(new_{{ cookiecutter.resource_name }}(6)) if method in ("POST", "PUT") else None
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
            f"Content-Length: {len(bad)}\r\n\r\n".encode()
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
    body = {**new_{{ cookiecutter.resource_name }}(7), **{f"unknown_{n}": n for n in range(200)}}
    response = await send_json(f"{base_url}{PATH}", "POST", body)
    assert response.code == 422
    assert len(problem(response)["errors"]) == 50
    assert problem(response)["detail"] == "The body is invalid. The first 50 are listed."


async def test_documents_whose_id_is_not_an_object_id_do_not_break_pages(
    base_url: str,
    {{ cookiecutter.collection_name }}: {{ cookiecutter.resource_name | pascal }}Repository,
) -> None:
    first = await send_json(f"{base_url}{PATH}", "POST", new_{{ cookiecutter.resource_name }}(1))
    foreign = {"_id": "written-elsewhere", **new_{{ cookiecutter.resource_name }}(2)}
    await {{ cookiecutter.collection_name }}.collection.insert_one(foreign)
    second = await send_json(f"{base_url}{PATH}", "POST", new_{{ cookiecutter.resource_name }}(3))
    page = json.loads((await fetch(f"{base_url}{PATH}?limit=1")).body)
    rest = json.loads((await fetch(f"{base_url}{PATH}?limit=5&after={page['next']}")).body)
    listed = page["{{ cookiecutter.collection_name }}"] + rest["{{ cookiecutter.collection_name }}"]
    assert [item["id"] for item in listed] == [
        json.loads(first.body)["id"],
        json.loads(second.body)["id"],
    ]
