"""What metrics and JSON logs cost: server CPU per request with them on and off, side by side.

Generates the default project twice (`metrics` on and off), installs each, starts four
services against one database server (MONGODB_URI, or a FerretDB from `make ferretdb`):

    off       metrics=no,  LOG_FORMAT=text, LOG_LEVEL=WARNING (no access lines)
    logs      metrics=no,  LOG_FORMAT=json, LOG_LEVEL=INFO
    metrics   metrics=yes, LOG_FORMAT=text, LOG_LEVEL=WARNING
    both      metrics=yes, LOG_FORMAT=json, LOG_LEVEL=INFO

and drives get, create and list (50 documents) at each with wrk (Debian's `wrk` package),
the services taking turns within every round so that drift hits all alike. The figure is
the service process's CPU time (user + system, from /proc) over the requests it answered:
wall-clock rates mostly measure FerretDB's SQLite backend. Prints medians over the rounds
and each variant's ratio to `off`. Run with:

    .venv/bin/python benchmarks/observability.py [--rounds 5] [--seconds 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from cookiecutter.main import cookiecutter
from generated import api_keys, install, mint_api_key
from pymongo import MongoClient

from mongodb_server import REPO, ferretdb

VARIANTS = {
    "off": (False, {"LOG_FORMAT": "text", "LOG_LEVEL": "WARNING"}),
    "logs": (False, {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}),
    "metrics": (True, {"LOG_FORMAT": "text", "LOG_LEVEL": "WARNING"}),
    "both": (True, {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}),
}
# Create goes last, and what it adds is deleted after each run: a growing collection would
# slow FerretDB's lists down round by round.
OPERATIONS = ("get", "list", "create")
STUDENT = {"name": "Ada", "email": "ada@example.com", "course": "Maths", "gpa": 3.5}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Service:
    """A generated service as a process, its port, key, and a seeded document."""

    def __init__(self, python: Path, env: dict[str, str], key: str, log: Path) -> None:
        self.key = key
        self.client: MongoClient[dict[str, Any]] = MongoClient(env["MONGODB_URI"])
        self.students = self.client[env["MONGODB_DATABASE"]]["students"]
        self.port = free_port()  # LOG_LEVEL=WARNING leaves out the "listening" line
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                [str(python), "-m", "college_api"],
                env={**os.environ, **env, "PORT": str(self.port)},
                stderr=sink,
                stdout=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 30
        while not self._ready():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.process.kill()
                raise RuntimeError(f"service did not start:\n{log.read_text()}")
            time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        for _ in range(60):
            connection.request("POST", "/students", json.dumps(STUDENT), self.headers())
            reply = connection.getresponse()
            assert reply.status == 201, reply.read()
            self.item = json.loads(reply.read())["id"]
        connection.close()
        self.seeded = {doc["_id"] for doc in self.students.find({}, {"_id": 1})}

    def reset(self) -> None:
        """Delete what `create` added, keeping the seeded documents."""
        self.students.delete_many({"_id": {"$nin": list(self.seeded)}})

    def _ready(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            connection.request("GET", "/readyz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()
        self.client.close()


def wrk(service: Service, operation: str, seconds: int, script: Path) -> tuple[int, float]:
    """Drive one operation for `seconds`: (requests answered, server CPU µs per request)."""
    path = {"get": f"/students/{service.item}", "create": "/students", "list": "/students?limit=50"}
    command = [
        *("wrk", "-t1", "-c8", f"-d{seconds}s", "--latency"),
        *("-H", f"Authorization: Bearer {service.key}"),
        *(["-s", str(script)] if operation == "create" else []),
        f"http://127.0.0.1:{service.port}{path[operation]}",
    ]
    before = service.cpu_seconds()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    used = service.cpu_seconds() - before
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        raise RuntimeError(f"{operation}: {match[1]} non-2xx responses\n{output}")
    requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    if not requests:
        raise RuntimeError(f"{operation}: no request answered\n{output}")
    return requests, used / requests * 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        root = Path(scratch)
        uri = os.environ.get("MONGODB_URI") or stack.enter_context(ferretdb(root))
        script = root / "create.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(STUDENT))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        pythons: dict[bool, tuple[Path, str, str]] = {}
        for metrics in (False, True):
            project = Path(
                cookiecutter(
                    str(REPO),
                    no_input=True,
                    output_dir=str(root / f"metrics-{metrics}"),
                    extra_context={"metrics": metrics},
                )
            )
            python = install(project)
            pythons[metrics] = (python, *mint_api_key(python, project, "bench"))
        services = {}
        for name, (metrics, env) in VARIANTS.items():
            python, key, entry = pythons[metrics]
            environment = {
                **env,
                "MONGODB_URI": uri,
                "MONGODB_DATABASE": f"bench_{name}",
                "API_KEYS": api_keys(entry),
                **({"METRICS_PORT": str(free_port())} if metrics else {}),
            }
            services[name] = Service(python, environment, key, root / f"{name}.log")
            stack.callback(services[name].stop)

        cpu: dict[tuple[str, str], list[float]] = {}
        for round_number in range(args.rounds):
            for operation in OPERATIONS:
                names = list(VARIANTS)
                shift = round_number % len(names)
                for name in names[shift:] + names[:shift]:  # each goes first in turn
                    _, micros = wrk(services[name], operation, args.seconds, script)
                    cpu.setdefault((name, operation), []).append(micros)
                    if operation == "create":
                        services[name].reset()

    server = "MONGODB_URI" if os.environ.get("MONGODB_URI") else "FerretDB 1.24 (SQLite)"
    print(f"server: {server}; {args.rounds} rounds of {args.seconds} s per operation and variant")
    print("service CPU per request, median µs (ratio to off)")
    print(f"{'':10}" + "".join(f"{operation:>20}" for operation in OPERATIONS))
    for name in VARIANTS:
        cells = []
        for operation in OPERATIONS:
            median = statistics.median(cpu[(name, operation)])
            ratio = median / statistics.median(cpu[("off", operation)])
            cells.append(f"{median:8.0f} ({ratio:5.3f})")
        print(f"{name:10}" + "".join(f"{cell:>20}" for cell in cells))


if __name__ == "__main__":
    main()
