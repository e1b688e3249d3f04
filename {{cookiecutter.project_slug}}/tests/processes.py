"""The service as a real process: start it, read its log lines, call it over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from support import authorization

# How long a process may take to start, log a line, or answer.
DEADLINE = 20.0
# A worker's "listening" line: its port and pid.
WORKER_LISTENING = r"listening on http://127\.0\.0\.1:(\d+) \(pid (\d+)\)"


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

    def port(self) -> int:
        return int(self.wait_for(r"listening on http://127\.0\.0\.1:(\d+)")[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(timeout=DEADLINE)
        assert self.process.stderr is not None
        self.process.stderr.close()


StartServer = Callable[..., ServerProcess]


def call(port: int, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    """One request on its own connection, with a credential: status, headers and JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        payload = None if body is None else json.dumps(body)
        headers = authorization()
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, dict(response.headers), json.loads(raw) if raw else None
    finally:
        connection.close()


def wait_until_ready(port: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while call(port, "GET", "/readyz")[0] != 200:
        if time.monotonic() > deadline:
            pytest.fail("/readyz did not report ready in time")
        time.sleep(0.05)
