"""What the tests share: each resource's fields and sample data, and HTTP helpers.

A `Case` is one resource as the tests see it. Tests run once per case (or per case and
field), so a resource added to the service is tested once its case is listed in CASES.
"""
{%- set resources = cookiecutter.resources | parse_resources %}
{%- set types = resources | types_used %}

from __future__ import annotations

import asyncio
import json
import math
{%- if cookiecutter.auth == "api-key" %}
import secrets
{%- elif cookiecutter.auth == "jwt" %}
import threading
import time
{%- endif %}
from collections.abc import Callable{% if cookiecutter.auth != "none" %}, Iterable{% endif %}
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID
{% if cookiecutter.auth == "jwt" %}
import jwt
{%- endif %}
import pytest
{%- if cookiecutter.auth == "jwt" %}
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
{%- endif %}
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
{%- if cookiecutter.auth == "jwt" %}
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application, RequestHandler
{%- endif %}

{% if cookiecutter.auth == "api-key" -%}
from {{ cookiecutter.package_name }}.api_keys import ApiKey, digest
{% endif -%}
{% if cookiecutter.auth != "none" -%}
from {{ cookiecutter.package_name }}.auth import scopes_of
{% endif -%}
from {{ cookiecutter.package_name }}.context import ApiContext, Readiness
from {{ cookiecutter.package_name }}.models import Resource, json_body
from {{ cookiecutter.package_name }}.resources import RESOURCES
from {{ cookiecutter.package_name }}.settings import Settings

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


def reference(n: int) -> str:
    """The id of document `n` of another resource: only its shape is checked."""
    return f"{n + 1:024x}"


@dataclass(frozen=True)
class Case:
    """One resource as the tests see it: its names, its fields by kind, and valid bodies."""

    name: str  # the collection, e.g. "students"
    singular: str
    new: Callable[[int], dict[str, Any]]  # a valid create body; each n gives other values
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    # Unique fields that many documents may leave out (their index is sparse).
    optional_unique: tuple[str, ...] = ()
    # Fields the list can be sorted on, besides id.
    sortable: tuple[str, ...] = ()
    # Indexed list fields: filtered through a multikey index, not sortable.
    multikey: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    decimals: tuple[str, ...] = ()
    datetimes: tuple[str, ...] = ()
    # Fields (or list items) of each type.
    dates: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    decimal_values: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()
    # Reference fields (or lists of them) and the collection each points to.
    references: dict[str, str] = field(default_factory=dict)
    # Fields left out of a create body to test their default, with the value the API returns.
    defaults: dict[str, Any] = field(default_factory=dict)
    # Values that break a field's declared constraint.
    violations: list[tuple[str, Any]] = field(default_factory=list)
    # A value of the wrong JSON type for each field; strict validation must refuse it.
    wrong_types: dict[str, Any] = field(default_factory=dict)
    # A query-string value each field's filter must refuse with 422.
    bad_filters: dict[str, str] = field(default_factory=dict)
    # Query values pydantic alone would accept, written other than the README documents.
    miswritten_filters: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def not_null(self) -> tuple[str, ...]:
        """Fields a PATCH may not set to null."""
        return tuple(name for name in self.fields if name not in self.optional)

    @property
    def sort_fields(self) -> tuple[str, ...]:
        """What the list can be sorted on: id, then each sortable field."""
        return ("id", *self.sortable)

    def __str__(self) -> str:  # the test id
        return self.name


{%- for resource in resources %}


def new_{{ resource.singular }}(n: int = 0) -> dict[str, Any]:
    """A valid `POST /{{ resource.collection }}` body; each `n` gives other values."""
    return {
{%- for field in resource.fields %}
        "{{ field.name }}": {{ field.sample("n") }},
{%- endfor %}
    }
{%- endfor %}
{%- for resource in resources %}
{%- set fields = resource.fields %}


{{ resource.constant }} = Case(
    name="{{ resource.collection }}",
    singular="{{ resource.singular }}",
    new=new_{{ resource.singular }},
    fields={{ resource.names_where() | py_tuple(88, 4) }},
{%- for attribute, selection in [
    ("required", resource.names_where("required")),
    ("optional", resource.names_where("optional")),
    ("unique", resource.names_where("unique")),
    ("optional_unique", resource.names_where("optional_unique")),
    ("sortable", resource.names_where("sortable")),
    ("multikey", resource.names_where("multikey")),
    ("lists", resource.names_where("type", "list")),
    ("decimals", resource.names_where("type", "decimal")),
    ("datetimes", resource.names_where("type", "datetime")),
    ("dates", resource.names_where("scalar", "date")),
    ("integers", resource.names_where("scalar", "int")),
    ("decimal_values", resource.names_where("scalar", "decimal")),
    ("emails", resource.names_where("scalar", "email")),
    ("calendar", resource.names_where("calendar")),
] if selection %}
    {{ attribute }}={{ selection | py_tuple(78, 4) }},
{%- endfor %}
{%- if resource.references %}
    references={
{%- for field in resource.references %}
        "{{ field.name }}": "{{ field.target }}",
{%- endfor %}
    },
{%- endif %}
{%- set defaults = fields | selectattr("default", "ne", none) | list %}
{%- if defaults %}
    defaults={
{%- for field in defaults %}
        "{{ field.name }}": {{ field.default_json }},
{%- endfor %}
    },
{%- endif %}
{%- set violations = fields | selectattr("violations") | list %}
{%- if violations %}
    violations=[
{%- for field in violations %}
{%- for value in field.violations %}
        ("{{ field.name }}", {{ value }}),
{%- endfor %}
{%- endfor %}
    ],
{%- endif %}
    wrong_types={
{%- for field in fields %}
        "{{ field.name }}": {{ field.wrong_type }},
{%- endfor %}
    },
    bad_filters={
{%- for field in fields %}
        "{{ field.name }}": {{ field.bad_filter }},
{%- endfor %}
    },
{%- set miswritten = fields | selectattr("miswritten_filters") | list %}
{%- if miswritten %}
    miswritten_filters=[
{%- for field in miswritten %}
{%- for value in field.miswritten_filters %}
        ("{{ field.name }}", {{ value }}),
{%- endfor %}
{%- endfor %}
    ],
{%- endif %}
)
{%- endfor %}

