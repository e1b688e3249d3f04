"""Prometheus metrics: exact counts under route templates, MongoDB, state, and the endpoint."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from bson import ObjectId
from processes import DEADLINE, WORKER_LISTENING, ServerProcess, StartServer, call
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pymongo.errors import OperationFailure
from support import CASES, auth_environment, fetch, raw_authorization, raw_exchange, send_json

from {{ cookiecutter.package_name }}.context import ApiContext, Readiness
from {{ cookiecutter.package_name }}.database import (
    AsyncMongoClient,
    Document,
    unavailable_as_503,
)
from {{ cookiecutter.package_name }}.metrics import DRAINING
from {{ cookiecutter.package_name }}.settings import Settings

CASE = CASES[0]
REQUESTS = "http_server_request_duration_seconds_count"
OPERATIONS = "db_client_operation_duration_seconds_count"
# Every route template the service has; "" where no route matched.
TEMPLATES = {
    "",
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/docs/start.js",
    "/docs/static/{file}",
    *(case.path for case in CASES),
    *(case.path + "/{id}" for case in CASES),
}
INDEXED = any(case.unique or case.sortable or case.multikey or case.references for case in CASES)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples() -> Samples:
    """Every sample this process has recorded, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in REGISTRY.collect()
        for sample in family.samples
    }


def requests(before: Samples, after: Samples) -> Counter[tuple[str, str, str]]:
    """Requests counted between two snapshots, by (method, route, status)."""
    counted: Counter[tuple[str, str, str]] = Counter()
    for (name, labels), value in after.items():
        if name == REQUESTS and value != before.get((name, labels), 0):
            label = dict(labels)
            key = (
                label["http_request_method"],
                label["http_route"],
                label["http_response_status_code"],
            )
            counted[key] = int(value - before.get((name, labels), 0))
    return counted


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_requests_are_counted_exactly_under_their_route_template(base_url: str) -> None:
    before = samples()
    item = CASE.path + "/{id}"

    created = json.loads((await send_json(f"{base_url}{CASE.path}", "POST", CASE.new(1))).body)
    url = f"{base_url}{CASE.path}/{created['id']}"
    assert (await fetch(url)).code == 200
    for _ in range(3):  # each a different id: none may become a label value
        assert (await fetch(f"{base_url}{CASE.path}/{ObjectId()}")).code == 404
    assert (await send_json(url, "PATCH", CASE.new(2))).code == 200
    assert (await fetch(f"{base_url}{CASE.path}")).code == 200
    assert (await fetch(url, "DELETE")).code == 204
    assert (await fetch(f"{base_url}/no/such/{ObjectId()}")).code == 404

    assert requests(before, samples()) == {
        ("POST", CASE.path, "201"): 1,
        ("GET", item, "200"): 1,
        ("GET", item, "404"): 3,
        ("PATCH", item, "200"): 1,
        ("GET", CASE.path, "200"): 1,
        ("DELETE", item, "204"): 1,
        ("GET", "", "404"): 1,
    }
    routes = {
        dict(labels).get("http_route")
        for (name, labels) in samples()
        if name.startswith("http_server_request_duration_seconds")
    }
    assert routes <= TEMPLATES, routes - TEMPLATES


async def test_an_unknown_method_is_counted_as_other(base_url: str) -> None:
    before = samples()
    request = f"BREW {CASE.path} HTTP/1.1\r\nHost: x\r\n{raw_authorization()}\r\n"

    response = await raw_exchange(base_url, request.encode())

    assert response.status == 405
    assert requests(before, samples()) == {("_OTHER", CASE.path, "405"): 1}


