"""OpenTelemetry tracing: a server span per request, a client span per MongoDB command.

The client spans come from OpenTelemetry's PyMongo instrumentation (command listeners, so
Motor is covered too). The server spans are made here, by the handlers, rather than by
opentelemetry-instrumentation-tornado: that one (0.66b1) turns a malformed Content-Length
into a 500, logs tracebacks for unknown methods, ends its span before an error response
is logged, and never ends the span of a client that hangs up.

Configured only by the standard OTEL_* environment variables. Tracing is on once an OTLP
endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, spans go
over OTLP/HTTP), unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. The others
(OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_PROPAGATORS, the
exporter's headers and timeouts) work as the OpenTelemetry SDK documents them. An incoming
`traceparent` header continues the caller's trace.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any, ClassVar

from opentelemetry import context, propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from tornado.httputil import HTTPServerRequest

SERVICE_NAME = "{{ cookiecutter.project_slug }}"
# Any other method is `_OTHER` (and `HTTP` in span names), so that clients cannot multiply them.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def start_tracing(exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Trace requests and MongoDB commands; None when the environment turns tracing off.

    Call it in each process that serves, before the MongoDB client is created. `exporter`
    replaces the OTLP exporter (the tests pass an in-memory one).
    """
    if exporter is None and not _enabled():
        return None
    if not _service_named():
        os.environ["OTEL_SERVICE_NAME"] = SERVICE_NAME
    # Span attributes after the stable HTTP and database conventions, unless chosen otherwise.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,database")
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter()))
    PymongoInstrumentor().instrument(tracer_provider=provider)
    RequestSpan.tracer = provider.get_tracer(__name__)
    return provider


def stop_tracing(provider: TracerProvider | None) -> None:
    """Export the spans still buffered and remove the instrumentation."""
    if provider is None:
        return
    RequestSpan.tracer = None
    PymongoInstrumentor().uninstrument()
    provider.shutdown()


def _enabled() -> bool:
    """Whether to export spans: an endpoint is set, and nothing turns tracing off."""
    endpoint = any(
        os.environ.get(name, "").strip()
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    return endpoint and not disabled and exporter != "none"


def _service_named() -> bool:
    attributes = os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    return "OTEL_SERVICE_NAME" in os.environ or any(
        pair.split("=")[0].strip() == "service.name" for pair in attributes.split(",")
    )


class RequestSpan:
    """The server span of one request: current while it is handled, ended once."""

    tracer: ClassVar[trace.Tracer | None] = None  # set while tracing is on

    def __init__(self, span: trace.Span) -> None:
        self.span = span

    @classmethod
    def start(cls, request: HTTPServerRequest, route: str) -> RequestSpan | None:
        """Start the span, continuing the caller's trace; None when tracing is off.

        Call it in the request's own task (Tornado runs each request in one), where it stays
        current: the MongoDB command spans and the log lines of the request see it.
        """
        if cls.tracer is None:
            return None
        method = request.method if request.method in _METHODS else "_OTHER"
        name = method if method != "_OTHER" else "HTTP"
        span = cls.tracer.start_span(
            f"{name} {route}" if route else name,
            context=propagate.extract(request.headers),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                **({"http.route": route} if route else {}),
                "url.path": request.path,
                "url.scheme": request.protocol,
                "network.protocol.version": request.version.removeprefix("HTTP/"),
                "client.address": request.remote_ip or "",
                "user_agent.original": request.headers.get("User-Agent", "")[:256],
            },
        )
        # Not detached: the request's task, and the context it holds, end with the request.
        context.attach(trace.set_span_in_context(span))
        return cls(span)

    def end(self, status: int, closed: bool = False) -> None:
        """End with the response's status, or as abandoned when the client hung up first."""
        if not self.span.is_recording():
            return  # ended already
        self.span.set_attribute("http.response.status_code", status)
        if closed:
            self.span.set_status(Status(StatusCode.ERROR, "the client closed the connection"))
            self.span.set_attribute("error.type", "client_closed")
        elif status >= 500:
            self.span.set_status(Status(StatusCode.ERROR))
            self.span.set_attribute("error.type", str(status))
        self.span.end()


def add_trace_ids(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """A structlog processor: the current trace and span ids, as they appear in the traces."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = trace.format_trace_id(context.trace_id)
        event["span_id"] = trace.format_span_id(context.span_id)
    return event