# Every resource the service serves, as the tests see it; test_api checks none is missing.
CASES: list[Case] = {{ resources | map(attribute="constant") | list | py_list(80, quoted=False) }}


def each(attribute: str, what: str, also: str | None = None) -> list[Any]:
    """`(case, field)` parameters for each field a case lists under `attribute` (and `also`).

    When no resource declares one, a single skipped case says so (`what` names it).
    """
    params = [
        pytest.param(case, name, id=f"{case.name}.{name}")
        for case in CASES
        for name in getattr(case, attribute)
        if also is None or name in getattr(case, also)
    ]
    return params or none_declared(what, 2)


def each_pair(attribute: str, what: str) -> list[Any]:
    """`(case, field, value)` parameters for each `(field, value)` a case lists."""
    params = [
        pytest.param(case, name, value, id=f"{case.name}.{name}-{str(value)[:20]}")
        for case in CASES
        for name, value in getattr(case, attribute)
    ]
    return params or none_declared(what, 3)


def none_declared(what: str, arity: int = 1) -> list[Any]:
    """A single skipped case, so a spec without `what` says why nothing ran."""
    skip = pytest.mark.skip(reason=f"the spec declares no {what}")
    return [pytest.param(*[None] * arity, marks=skip)]


def case_named(name: str) -> Case:
    """The case of the resource served at `/<name>`, e.g. the target of a reference."""
    return next(case for case in CASES if case.name == name)


def resource_of(case: Case) -> Resource:
    """The service's own declaration of the resource `case` tests (its models, indexes)."""
    return next(resource for resource in RESOURCES if resource.name == case.name)


def body_text(case: Case, raw: bytes) -> str:
    """`raw` read as the service reads a request body for `case`'s resource."""
{%- if "decimal" in types %}
    return json_body(raw, resource_of(case).decimal_fields)
{%- else %}
    return json_body(raw)
{%- endif %}


def as_sent(case: Case, field: str, value: Any) -> Any:
    """`value` in the shape `field` takes in a body: for a list field, first in a valid list."""
    return [value, *case.new(0)[field][1:]] if field in case.lists else value


def as_query_value(value: Any) -> str:
    """How a JSON value from a response is written in a query string, URL-encoded."""
    return quote(value if isinstance(value, str) else json.dumps(value), safe="")


def with_settings(context: ApiContext, **changes: Any) -> ApiContext:
    """`context` with some settings changed, for an application of its own."""
    return ApiContext(
        settings=context.settings.model_copy(update=changes),
        client=context.client,
        repositories=context.repositories,
        readiness=Readiness(),
    )
{%- if cookiecutter.auth != "none" %}


# Credentials. The helpers below send one with every scope unless a test says otherwise.
SCOPES = tuple(scopes_of([case.name for case in CASES]))
IDENTITY = "test-client"  # the caller a credential with every scope stands for
{%- endif %}
{%- if cookiecutter.auth == "api-key" %}


def _scope_sets() -> list[frozenset[str]]:
    """Every scope; and for each resource its read scope, its write scope, and all but its own."""
    every = frozenset(SCOPES)
    sets = [every]
    for case in CASES:
        read, write = f"{case.name}:read", f"{case.name}:write"
        sets += [frozenset({read}), frozenset({write}), every - {read, write}]
    return sets


# One key per set of scopes the tests use, made for this run; the test settings list them all.
_KEYS = {scopes: secrets.token_urlsafe(32) for scopes in _scope_sets()}
API_KEYS = [
    ApiKey(
        name=IDENTITY if n == 0 else f"{IDENTITY}-{n}",
        sha256=digest(key),
        scopes=tuple(sorted(scopes)),
    )
    for n, (scopes, key) in enumerate(_KEYS.items())
]


def credential(scopes: Iterable[str] = SCOPES) -> str:
    """A key of API_KEYS granting exactly `scopes` (a set that `_scope_sets` lists)."""
    return _KEYS[frozenset(scopes)]


