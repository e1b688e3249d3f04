"""What every handler shares: settings, the repositories, and the requests in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from {{ cookiecutter.package_name }}.database import AsyncMongoClient, Document
{%- if cookiecutter.metrics %}
from {{ cookiecutter.package_name }}.metrics import (
    ACTIVE_REQUESTS,
    DRAINING,
    INDEXES_BUILDING,
)
{%- endif %}
from {{ cookiecutter.package_name }}.repository import Repository
from {{ cookiecutter.package_name }}.settings import Settings


class InFlight:
    """Counts requests being handled, so shutdown can wait for them to finish."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def started(self) -> None:
        self.count += 1
        self._idle.clear()
{%- if cookiecutter.metrics %}
        ACTIVE_REQUESTS.inc()
{%- endif %}

    def finished(self) -> None:
        self.count -= 1
{%- if cookiecutter.metrics %}
        ACTIVE_REQUESTS.dec()
{%- endif %}
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self, seconds: float) -> bool:
        """True once no request is in flight; False if `seconds` pass first."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True


class Readiness:
    """What `/readyz` reports besides the database ping, and what gates writes.

    `building` names the resources whose indexes do not all exist yet; until theirs do,
    writes that a unique index must guard are refused with 503, while other resources serve
    as usual. `draining` turns true on SIGTERM, so load balancers stop sending before the
    server stops accepting.
    """

    def __init__(self, building: Iterable[str] = ()) -> None:
        self.building = set(building)
        self.draining = False
{%- if cookiecutter.metrics %}
        for name in self.building:
            INDEXES_BUILDING.labels(name).set(1)
{%- endif %}

    def indexes_created(self, name: str) -> None:
        self.building.discard(name)
{%- if cookiecutter.metrics %}
        INDEXES_BUILDING.labels(name).set(0)
{%- endif %}

    def drain(self) -> None:
        self.draining = True
{%- if cookiecutter.metrics %}
        DRAINING.set(1)
{%- endif %}

    @property
    def indexes_ready(self) -> bool:
        return not self.building


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    client: AsyncMongoClient[Document]
    repositories: Mapping[str, Repository]  # by collection name
    in_flight: InFlight = field(default_factory=InFlight)
    readiness: Readiness = field(default_factory=Readiness)
