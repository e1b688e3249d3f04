"""Deep tier: the generated service under faults, as a real process with its own FerretDB.

The database starts late, dies and comes back under writes; the service is stopped under
load and loses a worker. What must hold: answers come within the database timeout, the
only failure is a 503, no connection is reset, and every write acknowledged is stored.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import queue
import random
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from cookiecutter.main import cookiecutter
from generated import api_keys, install, mint_api_key
from pymongo import MongoClient

from matrix import COURSES, THREE, Answers
from mongodb_server import FERRETDB, REPO, START_TIMEOUT

DEADLINE = 30.0
# What a request may take beyond MONGODB_TIMEOUT_MS on a busy two-core machine.
MARGIN = 3.0
TIMEOUT_MS = 1000
LISTENING = r"listening on http://127\.0\.0\.1:(\d+) \(pid (\d+)\)"
SPECS: dict[str, Answers] = {"default": {}, "courses": COURSES, "three": THREE}


@dataclass(frozen=True)
class Collection:
    """What the generated tests know of one resource: its indexes, as field names."""

    name: str
    indexed: list[str]  # sortable, multikey and reference fields: a (field, _id) index each
    unique: list[str]


@dataclass(frozen=True)
class Project:
    """A generated project installed in its own environment, with sample bodies from its tests.

    Writes go to the first resource (the HTTP and database plumbing is the same for all),
    with an API key that may do everything (`key`; `entry` is its API_KEYS entry).
    """

    directory: Path
    python: Path
    package: str
    path: str
    bodies: list[dict[str, Any]]
    collections: list[Collection]
    key: str
    entry: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Project]:
    """Render and install each (spec, driver) once for the module; the tests share them."""
    made: dict[tuple[str, str], Project] = {}

    def get(spec: str, driver: str) -> Project:
        if (spec, driver) not in made:
            made[spec, driver] = _make_project(
                tmp_path_factory.mktemp(f"{spec}-{driver}"),
                {**SPECS[spec], "mongodb_driver": driver},
            )
        return made[spec, driver]

    return get


def _make_project(output: Path, answers: Answers) -> Project:
    directory = Path(
        cookiecutter(str(REPO), no_input=True, extra_context=answers, output_dir=str(output))
    )
    python = install(directory)
    (package,) = (path.name for path in (directory / "src").iterdir() if path.is_dir())
    # The generated tests know how to make valid, distinct bodies for the spec.
    script = (
        "import json\n"
        "from support import CASES\n"
        "print(json.dumps({'bodies': [CASES[0].new(n) for n in range(6000)], 'collections': [\n"
        "  {'name': case.name, 'unique': list(case.unique),\n"
        "   'indexed': [*case.sortable, *case.multikey, *case.references]} for case in CASES]}))\n"
    )
    result = subprocess.run(
        [str(python), "-c", script],
        cwd=directory / "tests",
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    samples = json.loads(result.stdout)
    collections = [Collection(**collection) for collection in samples["collections"]]
    key, entry = mint_api_key(python, directory, "faults")
    return Project(
        directory=directory,
        python=python,
        package=package,
        path=f"/{collections[0].name}",
        bodies=samples["bodies"],
        collections=collections,
        key=key,
        entry=entry,
    )


def port_outside_ephemeral_range() -> int:
    """A free port that no outgoing connection can take while the database is down.

    A port from `bind(0)` is in the ephemeral range: while nothing listens on it, the
    service's own reconnects (or any other client) may be given it as a source port, and
    the database then fails to start with "address already in use".
    """
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    candidates = range(min(10_000, low // 2), low)
    for port in random.sample(candidates, min(len(candidates), 200)):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    pytest.fail(f"no free port below the ephemeral range (which starts at {low})")


class Database:
    """FerretDB on a fixed port and data directory, so it can be killed and come back as it was."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.uri = f"mongodb://127.0.0.1:{port}/"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not FERRETDB.exists():
            pytest.fail(f"{FERRETDB} is missing: run `make ferretdb`", pytrace=False)
        address, directory = f"127.0.0.1:{self.port}", str(self.data_dir)
        with (self.data_dir / "ferretdb.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(FERRETDB), "-listen-addr", address, "-data-dir", directory],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        watchdog = threading.Timer(START_TIMEOUT, self.process.kill)
        watchdog.start()
        try:
            assert self.process.stdout is not None
            printed = self.process.stdout.readline().decode()
        finally:
            watchdog.cancel()
        assert printed.startswith("mongodb://"), (self.data_dir / "ferretdb.log").read_text()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self) -> MongoClient[dict[str, Any]]:
        return MongoClient(self.uri, serverSelectionTimeoutMS=5000)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A FerretDB of this test's own, not yet started."""
    data_dir = tmp_path / "ferretdb"
    data_dir.mkdir()
    database = Database(data_dir, port_outside_ephemeral_range())
    yield database
    database.stop()


