"""Log lines: JSON or text, the request's context on every line, the access line, levels."""
{%- set auth = cookiecutter.auth != "none" %}

from __future__ import annotations

import io
import ipaddress
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from processes import DEADLINE, StartServer, wait_until_ready
{%- if auth %}
from support import (
    CASES,
    IDENTITY,
    ServeApp,
    authorization,
    fetch,
    raw_exchange,
    send_json,
    with_settings,
)
{%- else %}
from support import CASES, ServeApp, fetch, send_json, with_settings
{%- endif %}

from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.logs import client_address, log_handler
from {{ cookiecutter.package_name }}.repository import Repository
from {{ cookiecutter.package_name }}.settings import Settings

CASE = CASES[0]
ACCESS = "{{ cookiecutter.package_name }}.access"


class Lines:
    """What a handler configured as the service configures it wrote, line by line."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.all() if line["logger"] == ACCESS]


@contextmanager
def attach(settings: Settings, **changes: Any) -> Iterator[io.StringIO]:
    """Log every line from DEBUG up through the service's handler into a buffer."""
    stream = io.StringIO()
    handler = log_handler(settings.model_copy(update=changes), stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def json_lines(settings: Settings) -> Iterator[Lines]:
    with attach(settings, log_format="json") as stream:
        yield Lines(stream)


@pytest.fixture
def text_lines(settings: Settings) -> Iterator[io.StringIO]:
    with attach(settings, log_format="text") as stream:
        yield stream


async def test_every_line_written_for_a_request_carries_its_id_and_route(
    base_url: str, repositories: dict[str, Repository], json_lines: Lines
) -> None:
    """A line the handler writes after awaiting the database still knows its request."""
    await repositories[CASE.name].collection.insert_one({"written": "by another service"})

    response = await fetch(f"{base_url}{CASE.path}", headers={"X-Request-ID": "list-1"})

    assert response.code == 200, response.body
    skipped = [line for line in json_lines.all() if line["message"].startswith("skipping")]
    assert len(skipped) == 1, json_lines.all()
    assert skipped[0]["level"] == "warning"
    assert skipped[0]["logger"] == "{{ cookiecutter.package_name }}.handlers"
    assert skipped[0]["request_id"] == "list-1"
    assert skipped[0]["http_route"] == CASE.path
{%- if auth %}
    assert skipped[0]["caller"] == IDENTITY
{%- endif %}
    assert {"timestamp", "level", "logger", "message"} <= skipped[0].keys()


async def test_the_access_line_says_who_asked_what_and_how_it_went(
    base_url: str, repositories: dict[str, Repository], json_lines: Lines
) -> None:
    response = await send_json(
        f"{base_url}{CASE.path}", "POST", CASE.new(1), headers={"User-Agent": "probe/1.0"}
    )

    assert response.code == 201, response.body
    [line] = json_lines.access()
    created = json.loads(response.body)
    assert line == {
        "timestamp": line["timestamp"],
        "level": "info",
        "logger": ACCESS,
        "message": f"POST {CASE.path} 201 {line['duration_ms']:.1f}ms",
        "method": "POST",
        "http_route": CASE.path,
        "path": CASE.path,
        "status": 201,
        "duration_ms": line["duration_ms"],
        "bytes": len(response.body),
        "client": "127.0.0.1",
        "user_agent": "probe/1.0",
        "request_id": response.headers["X-Request-ID"],
{%- if auth %}
        "caller": IDENTITY,
{%- endif %}
    }
    assert line["duration_ms"] >= 0
    assert line["timestamp"].endswith("Z")
    assert created["id"] not in json.dumps(line)  # the route, not the path, names the item
{%- if auth %}


async def test_no_line_holds_the_credential(base_url: str, json_lines: Lines) -> None:
    await fetch(f"{base_url}{CASE.path}")
    await fetch(f"{base_url}{CASE.path}", headers={"Authorization": "Bearer secret-but-wrong"})
    credential = authorization()["Authorization"].removeprefix("Bearer ")
    text = json_lines.stream.getvalue()
    assert len(json_lines.access()) == 2
    assert credential not in text
    assert "secret-but-wrong" not in text
{%- endif %}


async def test_a_long_path_is_cut_so_that_lines_from_workers_do_not_mix(
    base_url: str, json_lines: Lines
) -> None:
    """Several processes can append to one pipe without mixing lines only up to 4 KiB."""
    long_path = "/" + "x" * 6000
    response = await fetch(f"{base_url}{long_path}", headers={"User-Agent": "u" * 6000})

    assert response.code == 404
    [line] = json_lines.access()
    assert line["path"] == long_path[:1024]
    assert len(json_lines.stream.getvalue().encode()) < 4096


async def test_a_head_request_sends_no_body_bytes(base_url: str, json_lines: Lines) -> None:
    response = await fetch(f"{base_url}/healthz", "HEAD")

    assert response.code == 200
    assert [line["bytes"] for line in json_lines.access()] == [0]
{%- if auth %}


async def test_a_credential_in_a_malformed_header_is_not_logged(
    base_url: str, json_lines: Lines
) -> None:
    """Tornado refuses a header with a control character and quotes it in its log line."""
    credential = authorization()["Authorization"]
    request = f"GET {CASE.path} HTTP/1.1\r\nHost: x\r\nAuthorization: {credential}\x7f\r\n\r\n"

    response = await raw_exchange(base_url, request.encode())

    assert response.status == 400
    text = json_lines.stream.getvalue()
    assert "[redacted]" in text
    assert credential.removeprefix("Bearer ") not in text
{%- endif %}


async def test_an_item_route_is_logged_as_its_template(base_url: str, json_lines: Lines) -> None:
    missing = "0123456789abcdef01234567"
    response = await fetch(f"{base_url}{CASE.path}/{missing}")

    assert response.code == 404
    [line] = json_lines.access()
    assert line["http_route"] == CASE.path + "/{id}"
    assert line["path"] == f"{CASE.path}/{missing}"
    assert line["level"] == "info"


@pytest.mark.parametrize(
    ("probe_level", "path", "status", "level"),
    [
        ("DEBUG", "/healthz", 200, logging.DEBUG),
        ("INFO", "/healthz", 200, logging.INFO),
        ("DEBUG", "/readyz", 503, logging.ERROR),  # a failing probe is never hidden
        ("DEBUG", "/no/such/route", 404, logging.INFO),
        ("DEBUG", CASE.path, 200, logging.INFO),
    ],
)
async def test_access_levels(
    serve_app: ServeApp,
    context: ApiContext,
    caplog: pytest.LogCaptureFixture,
    probe_level: str,
    path: str,
    status: int,
    level: int,
) -> None:
    caplog.set_level(logging.DEBUG, logger=ACCESS)
    served = with_settings(context, probe_log_level=probe_level)
    served.readiness.draining = True  # so that /readyz answers 503
    base_url = serve_app(served)

    response = await fetch(f"{base_url}{path}")

    assert response.code == status
    [record] = [record for record in caplog.records if record.name == ACCESS]
    assert record.levelno == level


async def test_behind_a_trusted_proxy_the_client_is_the_forwarded_address(
    serve_app: ServeApp, context: ApiContext, json_lines: Lines
) -> None:
    trusted = with_settings(context, trusted_proxies=[ipaddress.ip_network("127.0.0.0/8")])
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    await fetch(f"{serve_app(context)}/healthz", headers=forwarded)
    await fetch(f"{serve_app(trusted)}/healthz", headers=forwarded)

    assert [line["client"] for line in json_lines.access()] == ["127.0.0.1", "203.0.113.9"]


TRUSTED = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.0.2.1/32")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("198.51.100.7", [], "198.51.100.7"),
        ("198.51.100.7", ["203.0.113.9"], "198.51.100.7"),  # not a trusted proxy: ignored
        ("10.1.2.3", [], "10.1.2.3"),
        ("10.1.2.3", ["203.0.113.9"], "203.0.113.9"),
        ("10.1.2.3", ["1.1.1.1, 203.0.113.9"], "203.0.113.9"),  # a client's own entry: left
        ("10.1.2.3", ["203.0.113.9, 192.0.2.1"], "203.0.113.9"),  # two trusted hops
        ("10.1.2.3", ["203.0.113.9", "10.9.9.9"], "203.0.113.9"),  # the header twice
        ("10.1.2.3", ["10.2.2.2, 10.3.3.3"], "10.2.2.2"),  # only proxies: the first one
        ("10.1.2.3", ["unknown"], "unknown"),
    ],
)
def test_client_address(peer: str, forwarded_for: list[str], client: str) -> None:
    assert client_address(peer, forwarded_for, TRUSTED) == client


