"""What a request costs in the generated service, against a hand-written floor, side by side.

Generates the default project in several variants (drivers, auth modes, metrics and JSON
logs on and off, WORKERS=2), installs each, starts a MongoDB-compatible server (MONGODB_URI,
or a FerretDB from `make ferretdb`), seeds every service's own database, and drives each
operation with wrk: create, get, list 50, list 500, replace, patch, delete and health. The
services take turns within every round, the first one changing each round, so that drift
hits all alike. Beside them runs `benchmarks/minimal.py`, the floor: a Tornado handler per
route making the same single PyMongo call and writing `json.dumps` of the document.

The headline figure is server CPU time per request (user + system of the service's
processes, from /proc, over the requests answered): wall-clock rates on FerretDB's SQLite
backend mostly measure FerretDB. The database and wrk run on CPU 0 and the services on
CPU 1 (WORKERS=2 on both), so the services never compete with the load for a core.

Writes docs/benchmarks.md and docs/benchmarks.png (CPU per request, per operation and
variant); rerunning regenerates both. Run with (wrk is Debian's `wrk` package):

    make bench                        # = .venv/bin/python benchmarks/run.py
    .venv/bin/python benchmarks/run.py --rounds 3 --seconds 3 --variants minimal,pymongo
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import http.server
import io
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bson import ObjectId
from cookiecutter.main import cookiecutter
from generated import api_keys, install, mint_api_key, run_pytest
from pymongo import MongoClient

from mongodb_server import REPO, ferretdb

BENCHMARKS = Path(__file__).resolve().parent
DOCS = REPO / "docs"
LOAD_CPU, SERVICE_CPU = "0", "1"
ISSUER, AUDIENCE = "https://idp.benchmark.test/", "college-api"
STUDENT = {"name": "Ada Lovelace", "email": "ada@example.com", "course": "Maths", "gpa": 3.5}
SEEDED = 600  # enough for a list of 500, few enough that every list scans alike
LOGS_ON = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
LOGS_OFF = {"LOG_FORMAT": "text", "LOG_LEVEL": "WARNING"}


@dataclass(frozen=True)
class Variant:
    """A service to measure: the answers it is generated with and the environment it runs in."""

    name: str
    label: str
    answers: dict[str, Any] | None  # None: the minimal handler
    env: dict[str, str] = field(default_factory=dict)

    @property
    def auth(self) -> str:
        return "none" if self.answers is None else str(self.answers.get("auth", "api-key"))


VARIANTS = [
    Variant("minimal", "minimal handler (PyMongo, no validation)", None),
    Variant("pymongo", "PyMongo, api-key, metrics, JSON logs", {}, LOGS_ON),
    Variant("motor", "Motor, api-key, metrics, JSON logs", {"mongodb_driver": "motor"}, LOGS_ON),
    Variant("jwt", "PyMongo, jwt, metrics, JSON logs", {"auth": "jwt"}, LOGS_ON),
    Variant("no-auth", "PyMongo, auth=none, metrics, JSON logs", {"auth": "none"}, LOGS_ON),
    Variant("no-metrics", "PyMongo, api-key, JSON logs", {"metrics": False}, LOGS_ON),
    Variant("no-logs", "PyMongo, api-key, metrics, no access lines", {}, LOGS_OFF),
    Variant(
        "bare",
        "PyMongo, auth=none, no metrics or access lines",
        {"auth": "none", "metrics": False},
        LOGS_OFF,
    ),
    Variant("workers-2", "PyMongo, everything on, WORKERS=2", {}, {**LOGS_ON, "WORKERS": "2"}),
]
# Reads first; create and delete change what the collection holds and are undone after.
OPERATIONS = ("get", "list 50", "list 500", "replace", "patch", "health", "create", "delete")


@dataclass
class Sample:
    requests: int
    rate: float
    cpu_us: float
    p50_ms: float
    p99_ms: float


class Service:
    """One variant as a running process, with its own database seeded with SEEDED students."""

    def __init__(
        self,
        variant: Variant,
        python: Path,
        project: Path,
        uri: str,
        env: dict[str, str],
        authorization: str,
        log: Path,
    ) -> None:
        self.variant = variant
        self.authorization = authorization
        self.database = f"bench_{variant.name.replace('-', '_')}"
        self.client: MongoClient[dict[str, Any]] = MongoClient(uri)
        self.students = self.client[self.database]["students"]
        self.students.drop()
        self.students.insert_many([self.stored(n) for n in range(SEEDED)])
        self.seeded = [doc["_id"] for doc in self.students.find({}, {"_id": 1}).sort("_id", 1)]
        self.item = str(self.seeded[0])
        self.port = free_port()
        if variant.answers is None:
            command = [
                str(python),
                str(BENCHMARKS / "minimal.py"),
                "--port",
                str(self.port),
                "--mongodb-uri",
                uri,
                "--database",
                self.database,
            ]
        else:
            command = [str(python), "-m", "college_api"]
        cpus = f"{LOAD_CPU},{SERVICE_CPU}" if "WORKERS" in variant.env else SERVICE_CPU
        environment = {
            **os.environ,
            **variant.env,
            **env,
            "MONGODB_URI": uri,
            "MONGODB_DATABASE": self.database,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
        }
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                ["taskset", "-c", cpus, *command],
                cwd=project,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=sink,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while not self._ready():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.process.kill()
                raise RuntimeError(f"{variant.name} did not start:\n{log.read_text()}")
            time.sleep(0.1)

    def stored(self, n: int) -> dict[str, Any]:
        """A student as the generated service stores it, with its version (`_v`)."""
        return {**STUDENT, "name": f"Student {n}", "gpa": round(n % 40 / 10, 1), "_v": ObjectId()}

    def _ready(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def reset(self) -> None:
        """Back to the seeded students: what create added goes, what delete took comes back."""
        self.students.delete_many({"_id": {"$nin": self.seeded}})
        present = {doc["_id"] for doc in self.students.find({}, {"_id": 1})}
        missing = [
            {**self.stored(n), "_id": id_}
            for n, id_ in enumerate(self.seeded)
            if id_ not in present
        ]
        if missing:
            self.students.insert_many(missing)

    def victims(self, count: int) -> list[str]:
        """`count` new students for delete to remove, one a request."""
        result = self.students.insert_many([self.stored(n) for n in range(count)])
        return [str(id_) for id_ in result.inserted_ids]

    def pids(self) -> list[int]:
        """The service's processes: the supervisor (or taskset's exec) and its workers."""
        children = [
            int(stat.parent.name)
            for stat in Path("/proc").glob("[0-9]*/stat")
            if _parent(stat) == self.process.pid
        ]
        return [self.process.pid, *children]

    def cpu_seconds(self) -> float:
        """Time on a CPU of every thread of the service's processes, to the nanosecond.

        schedstat rather than stat's user + system ticks: at 100 ticks a second those are
        too coarse for a few hundred requests of a slow operation.
        """
        total = 0
        for pid in self.pids():
            for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
                try:
                    total += int(task.read_text().split()[0])
                except (FileNotFoundError, ProcessLookupError):
                    continue
        return total / 1e9

    def peak_rss_mib(self) -> float:
        """The peak resident memory of each process, added up."""
        total = 0
        for pid in self.pids():
            status = Path(f"/proc/{pid}/status").read_text()
            if match := re.search(r"VmHWM:\s+(\d+) kB", status):
                total += int(match[1])
        return total / 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.client.drop_database(self.database)
        self.client.close()


def _parent(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rpartition(")")[2].split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


def lua_script(service: Service, operation: str, victims: list[str]) -> str:
    """The wrk script of one operation: method, path, body and headers.

    Replace and patch write a new gpa each time, to a different seeded student each time
    (FerretDB slows down on a document rewritten thousands of times); delete takes a
    different one of `victims` each time.
    """
    method, path, body = {
        "get": ("GET", f"/students/{service.item}", None),
        "list 50": ("GET", "/students?limit=50", None),
        "list 500": ("GET", "/students?limit=500", None),
        "replace": ("PUT", None, STUDENT),
        "patch": ("PATCH", None, {"gpa": 3.5}),
        "health": ("GET", "/healthz", None),
        "create": ("POST", "/students", STUDENT),
        "delete": ("DELETE", None, None),
    }[operation]
    lines = [f"wrk.method = {lua_string(method)}"]
    if service.authorization and operation != "health":
        lines.append(f'wrk.headers["Authorization"] = {lua_string(service.authorization)}')
    if body is not None:
        lines += [
            'wrk.headers["Content-Type"] = "application/json"',
            f"wrk.body = {lua_string(json.dumps(body))}",
        ]
    if path is not None:
        return "\n".join([*lines, f"wrk.path = {lua_string(path)}"]) + "\n"
    ids = victims if operation == "delete" else [str(id_) for id_ in service.seeded]
    lines += ["local ids = {" + ", ".join(map(lua_string, ids)) + "}", "local n = 0"]
    if body is None:
        make_body = "nil"
    else:
        head, tail = json.dumps(body).split('"gpa": 3.5')
        lines.append(f"local head, tail = {lua_string(head)}, {lua_string(tail)}")
        make_body = "head .. '\"gpa\": ' .. (n % 40) / 10 .. tail"
    lines += [
        "request = function()",
        "  n = n + 1",
        '  local path = "/students/" .. ids[(n - 1) % #ids + 1]',
        f"  return wrk.format(nil, path, nil, {make_body})",
        "end",
    ]
    return "\n".join(lines) + "\n"


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string


def drive(service: Service, operation: str, seconds: int, connections: int, script: Path) -> Sample:
    """Run wrk against one service for one operation; what it answered and what it cost."""
    command = [
        *("taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"),
        *("--latency", "-s", str(script), f"http://127.0.0.1:{service.port}"),
    ]
    before = service.cpu_seconds()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    used = service.cpu_seconds() - before
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        hint = " (more deletes than --deletes students to delete?)" if operation == "delete" else ""
        raise RuntimeError(
            f"{service.variant.name} {operation}: {match[1]} non-2xx{hint}\n{output}"
        )
    if match := re.search(r"Socket errors: (.*)", output):
        raise RuntimeError(f"{service.variant.name} {operation}: socket errors {match[1]}")
    requests = int(_find(r"(\d+) requests in", output))
    if not requests:
        raise RuntimeError(f"{service.variant.name} {operation}: nothing answered\n{output}")
    return Sample(
        requests=requests,
        rate=float(_find(r"Requests/sec:\s+([\d.]+)", output)),
        cpu_us=used / requests * 1e6,
        p50_ms=_milliseconds(_find(r"\s50%\s+([\d.]+\w+)", output)),
        p99_ms=_milliseconds(_find(r"\s99%\s+([\d.]+\w+)", output)),
    )


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{text}")
    return match[1]


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served_jwks(document: str) -> Iterator[str]:
    """Serve a JWKS document on 127.0.0.1 from a thread; yield its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = document.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Build:
    """A rendered and installed project: its Python and how a client authenticates to it."""

    project: Path
    python: Path
    env: dict[str, str]
    authorization: str