class Service:
    """The generated service as a process, its log lines collected as they come."""

    def __init__(self, project: Project, env: dict[str, str]) -> None:
        self.project = project
        self.process = subprocess.Popen(
            [str(project.python), "-m", project.package],
            cwd=project.directory,
            env={
                **os.environ,
                "HOST": "127.0.0.1",
                "PORT": "0",
                "METRICS_PORT": "0",
                "MONGODB_TIMEOUT_MS": str(TIMEOUT_MS),
                "SHUTDOWN_DELAY_SECONDS": "0",
                "API_KEYS": api_keys(project.entry),
                **env,
            },
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        listening = self.wait_for(LISTENING)
        self.port, self.pid = int(listening[1]), int(listening[2])

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
        pytest.fail(f"no log line matching {pattern!r}; log:\n{''.join(self.log)}")

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)
        try:
            payload = None if body is None else json.dumps(body)
            connection.request(method, path, payload, self.project.headers)
            response = connection.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
        finally:
            connection.close()

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + DEADLINE
        while self.call("GET", "/readyz")[0] != 200:
            if time.monotonic() > deadline:
                pytest.fail(f"never ready; log:\n{''.join(self.log)}")
            time.sleep(0.1)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=DEADLINE)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def start_service() -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def start(project: Project, **env: str) -> Service:
        started.append(Service(project, env))
        return started[-1]

    yield start
    for service in started:
        service.kill()


@dataclass
class Outcome:
    status: int | None
    seconds: float
    started: float
    id: str | None = None
    error: str | None = None


@dataclass
class Writers:
    """Threads that POST distinct bodies, each on a kept-alive or on a new connection a request.

    A refused connection ends a thread: the listener has closed. Anything else that is not a
    response (a reset, a connection closed without an answer) is recorded as an error.
    """

    service: Service
    keep_alive: int
    fresh: int
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._bodies = iter(self.service.project.bodies)
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._write, args=(reuse,), daemon=True)
            for reuse in [True] * self.keep_alive + [False] * self.fresh
        ]
        for thread in self._threads:
            thread.start()

    def _next_body(self) -> dict[str, Any] | None:
        with self._lock:
            return next(self._bodies, None)

    def _write(self, reuse: bool) -> None:
        connection = None
        while not self.stop.is_set() and (body := self._next_body()) is not None:
            if connection is None or not reuse:
                connection = http.client.HTTPConnection(
                    "127.0.0.1", self.service.port, timeout=DEADLINE
                )
            started = time.monotonic()
            try:
                project = self.service.project
                connection.request("POST", project.path, json.dumps(body), project.headers)
                response = connection.getresponse()
                answer = json.loads(response.read() or b"null")
            except ConnectionRefusedError:
                return
            except (OSError, http.client.HTTPException) as error:
                outcome = Outcome(None, time.monotonic() - started, started, error=repr(error))
                connection.close()
                connection = None
            else:
                outcome = Outcome(response.status, time.monotonic() - started, started)
                if response.status == 201:
                    outcome.id = answer["id"]
                if not reuse:
                    connection.close()
            with self._lock:
                self.outcomes.append(outcome)

    def wait_for(self, what: str, enough: Callable[[list[Outcome]], bool]) -> None:
        deadline = time.monotonic() + DEADLINE
        while not enough(list(self.outcomes)):
            if time.monotonic() > deadline or not any(t.is_alive() for t in self._threads):
                pytest.fail(f"writers never saw {what}; log:\n{''.join(self.service.log)}")
            time.sleep(0.05)

    def join(self) -> list[Outcome]:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=DEADLINE)
            assert not thread.is_alive()
        return self.outcomes


def successes(since: float = 0.0) -> Callable[[list[Outcome]], bool]:
    return lambda outcomes: sum(o.status == 201 and o.started > since for o in outcomes) >= 20


def assert_stored(database: Database, name: str, project: Project, ids: list[str]) -> None:
    """Every acknowledged write is in the database."""
    with database.client() as client:
        collection = client[name][project.path.strip("/")]
        stored = {doc["_id"] for doc in collection.find({}, {"_id": 1})}
    missing = {ObjectId(id_) for id_ in ids} - stored
    assert not missing, f"{len(missing)} acknowledged writes missing, e.g. {sorted(missing)[:3]}"


CASES = [("default", "pymongo"), ("courses", "motor")]


