"""Two API replicas behind nginx, sharing the lake, PostgreSQL and Redis: exactly once across them.

Each replica lands events in a log of its own; the core database says which one commits each event
id (``lake/event_claims.py``). Events go through the proxy, replays go to the other replica, one
replica is killed with SIGKILL mid-stream and started again; every acknowledged event is in the
lake once, and a replay of a committed event is a duplicate on either replica.
"""

import http.client
import os
import signal
import threading

import orjson
import pytest
import sqlalchemy as sa

from benchmarks.harness import ApiReplicas, get_json, simulated_events, source_key
from benchmarks.ingest import post_batches, wait_until_committed
from benchmarks.reverse_proxy import nginx, nginx_binary
from lake.event_rows import row_to_native
from lake.readers import read_table
from learnlake.settings import Settings
from tests.conftest import unavailable
from tests.postgres import fresh_database

pytestmark = pytest.mark.integration


def post(port: int, body: bytes, key: str) -> dict:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        con.request("POST", "/v1/events", body=body, headers={"Content-Type": "application/json",
                                                             "Authorization": f"Bearer {key}"})
        response = con.getresponse()
        answer = orjson.loads(response.read())
        assert response.status == 202, answer
        return answer
    finally:
        con.close()


@pytest.fixture
def postgres():
    with fresh_database() as url:
        yield url


def test_two_replicas_behind_nginx_commit_each_acknowledged_event_once(tmp_path, postgres, redis_url):
    if nginx_binary() is None:
        unavailable("no nginx (apt-get install -y nginx; .ci/run does)")
    key = source_key(tmp_path, "replicas", database_url=postgres)
    frame = simulated_events(4000, seed=9)
    bodies = [orjson.dumps([row_to_native(r) for r in chunk.iter_rows(named=True)])
              for chunk in frame.iter_slices(50)]
    first, second = bodies[:30], bodies[30:]
    lake = tmp_path / "lake"
    replicas = ApiReplicas(tmp_path, 2, env={
        "LEARNLAKE_LAKE_URI": str(lake), "LEARNLAKE_DATABASE_URL": postgres, "LEARNLAKE_REDIS_URL": redis_url,
        "LEARNLAKE_TRUSTED_PROXIES": "127.0.0.1", "LEARNLAKE_PSEUDONYM_KEY": "replicas-share-one-pseudonym-key",
        "LEARNLAKE_RATE_LIMIT_INGEST": "1000000/second", "LEARNLAKE_COMMIT_INTERVAL_S": "0.2"})
    try:
        with nginx(replicas.ports, tmp_path / "nginx") as proxy:
            post_batches(proxy, first, clients=3, key=key)
            for port in replicas.ports:  # each batch landed on one replica is replayed on both
                wait_until_committed(port, key, timeout_s=60)
            replays = [post(port, body, key) for port in replicas.ports for body in first[:10]]
            assert all(r["duplicates"] == r["accepted"] == 50 and r["stored"] == 0 for r in replays), replays

            # Kill one replica while three clients post through the proxy: nginx sends what fails to the other.
            acked: list[float] = []
            poster = threading.Thread(target=lambda: acked.extend(post_batches(proxy, second, clients=3, key=key)))
            landed_before = _landed(replicas.ports[0], key)
            poster.start()
            while poster.is_alive():
                if _landed(replicas.ports[0], key) >= landed_before + 4:
                    os.kill(replicas.procs[0].pid, signal.SIGKILL)
                    break
            poster.join(120)
            assert len(acked) == len(second)  # every batch acknowledged (post_batches raises on a refusal)
            assert replicas.procs[0].wait(10) == -signal.SIGKILL

            replicas.procs[0] = replicas.start(0)  # its landing log is still there; its committer resumes
            for body in second[:5] + first[10:15]:  # replays of both halves, now to the restarted replica
                post(replicas.ports[0], body, key)
            for port in replicas.ports:
                wait_until_committed(port, key, timeout_s=120)
    finally:
        replicas.stop()

    stored = read_table("bronze.events", settings=Settings(home=tmp_path / "reader", lake_uri=str(lake)))
    assert stored.height == frame.height == stored["event_id"].n_unique()
    assert set(stored["event_id"]) == set(frame["event_id"])
    engine = sa.create_engine(postgres)
    with engine.connect() as connection:
        claims = dict(connection.execute(sa.text("select writer_id, count(*) from event_claims group by writer_id")).all())
    engine.dispose()
    assert sum(claims.values()) == frame.height and len(claims) == 2  # both replicas committed their share


def _landed(port: int, key: str) -> int:
    """The last batch a replica has landed (its ingestion status)."""
    return get_json(port, "/v1/ingest/status", headers={"Authorization": f"Bearer {key}"})["landed_seq"]
