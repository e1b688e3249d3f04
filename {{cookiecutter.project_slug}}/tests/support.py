"""What the tests share: sample data from the declared fields, and HTTP helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from {{ cookiecutter.package_name }}.context import ApiContext

ServeApp = Callable[[ApiContext], str]

FIELDS = [
{%- for field in cookiecutter.fields | parse_fields %}
    "{{ field.name }}",
{%- endfor %}
]
REQUIRED = [
{%- for name in cookiecutter.fields | required_names %}
    "{{ name }}",
{%- endfor %}
]
# A value of the wrong JSON type for each field; strict validation must refuse it.
WRONG_TYPES: dict[str, Any] = {
{%- for field in cookiecutter.fields | parse_fields %}
    "{{ field.name }}": {{ field.wrong_type }},
{%- endfor %}
}

# A query-string value each field's filter must refuse with 422.
BAD_FILTERS: dict[str, str] = {
{%- for field in cookiecutter.fields | parse_fields %}
    "{{ field.name }}": {{ field.bad_filter }},
{%- endfor %}
}


def new_{{ cookiecutter.resource_name }}(n: int = 0) -> dict[str, Any]:
    """A valid create body; each `n` gives different values."""
    return {
{%- for field in cookiecutter.fields | parse_fields %}
        "{{ field.name }}": {{ field.sample("n") }},
{%- endfor %}
    }


def as_query_value(value: Any) -> str:
    """How a JSON value from a response is written in a query string, URL-encoded."""
    return quote(value if isinstance(value, str) else json.dumps(value), safe="")


async def fetch(url: str, method: str = "GET", **kwargs: Any) -> HTTPResponse:
    """One request that returns the response whatever its status."""
    return await AsyncHTTPClient().fetch(url, method=method, raise_error=False, **kwargs)


async def send_json(url: str, method: str, body: Any, **kwargs: Any) -> HTTPResponse:
    return await fetch(
        url,
        method,
        body=json.dumps(body),
        headers={"Content-Type": "application/json", **kwargs.pop("headers", {})},
        **kwargs,
    )


def problem(response: HTTPResponse) -> dict[str, Any]:
    """The problem+json body of an error response (asserting it is one)."""
    assert response.headers["Content-Type"] == "application/problem+json", response.headers
    body: dict[str, Any] = json.loads(response.body)
    assert body["status"] == response.code
    return body


def error_paths(response: HTTPResponse) -> set[str]:
    return {error["path"] for error in problem(response)["errors"]}
