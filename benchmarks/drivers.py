"""PyMongo's AsyncMongoClient vs Motor: the same generated service, side by side.

Generates the default project once per driver, installs each into its own environment,
starts both against one database server (MONGODB_URI, or a FerretDB from `make ferretdb`),
and sends the same request mix to each in alternating rounds, so both see the same noise.
Each service runs with the default `auth` (api-key) and a key minted by its `new-api-key`.
Prints requests per second for each driver and their ratio. Run with:

    .venv/bin/python benchmarks/drivers.py [--rounds 6] [--requests 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from cookiecutter.main import cookiecutter
from generated import api_keys, install, mint_api_key

from mongodb_server import REPO, ferretdb

DRIVERS = ("pymongo", "motor")


def start(
    python: Path, uri: str, database: str, entry: str, log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    """Start the service on a free port; its log goes to `log`, where the port is read."""
    env = {
        **os.environ,
        "MONGODB_URI": uri,
        "MONGODB_DATABASE": database,
        "PORT": "0",
        "API_KEYS": api_keys(entry),
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(python), "-m", "college_api"], env=env, stderr=sink, stdout=subprocess.DEVNULL
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if match := re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read_text()):
            return process, int(match[1])
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"service did not start:\n{log.read_text()}")


def one_round(port: int, key: str, requests: int) -> float:
    """Requests per second for a mix of create, read and list, over one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    for n in range(requests // 3):
        body = json.dumps({"name": f"n{n}", "email": f"e{n}", "course": "c", "gpa": 3.5})
        connection.request("POST", "/students", body, headers)
        created = json.loads(connection.getresponse().read())
        connection.request("GET", f"/students/{created['id']}", headers=headers)
        connection.getresponse().read()
        connection.request("GET", "/students?limit=20", headers=headers)
        connection.getresponse().read()
    elapsed = time.perf_counter() - started
    connection.close()
    return (requests // 3 * 3) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        root = Path(scratch)
        uri = os.environ.get("MONGODB_URI") or stack.enter_context(ferretdb(root))
        ports, keys = {}, {}
        for driver in DRIVERS:
            project = cookiecutter(
                str(REPO),
                no_input=True,
                output_dir=str(root / driver),
                extra_context={"mongodb_driver": driver},
            )
            python = install(Path(project))
            keys[driver], entry = mint_api_key(python, Path(project), "bench")
            log = root / f"{driver}.log"
            process, ports[driver] = start(python, uri, f"bench_{driver}", entry, log)
            stack.callback(process.wait)
            stack.callback(process.terminate)

        rates: dict[str, list[float]] = {driver: [] for driver in DRIVERS}
        for round_number in range(args.rounds):
            order = DRIVERS if round_number % 2 == 0 else DRIVERS[::-1]
            for driver in order:
                rates[driver].append(one_round(ports[driver], keys[driver], args.requests))

    print(f"server: {'MONGODB_URI' if os.environ.get('MONGODB_URI') else 'FerretDB 1.24 (SQLite)'}")
    print(f"{args.rounds} alternating rounds of {args.requests} requests (create, get, list)")
    for driver in DRIVERS:
        median = statistics.median(rates[driver])
        print(
            f"{driver:8} median {median:7.1f} req/s  (rounds: "
            + ", ".join(f"{rate:.0f}" for rate in rates[driver])
            + ")"
        )
    ratio = statistics.median(rates["motor"]) / statistics.median(rates["pymongo"])
    print(f"motor / pymongo throughput ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