def auth_environment(settings: Settings) -> dict[str, str]:
    """The variables that make a service process accept the test credentials."""
    return {"API_KEYS": json.dumps([key.model_dump(mode="json") for key in settings.api_keys])}
{%- elif cookiecutter.auth == "jwt" %}


# The identity provider of the tests: its names, and a signing key made for this run that
# the JWKS server (conftest's `jwks_server`) publishes under KEY_ID.
ISSUER = "https://idp.test/"
AUDIENCE = "{{ cookiecutter.project_slug }}"
KEY_ID = "test-key"
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str = KEY_ID) -> dict[str, Any]:
    """The public half of `key` as a JWKS entry."""
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def token(
    scopes: Iterable[str] = SCOPES,
    *,
    key: Any = SIGNING_KEY,
    algorithm: str = "RS256",
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A JWT from the test provider, valid for five minutes, granting `scopes`.

    `claims` replace the defaults, and a claim given as None is left out; `header` adds to
    or replaces the JOSE header (`kid`: KEY_ID); `key` and `algorithm` sign it.
    """
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": IDENTITY,
        "iat": now,
        "exp": now + 300,
        "scope": " ".join(scopes),
        **claims,
    }
    return jwt.encode(
        {name: value for name, value in payload.items() if value is not None},
        key,
        algorithm=algorithm,
        headers={"kid": KEY_ID, **(header or {})},
    )


def credential(scopes: Iterable[str] = SCOPES) -> str:
    """A token granting exactly `scopes`."""
    return token(scopes)


def auth_environment(settings: Settings) -> dict[str, str]:
    """The variables that make a service process accept the test credentials."""
    return {
        "JWT_JWKS_URL": settings.jwt_jwks_url,
        "JWT_ISSUER": settings.jwt_issuer,
        "JWT_AUDIENCE": settings.jwt_audience,
    }


class JwksServer:
    """The provider's JWKS endpoint on 127.0.0.1, run by a thread with its own event loop, so
    that service processes can fetch it while a test waits for them.

    A test may change `document` (what it serves), read `fetches` (how many GETs it
    answered) and set `failing` (answer 503 instead); `reset()` restores all three.
    """

    def __init__(self) -> None:
        self.url = ""
        self.document: dict[str, Any] = {}
        self.fetches = 0
        self.failing = False
        self.reset()
        self._started = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    def reset(self) -> None:
        self.document = {"keys": [public_jwk(SIGNING_KEY)]}
        self.fetches = 0
        self.failing = False

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(timeout=10):
            raise RuntimeError("the JWKS server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        sock, port = bind_unused_port()
        routes = [(r"/jwks\.json", _JwksHandler, {"provider": self})]
        server = HTTPServer(Application(routes, log_function=lambda _: None))
        server.add_sockets([sock])
        self.url = f"http://127.0.0.1:{port}/jwks.json"
        self._started.set()
        await self._stopping.wait()
        server.stop()
        await server.close_all_connections()


class _JwksHandler(RequestHandler):
    def initialize(self, provider: JwksServer) -> None:
        self.provider = provider

    def get(self) -> None:
        self.provider.fetches += 1
        if self.provider.failing:
            self.set_status(503)
            self.finish()
            return
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(self.provider.document))
{%- endif %}
{%- if cookiecutter.auth != "none" %}


def authorization(scopes: Iterable[str] = SCOPES) -> dict[str, str]:
    """The Authorization header of a credential granting `scopes`."""
    return {"Authorization": f"Bearer {credential(scopes)}"}
{%- else %}


def authorization() -> dict[str, str]:
    """No header: this service does not authenticate (AUTH=none)."""
    return {}


def auth_environment(settings: Settings) -> dict[str, str]:
    """No variables: a service process takes no credentials."""
    return {}
{%- endif %}


def raw_authorization() -> str:
    """The Authorization header of a raw request, CRLF included ("" when there is none)."""
    return "".join(f"{name}: {value}\r\n" for name, value in authorization().items())


async def fetch(
    url: str, method: str = "GET", *, authorized: bool = True, **kwargs: Any
) -> HTTPResponse:
    """One request that returns the response whatever its status.

    It carries `authorization()` (a credential with every scope, if the service takes any),
    unless `authorized` is False or the test gives its own Authorization header.
    """
    headers = {**(authorization() if authorized else {}), **(kwargs.pop("headers", None) or {})}
    # A client of its own: AsyncHTTPClient() is shared per event loop and runs 10 requests at
    # a time, so requests the tests hold open would queue any fetch the service itself makes.
    client = AsyncHTTPClient(force_instance=True)
    try:
        return await client.fetch(url, method=method, headers=headers, raise_error=False, **kwargs)
    finally:
        client.close()


async def send_json(url: str, method: str, body: Any, **kwargs: Any) -> HTTPResponse:
    return await fetch(
        url,
        method,
        body=json.dumps(body),
        headers={"Content-Type": "application/json", **(kwargs.pop("headers", None) or {})},
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
