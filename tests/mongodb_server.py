"""Start and stop the FerretDB test server built by `make ferretdb` (tools/ferretdb)."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FERRETDB = REPO / ".cache" / "bin" / "ferretdb"
START_TIMEOUT = 30.0


class ServerError(RuntimeError):
    """The test server could not be started."""


@contextmanager
def ferretdb(data_dir: Path, binary: Path = FERRETDB, cpus: str | None = None) -> Iterator[str]:
    """Run FerretDB on a free 127.0.0.1 port with SQLite data in `data_dir`; yield its URI.

    `cpus` (taskset's list, such as "0") pins it, so that a benchmark keeps it off the
    service's core.
    """
    if not binary.exists():
        raise ServerError(
            f"{binary} is missing. Run `make ferretdb` (needs Go) or set MONGODB_URI "
            "to a MongoDB you can write to."
        )
    log_path = data_dir / "ferretdb.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(["taskset", "-c", cpus] if cpus else []),
                *(str(binary), "-listen-addr", "127.0.0.1:0", "-data-dir", str(data_dir)),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    # The server prints its URI once it listens; give up (and kill it) past the deadline.
    watchdog = threading.Timer(START_TIMEOUT, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        uri = process.stdout.readline().decode().strip()
    finally:
        watchdog.cancel()
    try:
        if not uri.startswith("mongodb://"):
            process.kill()
            process.wait()
            raise ServerError(f"FerretDB did not start:\n{log_path.read_text()}")
        yield uri
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
