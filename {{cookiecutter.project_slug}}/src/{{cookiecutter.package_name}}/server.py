"""Run the application: one process or a supervisor of several sharing a port.

The service starts whether or not MongoDB answers (indexes are built as soon as it does),
and stops without resetting a connection: on SIGTERM it reports not-ready, keeps serving
for `SHUTDOWN_DELAY_SECONDS`, takes over the connections the kernel already queued, closes
the listener, and lets the requests in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn

from pymongo.errors import OperationFailure, PyMongoError
from tornado import autoreload
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream
from tornado.netutil import add_accept_handler, bind_sockets

from {{ cookiecutter.package_name }}.app import make_app
from {{ cookiecutter.package_name }}.context import ApiContext, Readiness
from {{ cookiecutter.package_name }}.database import close, connect, start
from {{ cookiecutter.package_name }}.errors import DatabaseUnavailable
{%- if cookiecutter.metrics %}
from {{ cookiecutter.package_name }}.metrics import (
    record_build_info,
    serve_metrics,
    worker_exited,
)
{%- endif %}
from {{ cookiecutter.package_name }}.repository import Repository, open_repositories
from {{ cookiecutter.package_name }}.settings import Settings
{%- if cookiecutter.opentelemetry %}
from {{ cookiecutter.package_name }}.tracing import start_tracing, stop_tracing
{%- endif %}

log = logging.getLogger(__name__)

# The event loop: uvloop's, which spends a good part less CPU per request than asyncio's
# own; Windows has no uvloop.
LOOP_FACTORY: Callable[[], asyncio.AbstractEventLoop]
if sys.platform == "win32":
    LOOP_FACTORY = asyncio.new_event_loop
else:
    import uvloop

    LOOP_FACTORY = uvloop.new_event_loop
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Index creation retries: exponential from the first delay up to the cap, with jitter so
# that workers and replicas restarted together do not retry in step.
INDEX_RETRY_FIRST_SECONDS = 0.5
INDEX_RETRY_CAP_SECONDS = 15.0
# More worker deaths than this within the window is a crash loop: stop instead of forking.
WORKER_DEATHS_ALLOWED = 5
WORKER_DEATH_WINDOW_SECONDS = 60.0
_INDEX_NAME = re.compile(r"index: (\S+)")
# The driver appends the topology description or the whole reply.
_APPENDIX = re.compile(r", (?:Timeout|full error): ")
# FerretDB starts its messages with "[file.go:123 function]" locations.
_LOCATIONS = re.compile(r"^(?:\[[^\]]*\] )+")
# How often shutdown looks whether the last requests have finished.
_SHUTDOWN_POLL_SECONDS = 0.05
# How often a worker looks whether its supervisor is still there.
_ORPHAN_POLL_SECONDS = 1.0


class PendingSignals:
    """Records SIGTERM and SIGINT until the event loop takes them over: none is lost at start-up."""

    def __init__(self) -> None:
        self.received: list[int] = []
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._record)

    def _record(self, signum: int, _frame: object) -> None:
        self.received.append(signum)


class Listener:
    """Accepts connections for `server`, and stops without dropping the ones already queued.

    Closing a listening socket resets every connection the kernel accepted into its backlog,
    so `close()` first hands those to the server, like any other connection.
    """

    def __init__(self, server: HTTPServer, sockets: list[socket.socket]) -> None:
        self._server = server
        self._sockets = sockets
        self._stop_accepting = [add_accept_handler(sock, self._accepted) for sock in sockets]

    def _accepted(self, connection: socket.socket, address: tuple[str, int]) -> None:
        self._serve(connection, address)

    def _serve(self, connection: socket.socket, address: tuple[str, int]) -> IOStream:
        stream = IOStream(connection)
        self._server.handle_stream(stream, address)
        return stream

    def close(self) -> list[IOStream]:
        """Stop accepting, serve what the backlog holds, close the sockets; those connections."""
        for stop in self._stop_accepting:
            stop()
        queued = []
        for sock in self._sockets:
            for _ in range(socket.SOMAXCONN):
                try:
                    connection, address = sock.accept()
                except BlockingIOError:
                    break
                except ConnectionAbortedError:
                    continue
                queued.append(self._serve(connection, address))
            sock.close()
        return queued


async def create_indexes(context: ApiContext) -> None:
    """Create each resource's indexes as soon as the database lets us; mark each ready.

    Each failed attempt is one log line; the retries back off up to a cap and never stop,
    because the fix (a database coming up, duplicates removed) happens outside the service.
    One resource's failure does not hold up the others.
    """
    await asyncio.gather(
        *(
            _create_indexes(repository, context.readiness)
            for repository in context.repositories.values()
            if repository.indexes
        )
    )


async def _create_indexes(repository: Repository, readiness: Readiness) -> None:
    collection = repository.collection.name
    delay = INDEX_RETRY_FIRST_SECONDS
    while True:
        try:
            await repository.ensure_indexes()
        except DatabaseUnavailable as error:
            reason = _brief(error.__cause__ or error)
            level, message = logging.WARNING, f"the database is unavailable ({reason})"
        except OperationFailure as error:
            level, message = logging.ERROR, _index_failure(error, collection)
        except PyMongoError as error:
            level, message = logging.WARNING, _brief(error)
        else:
            readiness.indexes_created(repository.resource.name)
            log.info("indexes on %s are in place (%d)", collection, len(repository.indexes))
            return
        wait = random.uniform(delay / 2, delay)  # noqa: S311 (jitter, not a secret)
        log.log(level, "indexes on %s not created: %s; retry in %.1fs", collection, message, wait)
        await asyncio.sleep(wait)
        delay = min(delay * 2, INDEX_RETRY_CAP_SECONDS)


def _index_failure(error: OperationFailure, collection: str) -> str:
    """What stops an index build, said so that someone can fix it."""
    if error.code in (11000, 11001):
        key = (error.details or {}).get("keyPattern") or {}
        index = _INDEX_NAME.search(str(error))
        field = ", ".join(name for name in key if name != "_id") or (
            index[1] if index else "a unique field"
        )
        return (
            f"documents in {collection} share a value of {field}, so its unique index cannot "
            f"be built; remove the duplicates ({_brief(error)})"
        )
    return f"the database refused: {_brief(error)}"


def _brief(error: BaseException) -> str:
    """An error on one short line, without what the driver and FerretDB add to messages."""
    text = _LOCATIONS.sub("", _APPENDIX.split(str(error), maxsplit=1)[0])
    text = " ".join(text.split()) or type(error).__name__
    return text if len(text) <= 200 else f"{text[:199]}…"


async def serve(
    settings: Settings,
    sockets: list[socket.socket],
    early: Sequence[int] = (),
    supervisor: int | None = None,
) -> None:
    """Serve on `sockets` until SIGTERM or SIGINT (`early` ones count too), then drain and stop.

    A worker also stops when its `supervisor` process is gone (killed with SIGKILL, say), so
    that no worker serves unsupervised or keeps the port from a restarted service.
    """
    stop = asyncio.Event()
    hurry = asyncio.Event()

    def request_stop(signum: int) -> None:
        if not stop.is_set():
            log.info("%s received: shutting down", signal.Signals(signum).name)
        stop.set()
        if signum == signal.SIGINT:  # someone at a terminal, not a load balancer, is waiting
            hurry.set()

    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, request_stop, signum)
    for received in early:
        request_stop(received)

    def stop_when_orphaned(task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            stop.set()

    orphaned = None if supervisor is None else asyncio.create_task(_orphaned(supervisor))
    if orphaned is not None:
        orphaned.add_done_callback(stop_when_orphaned)

    client = connect(settings)
    await start(client)
    repositories = open_repositories(client, settings)
    context = ApiContext(
        settings=settings,
        client=client,
        repositories=repositories,
        readiness=Readiness(building=[name for name, r in repositories.items() if r.indexes]),
    )
    indexing = (
        None if context.readiness.indexes_ready else asyncio.create_task(create_indexes(context))
    )
    server = HTTPServer(
        make_app(context),
        max_body_size=settings.max_body_bytes,
        idle_connection_timeout=settings.http_idle_timeout_seconds,
        body_timeout=settings.http_body_timeout_seconds,
    )
    listener = Listener(server, sockets)
    host, port = sockets[0].getsockname()[:2]
    log.info("listening on http://%s:%d (pid %d)", host, port, os.getpid())
    if settings.autoreload:
        autoreload.start()  # re-executes this process when a module it imported changes
    await stop.wait()

    context.readiness.drain()
    if not hurry.is_set() and settings.shutdown_delay_seconds > 0:
        log.info(
            "draining: /readyz answers 503, the listener closes in %.1fs",
            settings.shutdown_delay_seconds,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hurry.wait(), settings.shutdown_delay_seconds)
    queued = listener.close()
    log.info("shutting down: waiting for %d in-flight request(s)", context.in_flight.count)
    if not await _requests_finished(context, queued, settings.shutdown_grace_seconds):
        log.warning("grace period over: closing %d request(s)", context.in_flight.count)
    await server.close_all_connections()
    if orphaned is not None:
        orphaned.cancel()
    if indexing is not None:
        indexing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await indexing
    await close(client)
    log.info("stopped")


async def _orphaned(supervisor: int) -> None:
    """Return once the supervisor has died: the worker is then re-parented."""
    # No portable event tells a process that its parent died; the worker looks now and then.
    while os.getppid() == supervisor:  # noqa: ASYNC110
        await asyncio.sleep(_ORPHAN_POLL_SECONDS)
    log.error("supervisor %d is gone: stopping worker %d", supervisor, os.getpid())


async def _requests_finished(context: ApiContext, queued: list[IOStream], seconds: float) -> bool:
    """True once no request is in flight and the connections taken from the backlog are done.

    Those connections count as busy until they close: their first request may still be on
    its way, and draining responses carry `Connection: close`, so they close once answered.
    """
    deadline = time.monotonic() + seconds
    while context.in_flight.count or not all(stream.closed() for stream in queued):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_SHUTDOWN_POLL_SECONDS)
    return True


def run(settings: Settings) -> int:
    """Bind the port, fork `WORKERS` processes if asked, serve; the exit status."""
    pending = PendingSignals()
    try:
        sockets = bind_sockets(settings.port, settings.host)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, error)
        return 1
    supervisor = Supervisor(settings, sockets) if settings.workers > 1 else None
{%- if cookiecutter.metrics %}
    if settings.metrics_port:
        try:
            serve_metrics(settings, supervisor.live_workers if supervisor else None)
        except OSError as error:
            log.error(
                "cannot serve metrics on %s:%d: %s", settings.host, settings.metrics_port, error
            )
            return 1
        log.info("metrics on http://%s:%d/metrics", settings.host, settings.metrics_port)
{%- endif %}
    if supervisor is None:
        return _serve_process(settings, sockets, pending)
    return supervisor.run(pending)


def _serve_process(
    settings: Settings,
    sockets: list[socket.socket],
    pending: PendingSignals,
    supervisor: int | None = None,
) -> int:
{%- if cookiecutter.metrics %}
    record_build_info()
{%- endif %}
{%- if cookiecutter.opentelemetry %}
    tracing = start_tracing()  # after the fork: its exporter runs a thread
{%- endif %}
    try:
        with asyncio.Runner(loop_factory=LOOP_FACTORY) as runner:
            runner.run(serve(settings, sockets, pending.received, supervisor))
    except PyMongoError as error:  # e.g. a mongodb+srv:// name that does not resolve
        log.error("cannot start: %s", _brief(error))
        return 1
{%- if cookiecutter.opentelemetry %}
    finally:
        stop_tracing(tracing)
{%- endif %}
    return 0


class Supervisor:
    """Forks the workers, replaces any that dies, and passes SIGTERM and SIGINT on to them.

    Workers are forked before any event loop or client exists. The supervisor blocks in
    `os.waitpid`; its signal handlers run in between and forward the signal at once.
    """

    def __init__(self, settings: Settings, sockets: list[socket.socket]) -> None:
        self.settings = settings
        self.sockets = sockets
        self.workers: set[int] = set()
        self.stopping: int | None = None
        self.failed = False
        self._deaths: deque[float] = deque()

    def live_workers(self) -> frozenset[int]:
        return frozenset(self.workers)

    def run(self, pending: PendingSignals) -> int:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        for received in pending.received:
            self._on_signal(received, None)
        log.info("supervisor %d starting %d workers", os.getpid(), self.settings.workers)
        for _ in range(self.settings.workers):
            self._fork()
        while self.workers:
            pid, status = os.waitpid(-1, 0)
            self._reap(pid, os.waitstatus_to_exitcode(status))
        self._close_sockets()
        if self.stopping is None or self.failed:
            return 1
        log.info("all workers stopped")
        return 0

    def _fork(self) -> None:
        with _stop_signals_blocked():
            if self.stopping is not None:
                return
            supervisor = os.getpid()
            pid = os.fork()
            if pid == 0:
                _work(self.settings, self.sockets, supervisor)
            self.workers.add(pid)

    def _reap(self, pid: int, code: int) -> None:
        self.workers.discard(pid)
{%- if cookiecutter.metrics %}
        worker_exited(pid)
{%- endif %}
        if self.stopping is not None:
            if code != 0:
                log.error("worker %d %s during shutdown", pid, _exit_reason(code))
                self.failed = True
            return
        now = time.monotonic()
        self._deaths.append(now)
        while self._deaths[0] < now - WORKER_DEATH_WINDOW_SECONDS:
            self._deaths.popleft()
        if len(self._deaths) > WORKER_DEATHS_ALLOWED:
            log.error(
                "worker %d %s; %d deaths within %.0fs: stopping all workers",
                *(pid, _exit_reason(code), len(self._deaths), WORKER_DEATH_WINDOW_SECONDS),
            )
            self.failed = True
            self._stop(signal.SIGTERM)
            return
        log.error("worker %d %s; starting a replacement", pid, _exit_reason(code))
        self._fork()

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stopping is None:
            name = signal.Signals(signum).name
            log.info("%s received: stopping %d workers", name, len(self.workers))
        self._stop(signum)

    def _stop(self, signum: int) -> None:
        self.stopping = signum
        # The workers drain the shared listener; a copy left open here would queue
        # connections that nobody accepts.
        self._close_sockets()
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def _close_sockets(self) -> None:
        for sock in self.sockets:
            sock.close()


def _work(settings: Settings, sockets: list[socket.socket], supervisor: int) -> NoReturn:
    """A worker's whole life after the fork: it never returns into the supervisor's code."""
    status = 1
    try:
        pending = PendingSignals()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        status = _serve_process(settings, sockets, pending, supervisor)
    except BaseException:
        log.exception("worker %d failed", os.getpid())
    finally:
        logging.shutdown()
        os._exit(status)


@contextlib.contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """Hold SIGTERM and SIGINT back while forking: the new worker is known before one lands."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _exit_reason(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"
