"""MongoDB access: the only module that knows which driver the service uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

{% if cookiecutter.mongodb_driver == "motor" -%}
from motor.motor_asyncio import AsyncIOMotorClient as AsyncMongoClient
from motor.motor_asyncio import AsyncIOMotorCollection as AsyncCollection
{%- else -%}
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
{%- endif %}
from pymongo.errors import ConnectionFailure, ExecutionTimeout

from {{ cookiecutter.package_name }}.errors import DatabaseUnavailable
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = [
    "AsyncCollection",
    "AsyncMongoClient",
    "Document",
    "close",
    "connect",
    "ping",
    "unavailable_as_503",
]

Document = dict[str, Any]


def connect(settings: Settings) -> AsyncMongoClient[Document]:
    """Create the client; it connects lazily, so call this after any fork."""
    return AsyncMongoClient(
        settings.mongodb_uri,
        serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
        connectTimeoutMS=settings.mongodb_timeout_ms,
        timeoutMS=settings.mongodb_timeout_ms,
        tz_aware=True,
        appname="{{ cookiecutter.project_slug }}",
    )


async def close(client: AsyncMongoClient[Document]) -> None:
    """Release the client's sockets and background tasks."""
{%- if cookiecutter.mongodb_driver == "motor" %}
    client.close()
{%- else %}
    await client.close()
{%- endif %}


async def ping(client: AsyncMongoClient[Document]) -> None:
    """Raise unless the server answers within the client's timeouts."""
    await client.admin.command("ping")


@asynccontextmanager
async def unavailable_as_503() -> AsyncIterator[None]:
    """Turn the driver's connection and timeout errors into the API's 503."""
    try:
        yield
    except (ConnectionFailure, ExecutionTimeout) as error:
        raise DatabaseUnavailable() from error
