"""Prometheus metrics: HTTP requests, MongoDB operations and connections, state, the process.

The names follow the OpenTelemetry semantic conventions as Prometheus writes them, so the
dashboards and alerts made for those work here. The process that owns the API port serves
them on METRICS_PORT: the only process, or with WORKERS > 1 the supervisor, which adds up
what each worker records in PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import functools
import os
import platform
from collections.abc import Callable, Collection, Iterator
from importlib.metadata import version

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    multiprocess,
    start_http_server,
)
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pymongo import monitoring
from pymongo.common import MAX_POOL_SIZE
from tornado.web import RequestHandler

from {{ cookiecutter.package_name }}.settings import Settings

Address = tuple[str, int | None]

# What OpenTelemetry advises for request durations, in seconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
# Any other method is counted as `_OTHER`: a label must never take unbounded values.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})

REQUEST_DURATION = Histogram(
    "http_server_request_duration_seconds",
    "Duration of HTTP requests, by method, route template and status code.",
    ["http_request_method", "http_route", "http_response_status_code"],
    buckets=_BUCKETS,
)
ACTIVE_REQUESTS = Gauge(
    "http_server_active_requests",
    "HTTP requests being handled.",
    multiprocess_mode="livesum",
)
OPERATION_DURATION = Histogram(
    "db_client_operation_duration_seconds",
    "Duration of MongoDB operations, by command and outcome (success or failure).",
    ["db_operation_name", "outcome"],
    buckets=_BUCKETS,
)
CONNECTIONS = Gauge(
    "db_client_connection_count",
    "MongoDB connections open, by server and state (idle or used).",
    ["db_client_connection_pool_name", "db_client_connection_state"],
    multiprocess_mode="livesum",
)
CONNECTIONS_MAX = Gauge(
    "db_client_connection_max",
    "The most connections the pools of each server may open (0: no limit).",
    ["db_client_connection_pool_name"],
    multiprocess_mode="livesum",
)
PENDING_CHECKOUTS = Gauge(
    "db_client_connection_pending_requests",
    "Operations waiting for a free MongoDB connection.",
    ["db_client_connection_pool_name"],
    multiprocess_mode="livesum",
)
CHECKOUT_TIMEOUTS = Counter(
    "db_client_connection_timeouts",
    "Operations that found no free MongoDB connection in time: the pool is exhausted.",
    ["db_client_connection_pool_name"],
)
UNAVAILABLE = Counter(
    "db_client_unavailable",
    "Operations MongoDB did not answer in time (the API answered 503), commands or not.",
)
INDEXES_BUILDING = Gauge(
    "service_indexes_building",
    "1 while a collection's indexes are being created (writes it guards answer 503).",
    ["collection"],
    multiprocess_mode="livemax",
)
DRAINING = Gauge(
    "service_draining",
    "1 once shutdown has begun: /readyz answers 503.",
    multiprocess_mode="livemax",
)
BUILD_INFO = Gauge(
    "service_build_info",
    "Always 1; the labels say what runs.",
    ["service", "version", "python", "driver"],
    multiprocess_mode="max",
)


def record_build_info() -> None:
    BUILD_INFO.labels(
        "{{ cookiecutter.project_slug }}",
        version("{{ cookiecutter.project_slug }}"),
        platform.python_version(),
        "{{ cookiecutter.mongodb_driver }} " + version("{{ cookiecutter.mongodb_driver }}"),
    ).set(1)


def observe_request(handler: RequestHandler) -> None:
    """Count a finished request under its route template, never its path."""
    method = handler.request.method or ""
    series = _request_series(
        method if method in _METHODS else "_OTHER",
        getattr(handler, "route", ""),
        handler.get_status(),
    )
    series.observe(handler.request.request_time())


# The series of each label set, looked up once: `labels()` costs more than observing.
# The label values come from closed sets (methods, routes, statuses, commands, servers).
@functools.cache
def _request_series(method: str, route: str, status: int) -> Histogram:
    return REQUEST_DURATION.labels(method, route, str(status))


@functools.cache
def _operation_series(name: str, outcome: str) -> Histogram:
    return OPERATION_DURATION.labels(name, outcome)


def observe_operation(name: str, outcome: str, seconds: float) -> None:
    """Time one database operation as the client sees it: selection, wait and reply."""
    _operation_series(name, outcome).observe(seconds)


class _Pool:
    """The series of one server's connection pool."""

    def __init__(self, address: Address) -> None:
        name = f"{address[0]}:{address[1]}"
        self.idle = CONNECTIONS.labels(name, "idle")
        self.used = CONNECTIONS.labels(name, "used")
        self.max = CONNECTIONS_MAX.labels(name)
        self.pending = PENDING_CHECKOUTS.labels(name)
        self.timeouts = CHECKOUT_TIMEOUTS.labels(name)


