"""The real process: configuration errors, and graceful shutdown with a request in flight."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from support import new_{{ cookiecutter.resource_name }}

from {{ cookiecutter.package_name }}.settings import Settings

DEADLINE = 20.0


class ServerProcess:
    """The service as a real process, with its log lines collected as they come."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "{{ cookiecutter.package_name }}"],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + DEADLINE
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            self.log.append(line)
            if match := re.search(pattern, line):
                return match
        pytest.fail(f"no log line matching {pattern!r}; log so far:\n{''.join(self.log)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(timeout=DEADLINE)
        assert self.process.stderr is not None
        self.process.stderr.close()


StartServer = Callable[..., ServerProcess]


@pytest.fixture
def start_server(settings: Settings) -> Iterator[StartServer]:
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        server = ServerProcess(
            {
                "MONGODB_URI": settings.mongodb_uri,
                "MONGODB_DATABASE": settings.mongodb_database,
                "HOST": "127.0.0.1",
                "PORT": "0",
                "LOG_LEVEL": "INFO",
                **env,
            }
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"WORKERS": "0"}, "WORKERS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line(env: dict[str, str], named: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}"],
        env={**os.environ, **env},
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


def test_sigterm_lets_the_in_flight_request_finish(start_server: StartServer) -> None:
    server = start_server(SHUTDOWN_GRACE_SECONDS="10")
    port = int(server.wait_for(r"listening on http://127\.0\.0\.1:(\d+)")[1])
    body = json.dumps(new_{{ cookiecutter.resource_name }}(1)).encode()

    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as connection:
        connection.sendall(
            b"POST /{{ cookiecutter.collection_name }} HTTP/1.1\r\n"
            b"Host: test\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
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
