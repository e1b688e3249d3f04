"""Fixtures against a real MongoDB: `MONGODB_URI` (default localhost), one fresh database a run."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from processes import ServerProcess, StartServer
from proxy import StallingProxy
{%- if cookiecutter.auth == "api-key" %}
from support import API_KEYS, CASES, Case, ServeApp, auth_environment, case_named
{%- elif cookiecutter.auth == "jwt" %}
from support import (
    AUDIENCE,
    CASES,
    ISSUER,
    Case,
    JwksServer,
    ServeApp,
    auth_environment,
    case_named,
)
{%- else %}
from support import CASES, Case, ServeApp, auth_environment, case_named
{%- endif %}
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from {{ cookiecutter.package_name }}.app import make_app
from {{ cookiecutter.package_name }}.context import ApiContext, Readiness
from {{ cookiecutter.package_name }}.database import (
    AsyncMongoClient,
    Document,
    close,
    connect,
)
from {{ cookiecutter.package_name }}.repository import Repository, open_repositories
from {{ cookiecutter.package_name }}.settings import Settings

MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://localhost:27017")
FERRETDB_DECIMAL = (
    "FerretDB 1.x cannot store BSON Decimal128 (the connection panics and the collection "
    "stays unreadable); run against MongoDB to cover decimal fields"
)


{% if cookiecutter.auth == "jwt" -%}
@pytest.fixture(scope="session")
def jwks_server() -> Iterator[JwksServer]:
    """The identity provider's key set, served for the whole run."""
    server = JwksServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def jwks(jwks_server: JwksServer) -> Iterator[JwksServer]:
    """The JWKS server, for a test that changes what it serves; restored afterwards."""
    jwks_server.reset()
    yield jwks_server
    jwks_server.reset()


@pytest.fixture(scope="session")
def settings(jwks_server: JwksServer) -> Settings:
{%- else -%}
@pytest.fixture(scope="session")
def settings() -> Settings:
{%- endif %}
    return Settings(
        mongodb_uri=MONGODB_URI,
        mongodb_database=f"test_{uuid.uuid4().hex[:12]}",
        mongodb_timeout_ms=10_000,  # generous: a loaded CI machine must not fail tests
        max_body_bytes=16_384,
{%- if cookiecutter.auth == "api-key" %}
        api_keys=API_KEYS,
{%- elif cookiecutter.auth == "jwt" %}
        jwt_jwks_url=jwks_server.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
{%- endif %}
    )


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory and no service variables in the environment."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
{%- if cookiecutter.auth == "jwt" %}
    # Required settings; a test about one of them sets or deletes it.
    monkeypatch.setenv("JWT_JWKS_URL", "https://idp.example.com/.well-known/jwks.json")
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", AUDIENCE)
{%- endif %}
    monkeypatch.chdir(tmp_path)
    return tmp_path


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


@pytest.fixture(scope="session")
async def on_ferretdb(client: AsyncMongoClient[Document]) -> bool:
    """FerretDB lacks a few MongoDB features; tests mark exactly those as expected failures."""
    return "ferretdbVersion" in await client.admin.command("buildInfo")


@pytest.fixture(autouse=True)
def _decimals_need_mongodb(request: pytest.FixtureRequest) -> None:
    """Stop before writing a Decimal128 to FerretDB: it would also break the collection.

    A test about one resource stops if that resource has decimal values, or the resource a
    reference `field` of it points to; any other test that stores documents stops if any
    resource has them.
    """
    callspec = getattr(request.node, "callspec", None)
    params = callspec.params if callspec else {}
    case, field = params.get("case"), params.get("field")
    cases = CASES
    if isinstance(case, Case):
        target = case.references.get(field) if isinstance(field, str) else None
        cases = [case, case_named(target)] if target else [case]
    stores = {"base_url", "start_server", "repositories", "stalling_proxy"}
    if (
        any(each.decimal_values for each in cases)
        and stores & set(request.fixturenames)
        and request.getfixturevalue("on_ferretdb")
    ):
        pytest.xfail(FERRETDB_DECIMAL)


@pytest.fixture
async def repositories(
    client: AsyncMongoClient[Document],
    settings: Settings,
) -> dict[str, Repository]:
    """A repository per resource, over empty collections with the service's indexes."""
    opened = open_repositories(client, settings)
    for repository in opened.values():
        await repository.collection.delete_many({})
        await repository.ensure_indexes()
    return opened


@pytest.fixture
def unresponsive_settings(settings: Settings) -> Iterator[Settings]:
    """Settings for a database that accepts connections but never answers: a hung server."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        port = listener.getsockname()[1]
        yield settings.model_copy(
            update={
                "mongodb_uri": f"mongodb://127.0.0.1:{port}/?directConnection=true",
                "mongodb_timeout_ms": 500,
            }
        )


@pytest.fixture
async def stalling_proxy() -> AsyncIterator[StallingProxy]:
    """The test database behind a proxy that a test can make stop answering."""
    try:
        proxy = StallingProxy(MONGODB_URI)
    except ValueError as error:
        pytest.skip(str(error))
    await proxy.start()
    yield proxy
    proxy.stalled = False
    await proxy.stop()


@pytest.fixture
async def unresponsive_base_url(
    serve_app: ServeApp, unresponsive_settings: Settings
) -> AsyncIterator[str]:
    """The application in front of a database that never answers."""
    client = connect(unresponsive_settings)
    yield serve_app(
        ApiContext(
            settings=unresponsive_settings,
            client=client,
            repositories=open_repositories(client, unresponsive_settings),
            readiness=Readiness(),
        )
    )
    await close(client)


@pytest.fixture
async def serve_app() -> AsyncIterator[ServeApp]:
    """Start the application on a free 127.0.0.1 port; the server stops after the test."""
    servers: list[HTTPServer] = []

    def start(context: ApiContext) -> str:
        sock, port = bind_unused_port()
        server = HTTPServer(make_app(context), max_body_size=context.settings.max_body_bytes)
        server.add_sockets([sock])
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop()
        await server.close_all_connections()


@pytest.fixture
def context(
    settings: Settings,
    client: AsyncMongoClient[Document],
    repositories: dict[str, Repository],
) -> ApiContext:
    return ApiContext(
        settings=settings,
        client=client,
        repositories=repositories,
        readiness=Readiness(),
    )


@pytest.fixture
def base_url(serve_app: ServeApp, context: ApiContext) -> str:
    return serve_app(context)


@pytest.fixture
def start_process(settings: Settings) -> Iterator[StartServer]:
    """Start the service with the test credentials and `env`; every one is killed afterwards."""
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        base = {
            "HOST": "127.0.0.1",
            "PORT": "0",
{%- if cookiecutter.metrics %}
            "METRICS_PORT": "0",  # test_metrics.py serves them
{%- endif %}
            "LOG_LEVEL": "INFO",
            **auth_environment(settings),
        }
        server = ServerProcess({**base, **env})
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def start_server(settings: Settings, start_process: StartServer) -> StartServer:
    """Start the service against the test database."""

    def start(**env: str) -> ServerProcess:
        return start_process(
            MONGODB_URI=settings.mongodb_uri, MONGODB_DATABASE=settings.mongodb_database, **env
        )

    return start