async def test_database_operations_are_timed_by_name_and_outcome(
    base_url: str, client: AsyncMongoClient[Document], settings: Settings
) -> None:
    inserted = value(OPERATIONS, db_operation_name="insert", outcome="success")
    failed = value(OPERATIONS, db_operation_name="noSuchCommand", outcome="failure")

    assert (await send_json(f"{base_url}{CASE.path}", "POST", CASE.new(3))).code == 201
    with pytest.raises(OperationFailure):
        async with unavailable_as_503(settings, "noSuchCommand"):
            await client.admin.command("noSuchCommand")

    assert value(OPERATIONS, db_operation_name="insert", outcome="success") == inserted + 1
    assert value(OPERATIONS, db_operation_name="noSuchCommand", outcome="failure") == failed + 1


async def test_a_database_that_does_not_answer_is_counted(unresponsive_base_url: str) -> None:
    """No server to select: the operation fails on time, and is counted as unavailable."""
    before = value("db_client_unavailable_total")
    failed = value(OPERATIONS, db_operation_name="find", outcome="failure")

    response = await fetch(f"{unresponsive_base_url}{CASE.path}")

    assert response.code == 503
    assert value("db_client_unavailable_total") == before + 1
    assert value(OPERATIONS, db_operation_name="find", outcome="failure") == failed + 1


async def test_connection_gauges_follow_the_pool(base_url: str) -> None:
    await asyncio.gather(*(fetch(f"{base_url}{CASE.path}") for _ in range(5)))

    # Added up over every pool of every client this process has open (the tests make some).
    found: Counter[tuple[str, str]] = Counter()
    for (name, labels), count in samples().items():
        if name.startswith("db_client_connection_"):
            found[(name, dict(labels).get("db_client_connection_state", ""))] += int(count)
    assert found[("db_client_connection_count", "used")] == 0  # every connection is back
    assert found[("db_client_connection_count", "idle")] >= 1
    assert found[("db_client_connection_pending_requests", "")] == 0
    maximum = found[("db_client_connection_max", "")]  # the default maxPoolSize per client
    assert maximum > 0
    assert maximum % 100 == 0


async def test_requests_in_flight_are_a_gauge(base_url: str, context: ApiContext) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST {CASE.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: 100\r\n{raw_authorization()}\r\n"
    )
    writer.write(head.encode() + b"{")  # the rest of the body never comes
    await writer.drain()
    try:
        await eventually(lambda: value("http_server_active_requests") == 1)
    finally:
        writer.close()
        await writer.wait_closed()
    await eventually(lambda: value("http_server_active_requests") == 0)
    assert context.in_flight.count == 0


def test_index_building_and_draining_are_gauges() -> None:
    readiness = Readiness(building=["one", "two"])
    assert value("service_indexes_building", collection="one") == 1
    readiness.indexes_created("one")
    assert value("service_indexes_building", collection="one") == 0
    assert value("service_indexes_building", collection="two") == 1
    try:
        readiness.drain()
        assert value("service_draining") == 1
        assert readiness.draining
    finally:
        DRAINING.set(0)


async def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        await asyncio.sleep(0.02)


