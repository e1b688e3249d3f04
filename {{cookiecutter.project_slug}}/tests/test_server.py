"""The real process: configuration errors, start-up without the database, workers, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from processes import (
    DEADLINE,
    WORKER_LISTENING,
    ServerProcess,
    StartServer,
    call,
    wait_until_ready,
)
from pymongo import MongoClient
from support import CASES, Case, auth_environment, raw_authorization
from tornado.httpserver import HTTPServer

from {{ cookiecutter.package_name }} import settings as settings_module
from {{ cookiecutter.package_name }}.app import make_app
from {{ cookiecutter.package_name }}.context import ApiContext
from {{ cookiecutter.package_name }}.database import AsyncMongoClient, Document
from {{ cookiecutter.package_name }}.repository import open_repositories
from {{ cookiecutter.package_name }}.server import Listener
from {{ cookiecutter.package_name }}.settings import Settings

# Start-up, workers and shutdown do not depend on the resource: requests go to the first one.
CASE = CASES[0]
# What a request may take beyond MONGODB_TIMEOUT_MS on a busy test machine.
MARGIN = 3.0
# References are always indexed; unique and sortable fields are too.
INDEXED = any(case.unique or case.sortable or case.multikey or case.references for case in CASES)
# Duplicates stop the first unique index of the first resource that has one.
UNIQUE_CASE = next((case for case in CASES if case.unique), None)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"WORKERS": "0"}, "WORKERS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"MONGODB_DATABASE": "a.b"}, "MONGODB_DATABASE"),
        ({"MONGODB_URI": "mongodb://h:99999"}, "MONGODB_URI"),
{%- if cookiecutter.auth == "api-key" %}
        ({"API_KEYS": '[{"name": "ci", "sha256": "not a digest"}]'}, "API_KEYS"),
{%- elif cookiecutter.auth == "jwt" %}
        ({"JWT_JWKS_URL": "file:///etc/jwks.json"}, "JWT_JWKS_URL"),
{%- endif %}
        ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"AUTORELOAD": "true", "WORKERS": "2"}, "AUTORELOAD"),
{%- if cookiecutter.metrics %}
        ({"METRICS_PORT": "8000", "PORT": "8000"}, "METRICS_PORT"),
        ({"WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": "/dev/null/m"}, "PROMETHEUS_MULTIPROC_DIR"),
{%- endif %}
    ],
)
def test_bad_configuration_stops_start_up_with_one_line(
    settings: Settings, env: dict[str, str], named: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}"],
        env={**os.environ, **auth_environment(settings), **env},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("{{ cookiecutter.project_slug }}: invalid configuration: ")
    assert named in lines[0]


def test_port_in_use_stops_start_up_with_one_line(settings: Settings) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        result = subprocess.run(
            [sys.executable, "-m", "{{ cookiecutter.package_name }}"],
            env={
                **os.environ,
                **auth_environment(settings),
                "HOST": "127.0.0.1",
                "PORT": str(taken.getsockname()[1]),
            },
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot listen on 127.0.0.1:" in lines[0]


@pytest.fixture(params=["refused", "unresponsive"])
def missing_database_uri(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database address where nothing listens, or where a server accepts and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # held, not listening: connections are refused
        if request.param == "unresponsive":
            sock.listen(64)
        yield f"mongodb://127.0.0.1:{sock.getsockname()[1]}/?directConnection=true"


@pytest.mark.skipif(not INDEXED, reason="the spec declares no index")
def test_service_starts_without_its_database_and_answers_503(
    start_process: StartServer, missing_database_uri: str
) -> None:
    server = start_process(
        MONGODB_URI=missing_database_uri, MONGODB_TIMEOUT_MS="500", SHUTDOWN_DELAY_SECONDS="0"
    )
    port = server.port()
    assert call(port, "GET", "/healthz")[0] == 200
    status, _, body = call(port, "GET", "/readyz")
    assert (status, body) == (503, {"status": "creating indexes"})
    for method, body in (("GET", None), ("POST", CASE.new(1))):
        started = time.monotonic()
        status, _, _ = call(port, method, CASE.path, body)
        assert status == 503, method
        assert time.monotonic() - started < 0.5 + MARGIN, method
    server.wait_for(r"indexes on \w+ not created: the database is unavailable .*; retry in")
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=DEADLINE) == 0


@pytest.mark.skipif(UNIQUE_CASE is None, reason="the spec declares no unique field")
def test_duplicates_hold_back_the_unique_index_with_one_error_line_until_removed(
    settings: Settings, start_process: StartServer
) -> None:
    assert UNIQUE_CASE is not None
    name = f"{settings.mongodb_database}_duplicates"
    client: MongoClient[dict[str, Any]] = MongoClient(settings.mongodb_uri)
    with client:
        collection = client[name][UNIQUE_CASE.name]
        try:
            collection.insert_many([UNIQUE_CASE.new(1) for _ in range(2)])
            server = start_process(
                MONGODB_URI=settings.mongodb_uri,
                MONGODB_DATABASE=name,
                SHUTDOWN_DELAY_SECONDS="0",
            )
            port = server.port()
            failed = rf"\[error +\] indexes on {UNIQUE_CASE.name} not created: "
            failure = server.wait_for(failed).string
            assert UNIQUE_CASE.unique[0] in failure, failure
            status, _, body = call(port, "GET", "/readyz")
            assert (status, body) == (503, {"status": "creating indexes"})
            for other in CASES:  # one resource's duplicates hold back no other resource
                if other is not UNIQUE_CASE:
                    assert post_once_ready(port, other) == 201

            collection.delete_many({})
            server.wait_for(rf"indexes on {UNIQUE_CASE.name} are in place")
            wait_until_ready(port)
        finally:
            client.drop_database(name)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=DEADLINE) == 0
    assert not any("Traceback" in line for line in server.log), "".join(server.log)


def post_once_ready(port: int, case: Case) -> int:
    """The status of creating a `case` document, retried while its indexes are being built."""
    deadline = time.monotonic() + DEADLINE
    while (status := call(port, "POST", case.path, case.new(1))[0]) == 503:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return status


def start_two_workers(
    settings: Settings, start_process: StartServer
) -> tuple[ServerProcess, re.Match[str], re.Match[str]]:
    """A supervisor with two workers, and each worker's "listening" line (port, pid)."""
    server = start_process(
        MONGODB_URI=settings.mongodb_uri,
        MONGODB_DATABASE=settings.mongodb_database,
        WORKERS="2",
        SHUTDOWN_DELAY_SECONDS="0",
    )
    return server, server.wait_for(WORKER_LISTENING), server.wait_for(WORKER_LISTENING)


