"""Log lines as JSON or text, each carrying the request it was written for.

Every module logs through the standard `logging` module; structlog formats the lines. While a
request is handled, its id, route{% if cookiecutter.auth != "none" %} and caller{% endif %} are bound in context variables, so
that every line written for it carries them, across awaits, whichever module writes it.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

import orjson
import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars
from structlog.typing import EventDict, Processor
{%- if cookiecutter.opentelemetry %}

from {{ cookiecutter.package_name }}.tracing import add_trace_ids
{%- endif %}

if TYPE_CHECKING:
    from tornado.httputil import HTTPServerRequest
    from tornado.web import RequestHandler

    from {{ cookiecutter.package_name }}.settings import Settings

__all__ = [
    "AccessLog",
    "LineHandler",
    "bind_contextvars",
    "clear_contextvars",
    "client_address",
    "configure_logging",
    "log_handler",
]

# Access lines of these routes are logged at PROBE_LOG_LEVEL.
PROBE_ROUTES = frozenset({"/healthz", "/readyz"})
# The record attribute that carries an access line's ready event.
ACCESS_EVENT = "access_event"
# Client-supplied text is cut to these lengths in the access line, which stays under the
# 4 KiB that several workers can write to one pipe without their lines mixing.
_PATH_MAX_LENGTH = 1024
_USER_AGENT_MAX_LENGTH = 256
_CLIENT_MAX_LENGTH = 64
# A bearer credential inside a message (Tornado quotes a malformed header it refuses).
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s'\"]+")

access_log = logging.getLogger("{{ cookiecutter.package_name }}.access")


def configure_logging(settings: Settings, stream: TextIO = sys.stderr) -> None:
    """Send every logger's lines to `stream`, in LOG_FORMAT, from LOG_LEVEL up."""
    root = logging.getLogger()
    root.handlers[:] = [log_handler(settings, stream)]
    root.setLevel(settings.log_level)
    logging.captureWarnings(True)  # warnings become log lines too, in LOG_FORMAT
    # What no line shows, not collected for every line: the logging HOWTO's "Optimization".
    logging._srcfile = None  # the caller's file and line
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def log_handler(settings: Settings, stream: TextIO) -> LineHandler:
    """A handler that writes lines to `stream` in LOG_FORMAT, with the request's context."""
    context: list[Processor] = [
        _redact_credentials,
        structlog.contextvars.merge_contextvars,
    ]
    stamps: list[Processor] = [
        structlog.processors.TimeStamper(fmt="iso", utc=True),
{%- if cookiecutter.opentelemetry %}
        add_trace_ids,
{%- endif %}
    ]
    if settings.log_format == "json":
        rendering: list[Processor] = [
            structlog.processors.format_exc_info,  # the traceback as one field
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(serializer=_json_line),
        ]
    else:
        rendering = [structlog.dev.ConsoleRenderer(colors=False)]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *context,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            *stamps,
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
    )
    return LineHandler(
        stream, formatter, [*context, structlog.processors.add_log_level, *stamps, *rendering]
    )


def _json_line(event: EventDict, **options: Any) -> str:
    return orjson.dumps(event, default=options.get("default")).decode()


class LineHandler(logging.StreamHandler[TextIO]):
    """Writes each record as a line, and takes access lines as ready events too.

    An access line (one a request) given to `write_event` runs through the same processors
    without becoming a LogRecord first, which is most of what it would cost: measured in the
    service, a sixth of the CPU of a GET by id went to its access line through `logging`.
    An access record (from `AccessLog` when other handlers listen) is formatted the same way.
    """

    def __init__(self, stream: TextIO, formatter: logging.Formatter, chain: list[Processor]):
        super().__init__(stream)
        self.setFormatter(formatter)
        self.chain = chain

    def render(self, level: int, event: EventDict) -> str:
        method = logging.getLevelName(level).lower()
        rendered: Any = event
        for processor in self.chain:
            rendered = processor(None, method, rendered)
        return str(rendered)

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, ACCESS_EVENT, None)
        if fields is None:
            return super().format(record)
        return self.render(record.levelno, dict(fields))

    def write_event(self, level: int, event: EventDict) -> None:
        if level < self.level:
            return
        line = self.render(level, event)
        self.acquire()
        try:
            self.stream.write(line + self.terminator)
            self.flush()
        except Exception:  # as logging does: say so on stderr and go on
            self.handleError(logging.makeLogRecord({"msg": line}))
        finally:
            self.release()