def _case_id(case: tuple[str, str]) -> str:
    return f"spec:{case[0]}-driver:{case[1]}"


@pytest.mark.parametrize(
    "case",
    [*CASES, ("courses", "pymongo"), ("default", "motor"), ("three", "pymongo")],
    ids=_case_id,
)
def test_database_down_at_start_then_up_makes_the_service_ready(
    project: Callable[[str, str], Project],
    database: Database,
    start_service: Callable[..., Service],
    case: tuple[str, str],
) -> None:
    generated = project(*case)
    service = start_service(generated, MONGODB_URI=database.uri, MONGODB_DATABASE="faults")
    assert service.call("GET", "/healthz")[0] == 200
    assert service.call("GET", "/readyz")[0] == 503
    started = time.monotonic()
    assert service.call("GET", generated.path)[0] == 503
    assert time.monotonic() - started < TIMEOUT_MS / 1000 + MARGIN

    database.start()
    service.wait_until_ready()
    status, created = service.call("POST", generated.path, generated.bodies[0])
    assert status == 201, created

    with database.client() as client:
        for collection in generated.collections:
            keys = [
                (next(iter(index["key"])), index.get("unique", False))
                for index in client.faults[collection.name].list_indexes()
            ]
            for name in collection.unique:
                assert (name, True) in keys, (collection.name, keys)
            for name in collection.indexed:
                assert any(key == name for key, _ in keys), (collection.name, keys)
    assert service.stop() == 0


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_database_killed_and_restarted_under_writes_loses_no_acknowledged_write(
    project: Callable[[str, str], Project],
    database: Database,
    start_service: Callable[..., Service],
    case: tuple[str, str],
) -> None:
    generated = project(*case)
    database.start()
    service = start_service(generated, MONGODB_URI=database.uri, MONGODB_DATABASE="faults")
    service.wait_until_ready()
    writers = Writers(service, keep_alive=4, fresh=4)

    writers.wait_for("201s before the kill", successes())
    database.kill()
    writers.wait_for("a 503 while the database is down", lambda o: any(x.status == 503 for x in o))
    restarted = time.monotonic()
    database.start()
    writers.wait_for("201s after the restart", successes(since=restarted))
    outcomes = writers.join()

    errors = [o.error for o in outcomes if o.error]
    assert not errors, errors[:5]
    assert {o.status for o in outcomes} == {201, 503}
    slowest = max(o.seconds for o in outcomes)
    assert slowest < TIMEOUT_MS / 1000 + MARGIN, f"a request took {slowest:.1f}s"
    assert_stored(database, "faults", generated, [o.id for o in outcomes if o.id])
    assert service.stop() == 0


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_sigterm_under_load_resets_no_connection_and_keeps_every_write(
    project: Callable[[str, str], Project],
    database: Database,
    start_service: Callable[..., Service],
    case: tuple[str, str],
) -> None:
    generated = project(*case)
    database.start()
    service = start_service(
        generated,
        MONGODB_URI=database.uri,
        MONGODB_DATABASE="faults",
        SHUTDOWN_DELAY_SECONDS="1",
    )
    service.wait_until_ready()
    writers = Writers(service, keep_alive=4, fresh=4)
    writers.wait_for("201s before SIGTERM", successes())

    signalled = time.monotonic()
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(timeout=DEADLINE) == 0
    outcomes = writers.join()

    errors = [o.error for o in outcomes if o.error]
    assert not errors, errors[:5]
    assert {o.status for o in outcomes} == {201}
    # SHUTDOWN_DELAY_SECONDS=1: new connections are still served well after the signal.
    late = [o for o in outcomes if o.started > signalled + 0.5]
    assert late, "nothing was served during the shutdown delay"
    assert_stored(database, "faults", generated, [o.id for o in outcomes if o.id])


def test_a_killed_worker_is_replaced_and_the_port_keeps_serving(
    project: Callable[[str, str], Project],
    database: Database,
    start_service: Callable[..., Service],
) -> None:
    generated = project("default", "pymongo")
    database.start()
    service = start_service(
        generated, MONGODB_URI=database.uri, MONGODB_DATABASE="faults", WORKERS="2"
    )
    pids = {service.pid, int(service.wait_for(LISTENING)[2])}
    victim = service.pid

    os.kill(victim, signal.SIGKILL)
    service.wait_for(rf"worker {victim} was killed by SIGKILL; starting a replacement")
    assert int(service.wait_for(LISTENING)[2]) not in pids
    bodies = itertools.islice(generated.bodies, 20)
    assert [service.call("POST", generated.path, body)[0] for body in bodies] == [201] * 20

    assert service.stop() == 0
    service.wait_for("all workers stopped")