def test_a_killed_worker_is_logged_and_replaced(
    settings: Settings, start_process: StartServer
) -> None:
    server, first, second = start_two_workers(settings, start_process)
    port = int(first[1])
    victim = int(first[2])

    os.kill(victim, signal.SIGKILL)
    server.wait_for(rf"worker {victim} was killed by SIGKILL; starting a replacement")
    replacement = server.wait_for(WORKER_LISTENING)
    assert int(replacement[2]) not in {victim, int(second[2])}
    assert all(call(port, "GET", "/healthz")[0] == 200 for _ in range(20))

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=DEADLINE) == 0
    server.wait_for(r"all workers stopped")


def test_workers_stop_when_their_supervisor_is_killed(
    settings: Settings, start_process: StartServer
) -> None:
    server, first, second = start_two_workers(settings, start_process)
    workers = {int(first[2]), int(second[2])}

    server.process.kill()  # the supervisor dies without a word to its workers
    server.process.wait(timeout=DEADLINE)
    gone = rf"supervisor {server.process.pid} is gone: stopping worker (\d+)"
    assert {int(server.wait_for(gone)[1]), int(server.wait_for(gone)[1])} == workers
    deadline = time.monotonic() + DEADLINE
    while workers and time.monotonic() < deadline:
        workers = {pid for pid in workers if _alive(pid)}
        time.sleep(0.1)
    assert not workers, f"workers {workers} outlived their supervisor"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_autoreload_restarts_the_service_when_a_module_changes(
    start_server: StartServer,
) -> None:
    """`make dev`: saving a source file restarts the process, which serves again."""
    server = start_server(AUTORELOAD="true")
    server.port()
    module = Path(settings_module.__file__)
    before = module.stat()
    listening = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
    restarted = None
    deadline = time.monotonic() + DEADLINE
    try:
        # The watcher takes its first look some time after start: newer times until it sees one.
        for seconds in itertools.count(1):
            if restarted is not None or time.monotonic() > deadline:
                break
            os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns + seconds * 10**9))
            with contextlib.suppress(queue.Empty):
                line = server.lines.get(timeout=0.5)
                server.log.append(line)
                if match := listening.search(line):
                    restarted = int(match[1])
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert restarted is not None, "no restart; log:\n" + "".join(server.log)
    assert call(restarted, "GET", "/healthz")[0] == 200