@functools.cache
def _pool(address: Address) -> _Pool:
    return _Pool(address)


class PoolMetrics(monitoring.ConnectionPoolListener):
    """Connections per server and state, waiting operations and check-out timeouts."""

    def __init__(self) -> None:
        # The gauge each open connection counts in (idle or used): a closed connection may
        # still be checked in after, and must not count again.
        self._counted: dict[tuple[Address, int], Gauge] = {}
        self._sizes: dict[Address, int] = {}  # the most connections of each pool

    def _move(self, address: Address, connection_id: int, state: str | None) -> None:
        """Count a known connection as `state` (idle or used), or no longer (None)."""
        key = (address, connection_id)
        counted = self._counted.pop(key, None)
        if counted is None:
            return
        counted.dec()
        if state is not None:
            self._counted[key] = gauge = getattr(_pool(address), state)
            gauge.inc()

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        size = event.options.get("maxPoolSize", MAX_POOL_SIZE) or 0  # 0: no limit
        self._sizes[event.address] = size
        _pool(event.address).max.inc(size)

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        pass

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        pass

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        _pool(event.address).max.dec(self._sizes.pop(event.address, 0))

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        self._counted[(event.address, event.connection_id)] = gauge = _pool(event.address).idle
        gauge.inc()

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        pass

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        self._move(event.address, event.connection_id, None)

    def connection_check_out_started(
        self, event: monitoring.ConnectionCheckOutStartedEvent
    ) -> None:
        _pool(event.address).pending.inc()

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        pool = _pool(event.address)
        pool.pending.dec()
        if event.reason == monitoring.ConnectionCheckOutFailedReason.TIMEOUT:
            pool.timeouts.inc()

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        _pool(event.address).pending.dec()
        self._move(event.address, event.connection_id, "used")

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        self._move(event.address, event.connection_id, "idle")


def listeners() -> list[monitoring.ConnectionPoolListener]:
    """What the MongoDB client reports its connections to."""
    return [PoolMetrics()]


def serve_metrics(settings: Settings, workers: Callable[[], Collection[int]] | None = None) -> None:
    """Serve /metrics on METRICS_PORT from a thread; OSError if the port is taken.

    `workers` gives the worker processes of a supervisor: their metrics are added up.
    """
    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(ServiceProcesses(workers or tuple))
    start_http_server(settings.metrics_port, settings.host, registry)


def worker_exited(pid: int) -> None:
    """Drop a dead worker's gauges; its counters and histograms still count."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class ServiceProcesses(Collector):
    """`process_*` metrics of a supervisor and its workers, added up as one service.

    CPU time includes the workers that have exited, so it only ever grows.
    """

    _ADDED = ("process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds")

    def __init__(self, workers: Callable[[], Collection[int]]) -> None:
        self.workers = workers

    def collect(self) -> Iterator[Metric]:
        own = {family.name: family for family in ProcessCollector(registry=None).collect()}
        if not own:
            return  # no /proc here
        totals = {name: _value(own.get(name)) for name in (*self._ADDED, "process_cpu_seconds")}
        times = os.times()
        totals["process_cpu_seconds"] += times.children_user + times.children_system
        for pid in self.workers():
            for family in ProcessCollector(pid=_constant(pid), registry=None).collect():
                if family.name in totals:
                    totals[family.name] += _value(family)
        yield CounterMetricFamily(
            "process_cpu_seconds",
            "CPU time of the supervisor and its workers, in seconds.",
            value=totals.pop("process_cpu_seconds"),
        )
        for name, total in totals.items():
            yield GaugeMetricFamily(name, f"{own[name].documentation} (all processes)", value=total)
        for name in ("process_max_fds", "process_start_time_seconds"):
            if name in own:
                yield own[name]


def _constant(pid: int) -> Callable[[], int]:
    return lambda: pid


def _value(family: Metric | None) -> float:
    return family.samples[0].value if family and family.samples else 0.0
