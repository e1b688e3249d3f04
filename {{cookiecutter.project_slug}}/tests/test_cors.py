"""Browsers and scanners: CORS for the exact origins CORS_ORIGINS lists, and safe headers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from support import CASES, ServeApp, fetch, raw_exchange, send_json, with_settings
from tornado.httpclient import HTTPResponse

from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.settings import ConfigError, load_settings

# CORS is the same on every route: the first resource serves.
CASE = CASES[0]
ALLOWED = "https://app.example.com"
CORS_HEADERS = {
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
}
REQUEST_HEADERS = {"Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID"}


@pytest.fixture
def cors_url(serve_app: ServeApp, context: ApiContext) -> str:
    """The service with CORS_ORIGINS listing ALLOWED and one other origin."""
    origins = ["http://localhost:3000", ALLOWED]
    return serve_app(with_settings(context, cors_origins=origins))


def names(value: str) -> set[str]:
    """The names of a comma-separated header value."""
    return {part.strip() for part in value.split(",")}


def cors_headers(response: HTTPResponse) -> set[str]:
    return {name for name in CORS_HEADERS if name in response.headers}


async def preflight(url: str, origin: str, method: str = "POST") -> HTTPResponse:
    """What a browser sends, without a credential, before a cross-origin request."""
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    return await fetch(url, "OPTIONS", headers=headers, authorized=False)


async def requests_from(base_url: str, origin: str) -> dict[str, HTTPResponse]:
    """A success and the errors a browser app meets, each sent from `origin`."""
    headers = {"Origin": origin}
    created = await send_json(f"{base_url}{CASE.path}", "POST", CASE.new(1), headers=headers)
    item = f"{base_url}{CASE.path}/{json.loads(created.body)['id']}"
    return {
        "created": created,
        "read": await fetch(item, headers=headers),
        "listed": await fetch(f"{base_url}{CASE.path}", headers=headers),
        "unknown-id": await fetch(f"{base_url}{CASE.path}/{ObjectId()}", headers=headers),
        "unknown-route": await fetch(f"{base_url}/no/such/route", headers=headers),
        "health": await fetch(f"{base_url}/healthz", headers=headers),
{%- if cookiecutter.auth != "none" %}
        "no-credential": await fetch(item, headers=headers, authorized=False),
{%- endif %}
    }


async def test_an_allowed_origin_may_read_answers_and_errors(cors_url: str) -> None:
    responses = await requests_from(cors_url, ALLOWED)
    expected = {
        "created": 201,
        "read": 200,
        "listed": 200,
        "unknown-id": 404,
        "unknown-route": 404,
        "health": 200,
{%- if cookiecutter.auth != "none" %}
        "no-credential": 401,
{%- endif %}
    }
    assert {name: response.code for name, response in responses.items()} == expected
    for name, response in responses.items():
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED, name
        exposed = names(response.headers["Access-Control-Expose-Headers"])
        assert exposed == {"ETag", "Location", "X-Request-ID"}, name
        assert "Origin" in names(response.headers["Vary"]), name
        assert "Access-Control-Allow-Credentials" not in response.headers, name


@pytest.mark.parametrize("path", [CASE.path, f"{CASE.path}/{ObjectId()}", "/healthz"])
async def test_a_preflight_from_an_allowed_origin_needs_no_credential(
    cors_url: str, path: str
) -> None:
    response = await preflight(f"{cors_url}{path}", ALLOWED)
    assert response.code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert names(response.headers["Access-Control-Allow-Methods"]) == names(
        response.headers["Allow"]
    )
    assert names(response.headers["Access-Control-Allow-Headers"]) == REQUEST_HEADERS
    assert int(response.headers["Access-Control-Max-Age"]) > 0


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://app.example.com",  # another scheme
        "https://app.example.com:8443",  # another port
        "https://app.example.com.evil.example",  # a prefix match would let this in
        "https://sub.app.example.com",
        "null",
    ],
)
async def test_an_origin_not_listed_gets_no_cors_headers(cors_url: str, origin: str) -> None:
    responses = await requests_from(cors_url, origin)
    responses["preflight"] = await preflight(f"{cors_url}{CASE.path}", origin)
    for name, response in responses.items():
        assert not cors_headers(response), (name, response.headers)


async def test_without_cors_origins_no_origin_gets_cors_headers(base_url: str) -> None:
    responses = await requests_from(base_url, ALLOWED)
    responses["preflight"] = await preflight(f"{base_url}{CASE.path}", ALLOWED)
    for name, response in responses.items():
        assert not cors_headers(response), (name, response.headers)


def test_cors_origins_is_a_comma_separated_list(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", " https://app.example.com , http://localhost:3000,")
    assert load_settings().cors_origins == ["https://app.example.com", "http://localhost:3000"]


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "app.example.com",
        "https://app.example.com/",
        "https://app.example.com/path",
        "ftp://app.example.com",
        "https://",
        "https://app.example.com, *",
    ],
)
def test_a_bad_cors_origin_is_one_line_naming_the_variable(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    text = str(raised.value)
    assert "\n" not in text
    assert "CORS_ORIGINS" in text


# Security headers: on every response, whichever handler gives it.


async def every_kind_of_response(base_url: str) -> dict[str, Any]:
    created = await send_json(f"{base_url}{CASE.path}", "POST", CASE.new(2))
    item = f"{base_url}{CASE.path}/{json.loads(created.body)['id']}"
    raw = f"POST {CASE.path} HTTP/1.1\r\nHost: test\r\nContent-Length: x\r\n\r\n".encode()
    return {
        "created": created,
        "read": await fetch(item),
        "options": await fetch(item, "OPTIONS"),
        "invalid-query": await fetch(f"{base_url}{CASE.path}?limit=0"),
        "unknown-route": await fetch(f"{base_url}/no/such/route"),
        "wrong-method": await fetch(f"{base_url}/healthz", "DELETE"),
        "health": await fetch(f"{base_url}/healthz"),
        "ready": await fetch(f"{base_url}/readyz"),
        "openapi": await fetch(f"{base_url}/openapi.json"),
{%- if cookiecutter.auth != "none" %}
        "no-credential": await fetch(item, authorized=False),
{%- endif %}
        "bad-framing": await raw_exchange(base_url, raw),
    }


async def test_every_response_says_nosniff_and_names_no_server(base_url: str) -> None:
    for name, response in (await every_kind_of_response(base_url)).items():
        headers = {key.lower(): value for key, value in response.headers.items()}
        assert headers.get("x-content-type-options") == "nosniff", (name, headers)
        assert "server" not in headers, (name, headers)
