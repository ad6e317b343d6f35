"""What the benchmarks share: simulated events, a source key, and the API in its own process on loopback."""

import http.client
import math
import os
import socket
import subprocess
import time
from pathlib import Path

import orjson
import polars as pl

from lake.sources.simulator import SimulationConfig, simulate

EVENTS_PER_LEARNER = 150  # a safe under-estimate of what the simulator yields per learner


def simulated_events(n: int, seed: int = 1) -> pl.DataFrame:
    """Exactly ``n`` simulator events (more learners are simulated until there are enough)."""
    learners = max(10, math.ceil(n / EVENTS_PER_LEARNER))
    events = simulate(SimulationConfig(learners=learners, seed=seed)).events
    while events.height < n:
        learners *= 2
        events = simulate(SimulationConfig(learners=learners, seed=seed)).events
    return events.head(n)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(port: int, path: str, headers: dict | None = None) -> dict:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        con.request("GET", path, headers=headers or {})
        return orjson.loads(con.getresponse().read())
    finally:
        con.close()


def source_key(home: Path, name: str = "bench", database_url: str | None = None) -> str:
    """A new source key in the core database (``home``'s SQLite file unless ``database_url``), migrated first, as
    ``learnlake sources add`` makes one."""
    from serving.core.db import Database
    from serving.core.migrate import upgrade
    from serving.core.source_keys import create_key

    url = database_url or f"sqlite:///{home / 'core.db'}"
    upgrade(url)
    database = Database(url)
    try:
        return create_key(database, name)[1]
    finally:
        database.dispose()


def start_api(home: Path, port: int, env: dict | None = None, log_file: Path | None = None) -> subprocess.Popen:
    """The API in its own process, answering on loopback; returns once /health answers. Its log lines go
    to ``log_file`` when given (as a server's do), else to this process's stderr."""
    from serving.main import uvicorn_command

    output = open(log_file, "ab") if log_file is not None else None  # noqa: SIM115 - the child holds it
    proc = subprocess.Popen(
        uvicorn_command("127.0.0.1", port, "--log-level", "warning"),
        env={**os.environ, "LEARNLAKE_HOME": str(home), **(env or {})},
        stdout=output, stderr=subprocess.STDOUT if output is not None else None,
    )
    if output is not None:
        output.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited with code {proc.returncode} while starting")
        try:
            get_json(port, "/health")
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the API did not answer within 60 s")