def test_sigterm_reports_not_ready_but_keeps_serving_for_the_delay(
    start_server: StartServer,
) -> None:
    server = start_server(SHUTDOWN_DELAY_SECONDS="60")
    port = server.port()
    wait_until_ready(port)

    server.process.send_signal(signal.SIGTERM)
    server.wait_for(r"draining: /readyz answers 503")
    status, _, body = call(port, "GET", "/readyz")
    assert (status, body) == (503, {"status": "shutting down"})
    status, headers, _ = call(port, "POST", CASE.path, CASE.new(901))
    assert status == 201
    assert headers["Connection"] == "close"
    assert server.process.poll() is None

    # SIGINT is someone at a terminal: the rest of the delay is skipped.
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=DEADLINE) == 0
    server.wait_for(r"stopped")


def test_sigterm_lets_the_in_flight_request_finish(start_server: StartServer) -> None:
    server = start_server(SHUTDOWN_GRACE_SECONDS="10", SHUTDOWN_DELAY_SECONDS="0")
    port = server.port()
    wait_until_ready(port)
    body = json.dumps(CASE.new(902)).encode()
    head = (
        f"POST {CASE.path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Expect: 100-continue\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
        f"{raw_authorization()}\r\n"
    )

    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as connection:
        connection.sendall(head.encode())
        # Tornado answers 100 Continue only after the handler's prepare() ran: it is in flight.
        assert connection.recv(1024).startswith(b"HTTP/1.1 100")

        server.process.send_signal(signal.SIGTERM)
        server.wait_for(r"waiting for 1 in-flight request")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=DEADLINE).close()

        connection.sendall(body)
        response = b""
        while chunk := connection.recv(65536):
            response += chunk

    assert response.startswith(b"HTTP/1.1 201"), response
    assert server.process.wait(timeout=DEADLINE) == 0
    server.wait_for(r"stopped")


async def test_closing_the_listener_serves_the_connections_in_its_backlog(
    settings: Settings, client: AsyncMongoClient[Document]
) -> None:
    context = ApiContext(
        settings=settings,
        client=client,
        repositories=open_repositories(client, settings),
    )
    server = HTTPServer(make_app(context))
    listening = socket.create_server(("127.0.0.1", 0), backlog=16)
    listening.setblocking(False)
    listener = Listener(server, [listening])
    # The event loop does not run until the close: these connections wait in the backlog.
    connections = [
        socket.create_connection(listening.getsockname(), timeout=DEADLINE) for _ in range(3)
    ]
    for connection in connections:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")

    queued = listener.close()

    assert len(queued) == len(connections)
    assert listening.fileno() == -1
    loop = asyncio.get_running_loop()
    for connection in connections:
        response = await loop.run_in_executor(None, _read_until_closed, connection)
        assert response.startswith(b"HTTP/1.1 200"), response
    await server.close_all_connections()


def _read_until_closed(connection: socket.socket) -> bytes:
    with connection:
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
        return response
