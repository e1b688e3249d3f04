"""Tracing: a server span per request named by its route, a client span per MongoDB command."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from unittest import mock

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from support import CASES, RawResponse, ServeApp, raw_authorization, raw_exchange

from {{ cookiecutter.package_name }}.context import ApiContext, Readiness
from {{ cookiecutter.package_name }}.database import close, connect
from {{ cookiecutter.package_name }}.logs import log_handler
from {{ cookiecutter.package_name }}.repository import open_repositories
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracing import start_tracing, stop_tracing

CASE = CASES[0]
# A caller's trace context, as a W3C `traceparent` header carries it.
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@dataclass
class Traced:
    base_url: str
    provider: TracerProvider
    exporter: InMemorySpanExporter

    def spans(self) -> list[ReadableSpan]:
        self.provider.force_flush()
        return list(self.exporter.get_finished_spans())

    def served(self) -> list[ReadableSpan]:
        """The service's server spans."""
        return [span for span in self.spans() if span.kind == SpanKind.SERVER]

    def commands(self, database: str) -> list[ReadableSpan]:
        """The client spans of MongoDB commands, named `<database>.<command>`."""
        return [
            span
            for span in self.spans()
            if span.kind == SpanKind.CLIENT and span.name.startswith(f"{database}.")
        ]


@pytest.fixture
async def traced(settings: Settings, serve_app: ServeApp) -> AsyncIterator[Traced]:
    """The application with tracing on, exporting to memory, and a client made after it."""
    exporter = InMemorySpanExporter()
    with mock.patch.dict(os.environ):  # what start_tracing sets does not outlive the test
        provider = start_tracing(exporter)
        assert provider is not None
        client = connect(settings)  # the driver's command listeners are taken at creation
        context = ApiContext(
            settings=settings,
            client=client,
            repositories=open_repositories(client, settings),
            readiness=Readiness(),
        )
        try:
            yield Traced(serve_app(context), provider, exporter)
        finally:
            await close(client)
            stop_tracing(provider)


async def send(base_url: str, method: str, path: str, body: bytes = b"") -> RawResponse:
    """A request with the caller's `traceparent`, sent by hand: an instrumented HTTP client
    would replace the header with its own span."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\ntraceparent: {TRACEPARENT}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{raw_authorization()}\r\n"
    )
    return await raw_exchange(base_url, head.encode() + body)


async def test_a_request_is_a_server_span_with_a_client_span_per_command(
    traced: Traced, settings: Settings
) -> None:
    response = await send(traced.base_url, "POST", CASE.path, json.dumps(CASE.new(1)).encode())
    assert response.status == 201, response.body

    [server] = traced.served()
    assert server.name == f"POST {CASE.path}"
    assert server.attributes is not None
    assert server.attributes["http.route"] == CASE.path
    assert format_trace_id(server.context.trace_id) == TRACE_ID  # the caller's trace goes on
    assert server.parent is not None
    assert format_span_id(server.parent.span_id) == PARENT_ID
    commands = traced.commands(settings.mongodb_database)
    assert [span.name.rpartition(".")[2] for span in commands] == ["insert"]
    for command in commands:
        assert command.parent is not None
        assert command.parent.span_id == server.context.span_id
        assert command.context.trace_id == server.context.trace_id


async def test_an_item_span_is_named_by_its_route_template(traced: Traced) -> None:
    missing = "0123456789abcdef01234567"
    response = await send(traced.base_url, "GET", f"{CASE.path}/{missing}")

    assert response.status == 404
    [server] = traced.served()
    assert server.name == f"GET {CASE.path}" + "/{id}"
    assert missing not in server.name


@pytest.mark.parametrize(("path", "status"), [(CASE.path, 200), ("/no/such/route", 404)])
async def test_log_lines_carry_the_trace_and_span_ids(
    traced: Traced,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    path: str,
    status: int,
) -> None:
    """Error responses too: their span ends after the access line is written."""
    caplog.set_level(logging.INFO, logger="{{ cookiecutter.package_name }}.access")
    stream = io.StringIO()
    handler = log_handler(settings.model_copy(update={"log_format": "json"}), stream)
    access = logging.getLogger("{{ cookiecutter.package_name }}.access")
    access.addHandler(handler)
    try:
        response = await send(traced.base_url, "GET", path)
    finally:
        access.removeHandler(handler)

    assert response.status == status
    [server] = traced.served()
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["trace_id"] == TRACE_ID
    assert line["span_id"] == format_span_id(server.context.span_id)


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (f"BREW {CASE.path}/0123456789abcdef01234567 HTTP/1.1\r\nHost: x\r\n", 405),
        (f"POST {CASE.path} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n", 400),
        (f"POST {CASE.path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n", 415),
    ],
    ids=["unknown-method", "bad-length", "repeated-length"],
)
async def test_odd_requests_are_answered_as_without_tracing(
    traced: Traced, caplog: pytest.LogCaptureFixture, request_head: str, status: int
) -> None:
    caplog.set_level(logging.WARNING)
    request = request_head + f"traceparent: {TRACEPARENT}\r\n{raw_authorization()}\r\n"
    body = b"{}" if "2, 2" in request_head else b""

    response = await raw_exchange(traced.base_url, request.encode() + body)

    assert response.status == status, response.body
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    for span in traced.served():
        assert not span.name.endswith("_text}")  # named by the route template, always


async def test_a_client_that_hangs_up_mid_body_ends_its_span(
    traced: Traced, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    host, port = traced.base_url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST {CASE.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: 100\r\ntraceparent: {TRACEPARENT}\r\n{raw_authorization()}\r\n"
    )
    writer.write(head.encode() + b"{")
    await writer.drain()
    await asyncio.sleep(0.2)  # the service reads the head and starts the request
    writer.close()
    await writer.wait_closed()

    deadline = time.monotonic() + 10
    while not traced.served():
        assert time.monotonic() < deadline, "the abandoned request's span never ended"
        await asyncio.sleep(0.05)
    [server] = traced.served()
    assert server.attributes is not None
    assert server.attributes["error.type"] == "client_closed"
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_tracing_is_off_without_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert start_tracing() is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert start_tracing() is None