def test_lines_written_outside_requests_carry_no_request(
    settings: Settings, start_process: StartServer
) -> None:
    """The database client's background tasks start before any request, not inside one."""
    uri = settings.mongodb_uri
    if "?" in uri:
        uri += "&heartbeatFrequencyMS=500"
    else:
        uri += ("" if uri.count("/") > 2 else "/") + "?heartbeatFrequencyMS=500"
    server = start_process(
        MONGODB_URI=uri,
        MONGODB_DATABASE=settings.mongodb_database,
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
    )
    port = server.port()
    wait_until_ready(port)  # /readyz pings: without indexes, the first use of the database
    ready = {"status": 0}
    while ready["status"] != 200:  # skip to that request's access line
        ready = json.loads(server.wait_for(r'"/readyz"').string)
        ready.setdefault("status", 0)
    heartbeats: list[dict[str, Any]] = []
    deadline = time.monotonic() + DEADLINE
    while len(heartbeats) < 3 and time.monotonic() < deadline:
        heartbeats.append(json.loads(server.wait_for(r'"logger":"pymongo\.topology"').string))
    for line in heartbeats:
        assert "request_id" not in line, line


def test_a_traceback_is_one_field_of_one_line(json_lines: Lines) -> None:
    log = logging.getLogger("{{ cookiecutter.package_name }}.test")
    try:
        _ = 1 / 0
    except ZeroDivisionError:
        log.exception("it failed")

    [line] = json_lines.all()
    assert line["message"] == "it failed"
    assert line["level"] == "error"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError" in line["exception"]


async def test_text_lines_carry_the_context_too(
    base_url: str, repositories: dict[str, Repository], text_lines: io.StringIO
) -> None:
    await repositories[CASE.name].collection.insert_one({"written": "by another service"})

    await fetch(f"{base_url}{CASE.path}", headers={"X-Request-ID": "text-1"})

    lines = text_lines.getvalue().splitlines()
    [skipped] = [line for line in lines if "skipping" in line]
    assert "request_id=text-1" in skipped
    assert f"http_route={CASE.path}" in skipped
    assert not any(line.startswith("{") for line in lines)
