"""What the tests share: sample data from the declared fields, and HTTP helpers."""
{%- set fields = cookiecutter.fields | parse_fields %}
{%- set spec = cookiecutter.fields %}

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from {{ cookiecutter.package_name }}.context import ApiContext

ServeApp = Callable[[ApiContext], str]


def text(label: str, n: int, low: int = 0, high: int = 1000) -> str:
    """Distinct text for each `n`, padded or cut to fit the length bounds."""
    value = f"{label}-{n}".ljust(low, "x")
    return value[len(value) - high :]


def number(n: int, low: float | None = None, high: float | None = None, room: int = 0) -> int:
    """An integer for document `n` inside [low, high - room], cycling when the range is narrow."""
    top = math.floor(high) - room if high is not None else None
    start = math.ceil(low) if low is not None else 0 if top is None else min(0, top - 999)
    if top is None:
        return start + n
    span = top - start + 1
    return start + n % span if span > 0 else start


def items(make: Callable[[int], Any], n: int, low: int = 0, high: int = 100) -> list[Any]:
    """A list for document `n`: its own item plus a shared one, sized to the bounds."""
    values = [make(n), make(n + 1000), *(make(n + 2000 + k) for k in range(max(0, low - 2)))]
    return values[: max(low, min(high, 2))]


def day(n: int) -> str:
    return (date(2024, 1, 1) + timedelta(days=n)).isoformat()


def instant(n: int) -> str:
    """A UTC instant with milliseconds, written the way the API returns it."""
    moment = datetime(2024, 1, 1, 12, tzinfo=UTC) + timedelta(minutes=n, milliseconds=250)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def uuid_text(n: int) -> str:
    return str(UUID(int=n + 1))


FIELDS: list[str] = {{ spec | names_where | py_list }}
REQUIRED: list[str] = {{ spec | names_where("required") | py_list }}
OPTIONAL: list[str] = {{ spec | names_where("optional") | py_list }}
NOT_NULL: list[str] = {{ spec | names_where("optional", False) | py_list }}
UNIQUE: list[str] = {{ spec | names_where("unique") | py_list }}
# Unique fields that many documents may leave out (their index is sparse).
OPTIONAL_UNIQUE: list[str] = {{ spec | names_where("optional_unique") | py_list }}
# Fields the list can be sorted on, besides id.
SORTABLE: list[str] = {{ spec | names_where("sortable") | py_list }}
# List fields with `!index`: filtered through a multikey index, not sortable.
MULTIKEY: list[str] = {{ spec | names_where("multikey") | py_list }}
LISTS: list[str] = {{ spec | names_where("type", "list") | py_list }}
DECIMALS: list[str] = {{ spec | names_where("type", "decimal") | py_list }}
DATETIMES: list[str] = {{ spec | names_where("type", "datetime") | py_list }}
# Fields (or list items) of each type.
INTEGERS: list[str] = {{ spec | names_where("scalar", "int") | py_list }}
DECIMAL_VALUES: list[str] = {{ spec | names_where("scalar", "decimal") | py_list }}
EMAILS: list[str] = {{ spec | names_where("scalar", "email") | py_list }}
CALENDAR: list[str] = {{ spec | names_where("calendar") | py_list }}
{%- set defaults = fields | selectattr("default", "ne", none) | list %}
# Fields left out of a create body to test their default, with the value the API returns.
{%- if defaults %}
DEFAULTS: dict[str, Any] = {
{%- for field in defaults %}
    "{{ field.name }}": {{ field.default_json }},
{%- endfor %}
}
{%- else %}
DEFAULTS: dict[str, Any] = {}
{%- endif %}
{%- set violations = fields | selectattr("violations") | list %}
# Values that break a field's declared constraint.
{%- if violations %}
VIOLATIONS: list[tuple[str, Any]] = [
{%- for field in violations %}
{%- for value in field.violations %}
    ("{{ field.name }}", {{ value }}),
{%- endfor %}
{%- endfor %}
]
{%- else %}
VIOLATIONS: list[tuple[str, Any]] = []
{%- endif %}
# A value of the wrong JSON type for each field; strict validation must refuse it.
WRONG_TYPES: dict[str, Any] = {
{%- for field in fields %}
    "{{ field.name }}": {{ field.wrong_type }},
{%- endfor %}
}
# A query-string value each field's filter must refuse with 422.
BAD_FILTERS: dict[str, str] = {
{%- for field in fields %}
    "{{ field.name }}": {{ field.bad_filter }},
{%- endfor %}
}
{%- set miswritten = fields | selectattr("miswritten_filters") | list %}
# Query values pydantic alone would accept, written other than the README documents.
{%- if miswritten %}
MISWRITTEN_FILTERS: list[tuple[str, str]] = [
{%- for field in miswritten %}
{%- for value in field.miswritten_filters %}
    ("{{ field.name }}", {{ value }}),
{%- endfor %}
{%- endfor %}
]
{%- else %}
MISWRITTEN_FILTERS: list[tuple[str, str]] = []
{%- endif %}


def new_{{ cookiecutter.resource_name }}(n: int = 0) -> dict[str, Any]:
    """A valid create body; each `n` gives different values."""
    return {
{%- for field in cookiecutter.fields | parse_fields %}
        "{{ field.name }}": {{ field.sample("n") }},
{%- endfor %}
    }


def none_declared(what: str, arity: int = 1) -> list[Any]:
    """A single skipped case, so a spec without `what` says why nothing ran."""
    skip = pytest.mark.skip(reason=f"the spec declares no {what}")
    return [pytest.param(*[None] * arity, marks=skip)]


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


class RawResponse:
    """One HTTP/1.1 response read off a socket: status, headers (lower-case names), body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def problem(self) -> dict[str, Any]:
        assert self.headers.get("content-type") == "application/problem+json", self.headers
        body: dict[str, Any] = json.loads(self.body)
        assert body["status"] == self.status
        return body


async def read_response(reader: asyncio.StreamReader) -> RawResponse:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if line)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawResponse(int(status_line.split()[1]), headers, body)


async def raw_exchange(base_url: str, *parts: bytes, pause: float = 0.0) -> RawResponse:
    """Send bytes exactly as given (what a client library refuses to send); read the reply.

    With `pause`, the parts are sent that many seconds apart, like a slow client.
    """
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        async with asyncio.timeout(30):
            for index, part in enumerate(parts):
                if index and pause:
                    await asyncio.sleep(pause)
                writer.write(part)
                await writer.drain()
            return await read_response(reader)
    finally:
        writer.close()
