"""Run the application: one process or several sharing a port, with graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal

import tornado.httpserver
import tornado.netutil

from {{ cookiecutter.package_name }}.app import make_app
from {{ cookiecutter.package_name }}.database import close, connect
from {{ cookiecutter.package_name }}.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, then stop accepting and close the client."""
    client = connect(settings)
    app = make_app(settings, client)
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(tornado.netutil.bind_sockets(settings.port, settings.host))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("listening on http://%s:%d", settings.host, settings.port)
    await stop.wait()
    server.stop()
    await server.close_all_connections()
    await close(client)