def _direct_handlers() -> list[LineHandler] | None:
    """The handlers access lines reach, if all are LineHandlers; else None (use logging)."""
    found: list[LineHandler] = []
    logger: logging.Logger | None = access_log
    while logger is not None:
        for handler in logger.handlers:
            if not isinstance(handler, LineHandler):
                return None
            found.append(handler)
        logger = logger.parent if logger.propagate else None
    return found


class AccessLog:
    """One line per request: 5xx at ERROR, probes at PROBE_LOG_LEVEL, the rest at INFO."""

    def __init__(self, settings: Settings) -> None:
        self.probe_level = logging.getLevelName(settings.probe_log_level)
        self.trusted_proxies = settings.trusted_proxies

    def __call__(self, handler: RequestHandler) -> None:
        request = handler.request
        status = handler.get_status()
        route = getattr(handler, "route", "")
        if status >= 500:
            level = logging.ERROR
        elif route in PROBE_ROUTES:
            level = self.probe_level
        else:
            level = logging.INFO
        if not access_log.isEnabledFor(level):
            return
        duration_ms = round(request.request_time() * 1000, 3)
        path = request.path[:_PATH_MAX_LENGTH]
        message = f"{request.method} {path} {status} {duration_ms:.1f}ms"
{%- if cookiecutter.auth != "none" %}
        caller = getattr(handler, "caller", None)
{%- endif %}
        fields = {
            "method": request.method,
            "http_route": route,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "bytes": 0 if request.method == "HEAD" else _body_bytes(handler),
            "client": self._client(request),
            "user_agent": request.headers.get("User-Agent", "")[:_USER_AGENT_MAX_LENGTH],
            "request_id": getattr(handler, "request_id", None),
{%- if cookiecutter.auth != "none" %}
            "caller": caller.identity if caller else None,
{%- endif %}
        }
        event = {"event": message, "logger": access_log.name, **fields}
        direct = _direct_handlers()
        if direct is None:  # another handler listens (a test's, say): a record for all
            access_log.log(level, message, extra={**fields, ACCESS_EVENT: event})
            return
        for line_handler in direct:
            line_handler.write_event(level, dict(event))

    def _client(self, request: HTTPServerRequest) -> str:
        peer = request.remote_ip or ""
        if not self.trusted_proxies:
            return peer
        forwarded_for = request.headers.get_list("X-Forwarded-For")
        return client_address(peer, forwarded_for, self.trusted_proxies)[:_CLIENT_MAX_LENGTH]


def _body_bytes(handler: RequestHandler) -> int:
    """The response body's length, as Tornado declared it once the body was complete."""
    return int(handler._headers.get("Content-Length", 0))


def _redact_credentials(_logger: object, _method: str, event: EventDict) -> EventDict:
    message = event.get("event")
    if isinstance(message, str) and "bearer" in message.lower():
        event["event"] = _BEARER.sub(r"\1 [redacted]", message)
    return event


def client_address(
    peer: str,
    forwarded_for: Sequence[str],
    trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """The client's address: the peer, or behind trusted proxies the last untrusted hop.

    X-Forwarded-For is read from the right, and only while each hop is a trusted proxy, so a
    client cannot name itself by sending the header: its own entries lie left of the first
    address a trusted proxy appended.
    """
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    address = peer
    while hops and _trusted(address, trusted):
        address = hops.pop()
    return address


def _trusted(
    address: str, trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
