"""Run the application: one process or several sharing a port, with graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from {{ cookiecutter.package_name }}.app import make_app
from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.database import (
    close,
    connect,
)
from {{ cookiecutter.package_name }}.repository import {{ cookiecutter.resource_name | pascal }}Repository
from {{ cookiecutter.package_name }}.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings, sockets: list[socket.socket]) -> None:
    """Serve on `sockets` until SIGTERM or SIGINT, then drain in-flight requests and stop."""
    client = connect(settings)
    {{ cookiecutter.collection_name }} = {{ cookiecutter.resource_name | pascal }}Repository(client, settings)
    await {{ cookiecutter.collection_name }}.ensure_indexes()
    context = ApiContext(
        settings=settings,
        client=client,
        {{ cookiecutter.collection_name }}={{ cookiecutter.collection_name }},
    )
    server = HTTPServer(make_app(context), max_body_size=settings.max_body_bytes)
    server.add_sockets(sockets)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    host, port = sockets[0].getsockname()[:2]
    log.info("listening on http://%s:%d (pid %d)", host, port, os.getpid())
    await stop.wait()

    server.stop()
    log.info("shutting down: waiting for %d in-flight request(s)", context.in_flight.count)
    if not await context.in_flight.wait_idle(settings.shutdown_grace_seconds):
        log.warning("grace period over: closing %d request(s)", context.in_flight.count)
    await server.close_all_connections()
    await close(client)
    log.info("stopped")


def run(settings: Settings) -> int:
    """Bind the port, fork `WORKERS` processes if asked, serve; the exit status."""
    try:
        sockets = bind_sockets(settings.port, settings.host)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, error)
        return 1
    if settings.workers == 1:
        asyncio.run(serve(settings, sockets))
        return 0
    return _supervise(settings, sockets)


def _supervise(settings: Settings, sockets: list[socket.socket]) -> int:
    """Fork the workers before any event loop or client exists; pass signals on to them."""
    children = []
    for _ in range(settings.workers):
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                asyncio.run(serve(settings, sockets))
                status = 0
            except BaseException:
                log.exception("worker %d failed", os.getpid())
            finally:
                os._exit(status)
        children.append(pid)

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    failures = 0
    for child in children:
        _, wait_status = os.waitpid(child, 0)
        failures += os.waitstatus_to_exitcode(wait_status) != 0
    return 1 if failures else 0