def build(variant: Variant, root: Path, stack: ExitStack, timings: dict[str, float]) -> Build:
    answers = variant.answers or {}
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the hook's "next steps"
        project = Path(
            cookiecutter(
                str(REPO),
                no_input=True,
                output_dir=str(root / variant.name),
                extra_context={**answers},
            )
        )
    timings.setdefault("generate the default project", time.perf_counter() - started)
    python = install(project)
    auth = variant.auth if variant.answers is not None else "minimal"
    env: dict[str, str] = {}
    authorization = ""
    if answers.get("metrics", True):
        env["METRICS_PORT"] = str(free_port())
    if auth == "api-key":
        key, entry = mint_api_key(python, project, "bench")
        env["API_KEYS"] = api_keys(entry)
        authorization = f"Bearer {key}"
    elif auth == "jwt":
        printed = subprocess.run(
            [
                str(python),
                str(BENCHMARKS / "identity_provider.py"),
                "--issuer",
                ISSUER,
                "--audience",
                AUDIENCE,
                "--scope",
                "students:read students:write",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        jwks_url = stack.enter_context(served_jwks(printed[0]))
        env |= {"JWT_JWKS_URL": jwks_url, "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE}
        authorization = f"Bearer {printed[1]}"
    return Build(project, python, env, authorization)


def measure(
    args: argparse.Namespace,
    variants: list[Variant],
    root: Path,
    uri: str,
    stack: ExitStack,
    timings: dict[str, float],
) -> tuple[dict, dict, dict]:
    """Every round, every operation, every service in turn; samples and peak RSS."""
    builds = {variant.name: build(variant, root, stack, timings) for variant in variants}
    if args.suite:
        generated = builds.get("pymongo") or build(VARIANTS[1], root, stack, timings)
        started = time.perf_counter()
        result = run_pytest(generated.python, generated.project, uri)
        summary = result.stdout.strip().splitlines()[-1].strip("= ")
        timings[f"the generated suite, {summary}"] = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"the generated suite failed:\n{result.stdout[-3000:]}")
    services: dict[str, Service] = {}
    for variant in variants:
        made = builds[variant.name]
        services[variant.name] = service = Service(
            variant,
            made.python,
            made.project,
            uri,
            made.env,
            made.authorization,
            root / f"{variant.name}.log",
        )
        stack.callback(service.stop)
    samples: dict[tuple[str, str], list[Sample]] = {}
    names = [variant.name for variant in variants]
    for round_number in range(args.rounds):
        for operation in args.operations:
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                service = services[name]
                ids: list[str] = []
                if operation == "delete":
                    ids = service.victims(args.deletes)
                script = root / "script.lua"
                script.write_text(lua_script(service, operation, ids))
                samples.setdefault((name, operation), []).append(
                    drive(service, operation, args.seconds, args.connections, script)
                )
                if operation in ("create", "delete"):
                    service.reset()
            print(f"round {round_number + 1}/{args.rounds}: {operation} done", flush=True)
    rss = {name: service.peak_rss_mib() for name, service in services.items()}
    packages: dict[str, str] = {}
    for made in builds.values():
        packages |= installed(made.python, "tornado", "pymongo", "motor")
    return samples, rss, dict(sorted(packages.items()))


def installed(python: Path, *names: str) -> dict[str, str]:
    """The versions of those of `names` that `python` has."""
    script = (
        "import importlib.metadata as m, json, sys\n"
        "found = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        found[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        pass\n"
        "print(json.dumps(found))\n"
    )
    printed = subprocess.run(
        [str(python), "-c", script, *names], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(printed)


def median(samples: list[Sample], attribute: str) -> float:
    return statistics.median(getattr(sample, attribute) for sample in samples)


def report(
    args: argparse.Namespace,
    variants: list[Variant],
    samples: dict,
    rss: dict,
    timings: dict[str, float],
    server: str,
    packages: dict[str, str],
) -> str:
    """docs/benchmarks.md: the figures, the ratios that matter, and how they were made."""
    names = [variant.name for variant in variants]
    operations = args.operations
    cpu = {key: median(value, "cpu_us") for key, value in samples.items()}

    def ratio(name: str, floor: str, operation: str) -> str:
        if (floor, operation) not in cpu or (name, operation) not in cpu:
            return "n/a"
        return f"{cpu[(name, operation)] / cpu[(floor, operation)]:.2f}"

    lines = [
        "# Benchmarks",
        "",
        "Made by `make bench` (`benchmarks/run.py`); rerunning it rewrites this page and",
        "`benchmarks.png`. Every figure comes from one run, with the services measured side by",
        "side: within each round every service is driven in turn for every operation, the",
        "first one changing each round.",
        "",
        f"- Run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {args.rounds} rounds of"
        f" {args.seconds} s per operation and service, wrk with {args.connections} connections"
        " over loopback.",
        f"- Machine: {os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()},"
        f" {', '.join(f'{name} {number}' for name, number in packages.items())}.",
        f"- Database: {server}, with wrk on CPU {LOAD_CPU} and the services on CPU"
        f" {SERVICE_CPU} (`workers-2` on both).",
        "- **Headline: server CPU time per request** (user + system of the service's processes"
        " from /proc, over the requests answered). FerretDB's SQLite backend dominates the"
        " wall-clock figures (requests/s and latency), so read those as FerretDB's.",
        "",
        "![CPU per request](benchmarks.png)",
        "",
        "## CPU per request, µs (median over rounds)",
        "",
        "| variant | " + " | ".join(operations) + " |",
        "| --- |" + " ---: |" * len(operations),
    ]
    for name in names:
        cells = [f"{cpu[(name, op)]:.0f}" for op in operations]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    if "minimal" in names:
        lines += ["", "## Ratio to the minimal handler (CPU per request; below 1 is cheaper)", ""]
        lines += [
            "| variant | " + " | ".join(operations) + " |",
            "| --- |" + " ---: |" * len(operations),
        ]
        for name in names:
            if name != "minimal":
                cells = [ratio(name, "minimal", op) for op in operations]
                lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    pairs = [("motor", "pymongo", "Motor / PyMongo"), ("workers-2", "pymongo", "WORKERS=2 / 1")]
    for name, floor, title in pairs:
        if name in names and floor in names:
            rates = {key: median(value, "rate") for key, value in samples.items()}
            lines += [
                "",
                f"## {title}",
                "",
                "| | " + " | ".join(operations) + " |",
                "| --- |" + " ---: |" * len(operations),
            ]
            lines.append(
                "| CPU per request | "
                + " | ".join(ratio(name, floor, op) for op in operations)
                + " |"
            )
            lines.append(
                "| requests/s | "
                + " | ".join(f"{rates[(name, op)] / rates[(floor, op)]:.2f}" for op in operations)
                + " |"
            )
    lines += [
        "",
        "## Every figure (medians over rounds)",
        "",
        "| variant | operation | requests/s | p50 ms | p99 ms | CPU µs/request | non-2xx |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in names:
        for op in operations:
            values = samples[(name, op)]
            lines.append(
                f"| `{name}` | {op} | {median(values, 'rate'):.0f} | {median(values, 'p50_ms'):.2f}"
                f" | {median(values, 'p99_ms'):.2f} | {median(values, 'cpu_us'):.0f} | 0 |"
            )
    lines += [
        "",
        "## The variants",
        "",
        "| variant | what runs | peak RSS (MiB) |",
        "| --- | --- | ---: |",
    ]
    for variant in variants:
        lines.append(f"| `{variant.name}` | {variant.label} | {rss[variant.name]:.0f} |")
    lines += ["", "## Time to generate and to test", "", "| what | seconds |", "| --- | ---: |"]
    for what, seconds in timings.items():
        lines.append(f"| {what} | {seconds:.1f} |")
    if not any(what.startswith("this repository") for what in timings):
        lines.append(
            "| this repository's `make test` | not measured in this run (`--full-suite`) |"
        )
    return "\n".join([*lines, "", READING]) + "\n"


READING = """\
## Reading these figures

- **The floor.** `benchmarks/minimal.py` is what a hurried senior engineer writes: a Tornado
  handler per route, one PyMongo call each, `json.dumps` of the document, no validation,
  authentication, access line, metrics, ETags or error bodies, on asyncio's own event loop.
  It runs with the generated project's Python, so both use the same Tornado and PyMongo.
- **What the generated service adds per request**, on top of the same Tornado and PyMongo
  code: the bearer check, pydantic validation of the body and of what it returns, the
  request id, security and cache headers, the ETag, one JSON access line (a `write` to
  stderr) and the metrics. What it saves: uvloop's event loop, one pydantic call for a
  whole page (which is why long lists come in under the floor), one round trip for any
  page (the floor pays `getMore`s past 101 documents) and no `timeoutMS` overhead.
- **Instructions and CPU time differ.** Counted with callgrind (sequential requests), the
  generated service with everything on runs within a few per cent of the floor's
  instructions on reads and about a tenth more on writes; CPU time under load shows more,
  because system calls are dear on this virtual machine: on Python 3.11 every
  `asyncio.get_running_loop()` is a `getpid` (about 24 a request here, 19 for the floor;
  Python 3.12 dropped it), and Tornado's stream toggles its file descriptor on uvloop's
  loop (`epoll_ctl`, `ioctl`), a few more than on asyncio's.
- **Motor** runs each call in a thread: the hop costs CPU and latency that PyMongo's
  native async client does not pay.
- **WORKERS=2 on two cores** cannot show scaling: the database and wrk need CPU 0, which the
  second worker then shares. What it shows is the cost per request of the supervisor and of
  prometheus-client's multiprocess mode (one memory-mapped file a worker); throughput there
  stays FerretDB's. Measure scaling on a machine with cores the load and database do not use.
"""


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def chart(variants: list[Variant], operations: list[str], samples: dict, path: Path) -> None:
    """Grouped bars: CPU per request for each operation, one bar per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [variant.name for variant in variants]
    width = 0.8 / len(names)
    figure, axes = plt.subplots(figsize=(12, 5.5))
    for index, name in enumerate(names):
        values = [median(samples[(name, op)], "cpu_us") for op in operations]
        positions = [op + (index - (len(names) - 1) / 2) * width for op in range(len(operations))]
        axes.bar(positions, values, width, label=name)
    axes.set_xticks(range(len(operations)), operations)
    axes.set_ylabel("server CPU per request (µs)")
    axes.set_title("Generated service vs the minimal handler: CPU per request (lower is better)")
    axes.legend(ncols=3, fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--deletes",
        type=int,
        default=2000,
        help="students seeded for each delete run (raise it on a fast server)",
    )
    parser.add_argument(
        "--variants",
        default=",".join(v.name for v in VARIANTS),
        help="comma-separated names (default: all)",
    )
    parser.add_argument(
        "--operations",
        default=",".join(OPERATIONS),
        help="comma-separated operations (default: all)",
    )
    parser.add_argument(
        "--no-suite",
        dest="suite",
        action="store_false",
        help="skip timing the generated project's suite",
    )
    parser.add_argument(
        "--full-suite",
        action="store_true",
        help="also time this repository's `make test` (about 15 minutes)",
    )
    parser.add_argument("--output", type=Path, default=DOCS / "benchmarks.md")
    args = parser.parse_args()
    by_name = {variant.name: variant for variant in VARIANTS}
    unknown = [name for name in args.variants.split(",") if name not in by_name]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {', '.join(by_name)}")
    variants = [by_name[name] for name in args.variants.split(",")]
    operations = args.operations.split(",")
    if unknown := [name for name in operations if name not in OPERATIONS]:
        parser.error(f"unknown operations {unknown}; choose from {', '.join(OPERATIONS)}")
    args.operations = [name for name in OPERATIONS if name in operations]
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(
                f"{tool} is missing: apt-get install {'wrk' if tool == 'wrk' else 'util-linux'}"
            )
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        root = Path(scratch)
        uri = os.environ.get("MONGODB_URI")
        if uri is None:
            uri = stack.enter_context(ferretdb(root, cpus=LOAD_CPU))
        server = "MONGODB_URI" if os.environ.get("MONGODB_URI") else "FerretDB 1.24 (SQLite)"
        samples, rss, packages = measure(args, variants, root, uri, stack, timings)
    if args.full_suite:
        started = time.perf_counter()
        subprocess.run(["make", "test"], cwd=REPO, check=True, stdin=subprocess.DEVNULL)
        timings["this repository's `make test`"] = time.perf_counter() - started
    text = report(args, variants, samples, rss, timings, server, packages)
    args.output.write_text(text)
    chart(variants, args.operations, samples, args.output.with_suffix(".png"))
    print(text)


if __name__ == "__main__":
    main()
