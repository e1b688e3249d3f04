"""The application factory and its route table."""

from __future__ import annotations

import asyncio

import tornado.web

from {{ cookiecutter.package_name }}.database import AsyncMongoClient, Document, ping
from {{ cookiecutter.package_name }}.settings import Settings


class HealthHandler(tornado.web.RequestHandler):
    """Liveness: the process is up and its event loop answers."""

    def get(self) -> None:
        self.write({"status": "ok"})


class ReadinessHandler(tornado.web.RequestHandler):
    """Readiness: the database answers a ping within the readiness timeout."""

    def initialize(self, client: AsyncMongoClient[Document], timeout: float) -> None:
        self.client = client
        self.timeout = timeout

    async def get(self) -> None:
        try:
            await asyncio.wait_for(ping(self.client), self.timeout)
        except Exception:
            self.set_status(503)
            self.write({"status": "unavailable"})
        else:
            self.write({"status": "ok"})


def make_app(settings: Settings, client: AsyncMongoClient[Document]) -> tornado.web.Application:
    readiness_timeout = min(settings.mongodb_timeout_ms / 1000, 2.0)
    return tornado.web.Application(
        [
            (r"/healthz", HealthHandler),
            (r"/readyz", ReadinessHandler, {"client": client, "timeout": readiness_timeout}),
        ]
    )
