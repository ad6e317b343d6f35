"""What the benchmarks share: simulated events, a source key, and the API in its own process on loopback."""

import http.client
import math
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
    proc = launch_api(home, port, env, log_file)
    wait_for_api(proc, port)
    return proc


def launch_api(home: Path, port: int, env: dict | None = None, log_file: Path | None = None) -> subprocess.Popen:
    """The API's process, started (``wait_for_api`` waits until it answers)."""
    from serving.main import uvicorn_command

    output = open(log_file, "ab") if log_file is not None else None  # noqa: SIM115 - the child holds it
    proc = subprocess.Popen(
        uvicorn_command("127.0.0.1", port, "--log-level", "warning"),
        env={**os.environ, "LEARNLAKE_HOME": str(home), **(env or {})},
        stdout=output, stderr=subprocess.STDOUT if output is not None else None,
    )
    if output is not None:
        output.close()
    return proc


def wait_for_api(proc: subprocess.Popen, port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited with code {proc.returncode} while starting")
        try:
            get_json(port, "/health")
            return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the API did not answer within {timeout_s:g} s")


POSTGRES_ADMIN_URL = os.environ.get("LEARNLAKE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_postgres(admin_url: str = POSTGRES_ADMIN_URL, *, core: bool = True) -> Iterator[str]:
    """A new PostgreSQL database on the server of ``admin_url``, dropped afterwards: a core database migrated to
    head, or (``core=False``) an empty one for another service (MLflow, Dagster). Raises
    ``sqlalchemy.exc.OperationalError`` when the server cannot be reached."""
    import sqlalchemy as sa

    from serving.core.migrate import upgrade

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"learnlake_scratch_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        try:
            if core:
                upgrade(url)
            yield url
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


class ApiReplicas:
    """N API processes as behind a load balancer: one lake and one core database (``env``), each its own home,
    port, writer id and landing log (as replicas on separate machines have)."""

    def __init__(self, folder: Path, n: int, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.homes = [folder / f"replica-{i}" for i in range(n)]
        self.ports = [free_port() for _ in range(n)]
        folder.mkdir(parents=True, exist_ok=True)
        self.procs = [self._launch(i) for i in range(n)]  # all at once, as a deployment starts them
        try:
            for proc, port in zip(self.procs, self.ports, strict=True):
                wait_for_api(proc, port, timeout_s=120)
        except BaseException:
            self.stop()
            raise

    def _launch(self, i: int) -> subprocess.Popen:
        return launch_api(self.homes[i], self.ports[i], env={**self.env, "LEARNLAKE_WRITER_ID": f"api-{i}"},
                          log_file=self.folder / f"api-{i}.log")

    def start(self, i: int) -> subprocess.Popen:
        """Start replica ``i`` again (after a crash: same home, same writer id, same landing log)."""
        proc = self._launch(i)
        wait_for_api(proc, self.ports[i], timeout_s=120)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            proc.wait(60)
