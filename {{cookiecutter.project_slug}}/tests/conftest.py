"""Fixtures against a real MongoDB: `MONGODB_URI` (default localhost), one fresh database a run."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from support import ServeApp
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from {{ cookiecutter.package_name }}.app import make_app
from {{ cookiecutter.package_name }}.database import AsyncMongoClient, Document, close, connect
from {{ cookiecutter.package_name }}.settings import Settings

MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://localhost:27017")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        mongodb_uri=MONGODB_URI,
        mongodb_database=f"test_{uuid.uuid4().hex[:12]}",
        mongodb_timeout_ms=3000,
    )


@pytest.fixture(scope="session")
async def client(settings: Settings) -> AsyncIterator[AsyncMongoClient[Document]]:
    client = connect(settings)
    try:
        await asyncio.wait_for(client.admin.command("ping"), 5)
    except Exception as error:
        await close(client)
        pytest.fail(
            f"MongoDB is not reachable at {MONGODB_URI} ({type(error).__name__}). "
            "Start one (docker run -d -p 27017:27017 mongo:8) or set MONGODB_URI.",
            pytrace=False,
        )
    yield client
    await client.drop_database(settings.mongodb_database)
    await close(client)


@pytest.fixture
async def serve_app() -> AsyncIterator[ServeApp]:
    """Start the application on a free 127.0.0.1 port; the server stops after the test."""
    servers: list[HTTPServer] = []

    def start(app_settings: Settings, app_client: AsyncMongoClient[Document]) -> str:
        sock, port = bind_unused_port()
        server = HTTPServer(make_app(app_settings, app_client))
        server.add_sockets([sock])
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop()
        await server.close_all_connections()


@pytest.fixture
def base_url(serve_app: ServeApp, settings: Settings, client: AsyncMongoClient[Document]) -> str:
    return serve_app(settings, client)
