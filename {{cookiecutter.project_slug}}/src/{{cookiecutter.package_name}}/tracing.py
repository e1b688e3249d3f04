"""OpenTelemetry tracing: a server span per request, a client span per MongoDB command.

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
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.instrumentation.tornado import TornadoInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from tornado.web import RequestHandler

SERVICE_NAME = "{{ cookiecutter.project_slug }}"
# Span names take any other method as `HTTP`, so that clients cannot multiply them.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def start_tracing(exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Instrument Tornado and the MongoDB driver; None when the environment turns tracing off.

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
    tornado = TornadoInstrumentor()  # type: ignore[no-untyped-call]
    tornado.instrument(tracer_provider=provider, server_request_hook=_name_by_route)
    PymongoInstrumentor().instrument(tracer_provider=provider)
    return provider


def stop_tracing(provider: TracerProvider | None) -> None:
    """Export the spans still buffered and remove the instrumentation."""
    if provider is None:
        return
    TornadoInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
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


def _name_by_route(span: trace.Span, handler: RequestHandler) -> None:
    """Name the server span after the route template, as the metrics and logs do."""
    route = getattr(handler, "route", "")
    if span.is_recording() and route:
        method = handler.request.method or ""
        span.update_name(f"{method if method in _METHODS else 'HTTP'} {route}")
        span.set_attribute("http.route", route)


def add_trace_ids(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """A structlog processor: the current trace and span ids, as they appear in the traces."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = trace.format_trace_id(context.trace_id)
        event["span_id"] = trace.format_span_id(context.span_id)
    return event
