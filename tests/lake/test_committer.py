from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import orjson
import polars as pl
import pytest

from lake import readers
from lake.committer import Committer
from lake.events import row_to_native
from lake.landing import LandingLog
from lake.sources.simulator import SimulationConfig, simulate


@pytest.fixture(scope="module")
def natives():
    events = simulate(SimulationConfig(learners=10, courses=2, days=14)).events
    return [row_to_native(row) for row in events.head(300).iter_rows(named=True)]


def _land(log, items, source="api"):
    ids = [item["event_id"] for item in items]
    return log.append(ids, orjson.dumps(items), source=source)


def test_flush_moves_every_landed_event_once(learnlake_home, natives):
    log = LandingLog(learnlake_home.landing_dir / "w", "w")
    _land(log, natives[:100])
    _land(log, natives[100:250])
    committer = Committer(log, learnlake_home, max_events=120)
    stats = committer.flush()
    assert (stats.committed, stats.batches, stats.last_seq) == (250, 2, 2)
    table = readers.read_table("bronze.events")
    assert table.height == 250 and table["event_id"].n_unique() == 250
    assert committer.flush().committed == 0  # nothing new
    first = table.filter(pl.col("event_id") == natives[0]["event_id"]).row(0, named=True)
    assert orjson.loads(first["payload"]) == natives[0]
    assert first["source"] == "api" and first["received_at"] <= datetime.now(UTC)


def test_a_crash_after_the_delta_commit_does_not_duplicate(learnlake_home, natives):
    log = LandingLog(learnlake_home.landing_dir / "w", "w")
    _land(log, natives[:50])
    Committer(log, learnlake_home).flush()
    # The log's own note of progress is lost (crash before it was written) ...
    (log.directory / "committed_seq").unlink()
    _land(log, natives[50:80])
    # ... and a new committer resumes from what Delta recorded, not from the log.
    stats = Committer(LandingLog(log.directory, "w", readonly=True), learnlake_home).flush()
    assert stats.committed == 30
    assert readers.read_table("bronze.events").height == 80


def test_replays_within_a_later_batch_are_skipped(learnlake_home, natives):
    log = LandingLog(learnlake_home.landing_dir / "w", "w")
    _land(log, natives[:10])
    assert _land(log, natives[5:15]) == 5
    Committer(log, learnlake_home).flush()
    assert sorted(readers.read_table("bronze.events")["event_id"]) == sorted(n["event_id"] for n in natives[:15])


def test_rows_that_cannot_be_events_become_dead_letters(learnlake_home, natives):
    log = LandingLog(learnlake_home.landing_dir / "w", "w")
    broken = dict(natives[1], verb="teleported")  # e.g. a verb a newer API version accepted
    coerced = dict(natives[2], result={"score": "0.5"})  # lax JSON types still convert
    _land(log, [natives[0], broken, coerced])
    stats = Committer(log, learnlake_home).flush()
    assert (stats.committed, stats.dead_letters) == (2, 1)
    dead = readers.read_table("bronze.dead_letters").row(0, named=True)
    assert "verb" in dead["reason"] and orjson.loads(dead["payload"]) == broken
    events = readers.read_table("bronze.events")
    assert events.filter(pl.col("event_id") == natives[2]["event_id"])["result_score"].item() == 0.5


def test_committers_of_one_landing_log_side_by_side_store_each_event_once(learnlake_home, natives):
    # The API's committer and `learnlake ingest flush` at the same instant: Delta transaction
    # ids alone would let both append the same batch; the per-log lock makes them take turns.
    log = LandingLog(learnlake_home.landing_dir / "w", "w")
    for start in range(0, 300, 20):
        _land(log, natives[start:start + 20])
    committers = [Committer(LandingLog(log.directory, "w", readonly=True), learnlake_home, max_events=20)
                  for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        committed = sum(s.committed for s in pool.map(lambda c: c.flush(), committers))
    table = readers.read_table("bronze.events")
    assert committed == table.height == table["event_id"].n_unique() == 300
