"""MongoDB access: the only module that knows which driver the service uses."""
{%- set types = cookiecutter.resources | parse_resources | types_used %}
{%- set codecs = [] %}
{%- if "decimal" in types %}{% set codecs = codecs + ["_DecimalCodec()"] %}{% endif %}
{%- if "date" in types %}{% set codecs = codecs + ["_DateEncoder()"] %}{% endif %}

from __future__ import annotations

import asyncio
import datetime as dt
{%- if cookiecutter.metrics %}
import time
{%- endif %}
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
{%- if "decimal" in types %}
from decimal import Decimal
{%- endif %}
from typing import Any

{% if "decimal" in types -%}
from bson import Decimal128
{% endif -%}
from bson.binary import UuidRepresentation
{%- if "decimal" in types %}
from bson.codec_options import CodecOptions, TypeDecoder, TypeEncoder, TypeRegistry
{%- elif "date" in types %}
from bson.codec_options import CodecOptions, TypeEncoder, TypeRegistry
{%- else %}
from bson.codec_options import CodecOptions
{%- endif %}
{% if cookiecutter.mongodb_driver == "motor" -%}
from motor.motor_asyncio import AsyncIOMotorClient as AsyncMongoClient
from motor.motor_asyncio import AsyncIOMotorCollection as AsyncCollection
{%- else -%}
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
{%- endif %}
from pymongo.errors import ConnectionFailure, ExecutionTimeout

from {{ cookiecutter.package_name }}.errors import DatabaseUnavailable
{%- if cookiecutter.metrics %}
from {{ cookiecutter.package_name }}.metrics import (
    UNAVAILABLE,
    listeners,
    observe_operation,
)
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = [
    "CODEC_OPTIONS",
    "AsyncCollection",
    "AsyncMongoClient",
    "Document",
    "close",
    "connect",
    "ping",
    "start",
    "unavailable_as_503",
]

Document = dict[str, Any]
{%- if "decimal" in types %}


class _DecimalCodec(TypeEncoder, TypeDecoder):
    """Decimals travel as BSON Decimal128, so no value is ever rounded through a float."""

    python_type = Decimal
    bson_type = Decimal128

    def transform_python(self, value: Decimal) -> Decimal128:
        return Decimal128(value)

    def transform_bson(self, value: Decimal128) -> Decimal:
        return value.to_decimal()
{%- endif %}
{%- if "date" in types %}


class _DateEncoder(TypeEncoder):
    """BSON has no date type: a date is stored as midnight UTC and read back as a date."""

    python_type = dt.date

    def transform_python(self, value: dt.date) -> dt.datetime:
        return dt.datetime.combine(value, dt.time(), dt.UTC)
{%- endif %}


CODEC_OPTIONS: CodecOptions[Document] = CodecOptions(
    tz_aware=True,
    tzinfo=dt.UTC,
    uuid_representation=UuidRepresentation.STANDARD,
{%- if codecs %}
    type_registry=TypeRegistry([{{ codecs | join(", ") }}]),
{%- endif %}
)


def connect(settings: Settings) -> AsyncMongoClient[Document]:
    """Create the client; it connects lazily, so call this after any fork.
{%- if cookiecutter.mongodb_driver == "motor" %}

    Motor runs each call in a thread, which no cancelled await can stop: the driver's own
    deadline (`timeoutMS`) bounds every call, and `unavailable_as_503` answers in time.
{%- else %}

    Each call's deadline is `unavailable_as_503`'s: cancelling a call closes its connection,
    and lists also send `maxTimeMS`, so the server stops scanning when the client stops
    waiting. The driver's own deadline (`timeoutMS`) would add a fifth to the CPU time of
    a call by id.
{%- endif %}
    """
    return AsyncMongoClient(
        settings.mongodb_uri,
        serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
        connectTimeoutMS=settings.mongodb_timeout_ms,
{%- if cookiecutter.mongodb_driver == "motor" %}
        timeoutMS=settings.mongodb_timeout_ms,
{%- endif %}
        tz_aware=True,
        tzinfo=dt.UTC,
        uuidRepresentation="standard",
        type_registry=CODEC_OPTIONS.type_registry,
        appname="{{ cookiecutter.project_slug }}",
{%- if cookiecutter.metrics %}
        event_listeners=listeners(),
{%- endif %}
    )


async def start(client: AsyncMongoClient[Document]) -> None:
    """Start the client's monitoring now, outside any request.

    Tasks copy the context of whoever starts them: started by the first request, the
    client's background tasks would log with its request id for good.
    """
{%- if cookiecutter.mongodb_driver == "motor" %}
    # Motor monitors from threads, which start with an empty context.
{%- else %}
    await client.aconnect()  # opens the topology; it does not wait for a server
{%- endif %}


async def close(client: AsyncMongoClient[Document]) -> None:
    """Release the client's sockets and background tasks."""
{%- if cookiecutter.mongodb_driver == "motor" %}
    client.close()
{%- else %}
    await client.close()
{%- endif %}


async def ping(client: AsyncMongoClient[Document], settings: Settings) -> None:
    """Raise unless the server answers within MONGODB_TIMEOUT_MS."""
    async with unavailable_as_503(settings, "ping"):
        await client.admin.command("ping")


{% if cookiecutter.mongodb_driver == "motor" -%}
# How long past `timeoutMS` a call may run before it is abandoned: the driver's own clock
# starts only once it runs the operation, and Motor first queues it for a thread.
{% else -%}
# How long past MONGODB_TIMEOUT_MS a call may run: time to close its connection and answer.
{% endif -%}
_TIMEOUT_MARGIN_SECONDS = 0.1


@asynccontextmanager
async def unavailable_as_503(settings: Settings, operation: str) -> AsyncIterator[None]:
{%- if cookiecutter.metrics %}
    """One database call: its connection and timeout errors as the API's 503, on time.

    It is timed here, by its command name (`operation`) and outcome: a command listener
    would cost every call the driver's monitoring events, for the same figure.
    """
{%- else %}
    """One database call: its connection and timeout errors as the API's 503, on time."""
{%- endif %}
    deadline = settings.mongodb_timeout_ms / 1000 + _TIMEOUT_MARGIN_SECONDS
{%- if cookiecutter.metrics %}
    started = time.perf_counter()
    outcome = "failure"
{%- endif %}
    try:
        async with asyncio.timeout(deadline):
            yield
{%- if cookiecutter.metrics %}
        outcome = "success"
{%- endif %}
    except (ConnectionFailure, ExecutionTimeout, TimeoutError) as error:
{%- if cookiecutter.metrics %}
        UNAVAILABLE.inc()
{%- endif %}
        raise DatabaseUnavailable() from error
{%- if cookiecutter.metrics %}
    finally:
        observe_operation(operation, outcome, time.perf_counter() - started)
{%- endif %}
