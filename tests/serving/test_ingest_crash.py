"""Crash safety: SIGKILL the API (and its committer) at random moments while clients post.

After every round the API is started again; at the end everything is flushed, and the
Delta table must hold every acknowledged event exactly once (decision 2).
"""

import http.client
import os
import random
import signal
import subprocess
import threading
import time
import uuid

import orjson
import polars as pl
import psutil
import pytest

from benchmarks.harness import free_port, get_json, source_key
from lake.committer import Committer
from lake.event_rows import row_to_native
from lake.landing import LandingLog
from lake.sources.simulator import SimulationConfig, simulate
from serving.main import uvicorn_command

pytestmark = pytest.mark.integration

ROUNDS = 5


def _start(home, port) -> subprocess.Popen:
    proc = subprocess.Popen(
        uvicorn_command("127.0.0.1", port, "--log-level", "warning"),
        env={**os.environ, "LEARNLAKE_HOME": str(home), "LEARNLAKE_COMMIT_INTERVAL_S": "0.2"},
        start_new_session=True,  # its own process group: the kill takes the committer too
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            get_json(port, "/v1/ingest/status")
            return proc
        except OSError:
            time.sleep(0.05)
    raise AssertionError("API did not start")


def _client(port, key, template, acknowledged, stop):
    while not stop.is_set():
        batch = [dict(event, event_id=str(uuid.uuid4())) for event in random.sample(template, 50)]
        try:
            con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            con.request("POST", "/v1/events", body=orjson.dumps(batch), headers={"Authorization": f"Bearer {key}"})
            response = con.getresponse()
            response.read()
            con.close()
        except OSError:
            return  # the server died under us: this batch was never acknowledged
        if response.status == 202:
            acknowledged.extend(event["event_id"] for event in batch)


def test_every_acknowledged_event_lands_exactly_once(learnlake_home):
    template = [row_to_native(r) for r in simulate(SimulationConfig(learners=20, days=14)).events.head(500)
                .iter_rows(named=True)]
    acknowledged: list[str] = []
    key = source_key(learnlake_home.home)
    rng = random.Random(7)
    for _ in range(ROUNDS):
        port = free_port()
        api = _start(learnlake_home.home, port)
        stop = threading.Event()
        clients = [threading.Thread(target=_client, args=(port, key, template, acknowledged, stop)) for _ in range(3)]
        for thread in clients:
            thread.start()
        time.sleep(rng.uniform(0.3, 2.0))
        os.killpg(api.pid, signal.SIGKILL)
        api.wait()
        stop.set()
        for thread in clients:
            thread.join()
    assert len(acknowledged) > 0

    # Restart: what the crashes left in the landing log is flushed into Delta.
    landing = LandingLog(learnlake_home.landing_dir / learnlake_home.writer_id, learnlake_home.writer_id)
    Committer(landing, learnlake_home).flush()
    stored = pl.read_delta(learnlake_home.lake_uri + "/bronze/events", columns=["event_id"])["event_id"]
    assert stored.n_unique() == stored.len(), "an event was stored twice"
    missing = set(acknowledged) - set(stored)
    assert not missing, f"{len(missing)} acknowledged events were lost"


def test_an_api_killed_alone_leaves_no_child_process_behind(learnlake_home):
    """SIGKILL to the API's own process only (as a container runtime or the OOM killer may send it): its batch
    validator and its committer exit too, instead of waiting under PID 1 for ever."""
    api = _start(learnlake_home.home, free_port())
    try:
        children = psutil.Process(api.pid).children(recursive=True)
        commands = [" ".join(child.cmdline()) for child in children]
        assert any("multiprocessing" in c for c in commands) and any("lake.committer" in c for c in commands), \
            commands
    finally:
        os.kill(api.pid, signal.SIGKILL)  # not the group: nothing else is told
        api.wait(10)
    _, alive = psutil.wait_procs(children, timeout=30)
    for child in alive:
        child.kill()
    assert not alive, f"left running after the API died: {[' '.join(c.cmdline()) for c in alive]}"