# The real process: the endpoint, and workers adding up.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=DEADLINE) as reply:
        text = reply.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scraped(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def scrape_when(port: int, ready: Callable[[Samples], bool]) -> Samples:
    """Scrape until `ready` holds: a request is counted just after its response is sent,
    so a scrape from another connection can come a moment earlier."""
    deadline = time.monotonic() + DEADLINE
    while not ready(found := scrape(port)):
        assert time.monotonic() < deadline, "the metrics never caught up"
        time.sleep(0.05)
    return found


def serving(start_server: StartServer, **env: str) -> tuple[ServerProcess, int]:
    """The service with metrics on a free port: the process and its metrics port."""
    metrics_port = free_port()
    server = start_server(METRICS_PORT=str(metrics_port), **env)
    server.wait_for(rf"metrics on http://127\.0\.0\.1:{metrics_port}/metrics")
    return server, metrics_port


def test_the_metrics_port_serves_what_prometheus_scrapes(start_server: StartServer) -> None:
    server, metrics_port = serving(start_server)
    port = server.port()
    deadline = time.monotonic() + DEADLINE
    while call(port, "GET", "/readyz")[0] != 200:
        assert time.monotonic() < deadline, "never ready"
        time.sleep(0.05)
    status, _, created = call(port, "POST", CASE.path, CASE.new(1))
    assert status == 201
    assert call(port, "GET", f"{CASE.path}/{created['id']}")[0] == 200

    def requested(found: Samples, method: str, route: str, status: str) -> float:
        labels = {
            "http_request_method": method,
            "http_route": route,
            "http_response_status_code": status,
        }
        return scraped(found, REQUESTS, **labels)

    found = scrape_when(
        metrics_port,
        lambda found: (
            requested(found, "GET", CASE.path + "/{id}", "200") >= 1
            and scraped(found, "http_server_active_requests") == 0
        ),
    )

    assert requested(found, "POST", CASE.path, "201") == 1
    assert requested(found, "GET", CASE.path + "/{id}", "200") == 1
    assert scraped(found, OPERATIONS, db_operation_name="insert", outcome="success") == 1
    assert scraped(found, "http_server_active_requests") == 0
    assert scraped(found, "service_draining") == 0
    for case in CASES if INDEXED else ():
        assert scraped(found, "service_indexes_building", collection=case.name) == 0
    names = {name for name, _ in found}
    assert {
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "db_client_connection_count",
        "db_client_connection_max",
    } <= names
    [build] = [dict(labels) for name, labels in found if name == "service_build_info"]
    assert build["service"] == "{{ cookiecutter.project_slug }}"
    assert build["version"] == "0.1.0"
    assert build["driver"].startswith("{{ cookiecutter.mongodb_driver }} ")
    assert call(port, "GET", "/metrics")[0] == 404  # never on the API port
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=DEADLINE) == 0


def test_workers_add_up_and_a_dead_workers_gauges_go(
    start_server: StartServer, tmp_path: Path
) -> None:
    """Each worker is paused in turn so that the other serves; the counts add up."""
    directory = tmp_path / "metrics"
    server, metrics_port = serving(
        start_server,
        WORKERS="2",
        SHUTDOWN_DELAY_SECONDS="0",
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    )
    listening = server.wait_for(WORKER_LISTENING)
    port, first = int(listening[1]), int(listening[2])
    second = int(server.wait_for(WORKER_LISTENING)[2])
    served = {first: 3, second: 4}
    for worker, count in served.items():
        other = second if worker == first else first
        os.kill(other, signal.SIGSTOP)
        try:
            _wait_stopped(other)
            assert all(call(port, "GET", "/healthz")[0] == 200 for _ in range(count))
        finally:
            os.kill(other, signal.SIGCONT)

    healthz = {
        "http_request_method": "GET",
        "http_route": "/healthz",
        "http_response_status_code": "200",
    }
    found = scrape_when(metrics_port, lambda found: scraped(found, REQUESTS, **healthz) >= 7)
    assert scraped(found, REQUESTS, **healthz) == 7
    assert {f"histogram_{pid}.db" for pid in served} <= {path.name for path in directory.iterdir()}

    os.kill(first, signal.SIGKILL)
    server.wait_for(rf"worker {first} was killed by SIGKILL; starting a replacement")
    server.wait_for(WORKER_LISTENING)
    assert scraped(scrape(metrics_port), REQUESTS, **healthz) == 7  # the dead worker's count
    assert not (directory / f"gauge_livesum_{first}.db").exists()
    assert (directory / f"gauge_livesum_{second}.db").exists()

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=DEADLINE) == 0


def _wait_stopped(pid: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "T":
        assert time.monotonic() < deadline, f"worker {pid} did not stop"
        time.sleep(0.01)


def test_a_metrics_port_in_use_stops_start_up_with_one_line(settings: Settings) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        taken_port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "{{ cookiecutter.package_name }}"],
            env={
                **os.environ,
                **auth_environment(settings),
                "HOST": "127.0.0.1",
                "PORT": "0",
                "METRICS_PORT": str(taken_port),
            },
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
    assert result.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{taken_port}" in result.stderr
    assert "Traceback" not in result.stderr
