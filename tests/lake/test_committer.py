import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import orjson
import polars as pl
import pytest

from lake import readers
from lake.committer import Committer, CommitterProcess
from lake.event_rows import row_to_native
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


POISON = {
    "a year-1 timestamp": {"timestamp": "0001-01-01T00:30:00+01:00"},
    "a Unix-number timestamp": {"timestamp": 1_700_000_000},
    "a timestamp past 9999": {"timestamp": "9999-12-31T23:59:59-01:00"},
    "a timestamp before 1970": {"timestamp": "1969-12-31T23:59:59Z"},
    "an object that is a string": {"object": "quiz-7"},
    "a result that is a list": {"result": [1, 2]},
    "a score that is text": {"result": {"score": "high"}},
    "no event id": {"event_id": None},
}


@pytest.mark.parametrize("poison", list(POISON), ids=list(POISON))
def test_a_poison_record_is_dead_lettered_alone_and_the_rest_commits(learnlake_home, natives, poison):
    # Landed straight into the log, past the API's validation: what an older API version, another
    # landing source or a bug could leave there. Nothing of it may stop the committer.
    log = LandingLog(learnlake_home.landing_dir / "w", "w")
    bad = {**natives[1], **POISON[poison]}
    _land(log, [natives[0], bad, natives[2]])
    _land(log, natives[3:10])
    stats = Committer(log, learnlake_home).flush()
    assert (stats.committed, stats.dead_letters, stats.last_seq) == (9, 1, 2)
    assert log.backlog() == 0
    dead = readers.read_table("bronze.dead_letters").row(0, named=True)
    assert dead["dead_letter_id"] == "w:1:1" and dead["reason"]
    # ...and a later good batch still commits: nothing is stuck.
    _land(log, natives[10:20])
    assert Committer(log, learnlake_home).flush().committed == 10
    assert readers.read_table("bronze.events").height == 19


def test_a_body_that_is_not_an_event_array_is_one_dead_letter(learnlake_home, natives):
    log = LandingLog(learnlake_home.landing_dir / "w", "w")
    log.append(["x"], b'{"not": "an array"}', source="api")
    log.append(["y"], b"\xff\xfe not even text", source="api")
    _land(log, natives[:3])
    stats = Committer(log, learnlake_home).flush()
    assert (stats.committed, stats.dead_letters) == (3, 2)


def test_the_committer_reports_its_health_beside_the_log(learnlake_home, natives, monkeypatch):
    from lake import writers
    from lake.committer_health import CommitterHealth, assess

    log = LandingLog(learnlake_home.landing_dir / "w", "w")
    _land(log, natives[:5])
    committer = Committer(log, learnlake_home)
    committer.flush()
    health = CommitterHealth.read(log.directory)
    assert health.consecutive_failures == 0 and health.committed_events == 5 and health.last_commit_at

    _land(log, natives[5:10])

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(writers, "append", disk_full)
    for _ in range(3):
        with pytest.raises(OSError):
            committer.flush()
    health = CommitterHealth.read(log.directory)
    assert health.consecutive_failures == 3 and "No space left" in health.last_error
    verdict = assess(health, backlog_batches=log.backlog(), oldest_pending_at=log.oldest_pending_received_at_us() / 1e6)
    assert verdict["state"] == "failing"

    monkeypatch.undo()  # the disk has room again: the same batches commit, once
    assert committer.flush().committed == 5
    health = CommitterHealth.read(log.directory)
    assert health.consecutive_failures == 0 and health.committed_events == 10
    assert assess(health, backlog_batches=log.backlog(), oldest_pending_at=None)["state"] == "ok"
    assert readers.read_table("bronze.events")["event_id"].n_unique() == 10


def test_batches_waiting_without_a_committer_show_as_stalled_then_not_running():
    from lake.committer_health import STALLED_AFTER_S, CommitterHealth, assess

    now = 1_000_000.0
    waiting_since = now - STALLED_AFTER_S - 1
    alive = CommitterHealth(last_attempt_at=now - 1, last_success_at=now - 1)
    assert assess(alive, backlog_batches=3, oldest_pending_at=waiting_since, now=now)["state"] == "stalled"
    silent = CommitterHealth(last_attempt_at=now - 600, last_success_at=now - 600)
    assert assess(silent, backlog_batches=3, oldest_pending_at=waiting_since, now=now)["state"] == "not_running"
    assert assess(CommitterHealth(), backlog_batches=0, oldest_pending_at=None, now=now)["state"] == "idle"


def test_replicas_sharing_a_postgres_core_database_commit_each_event_id_once(learnlake_home, natives):
    """Two API replicas' logs both hold the same events (a replay sent to the other replica before either
    committed): committing both at once, the first claim in the core database wins, the other drops them."""
    from tests.postgres import fresh_database

    with fresh_database() as url:
        settings = learnlake_home.model_copy(update={"database_url": url})
        logs = [LandingLog(settings.landing_dir / name, name) for name in ("api-0", "api-1")]
        _land(logs[0], natives[:200])
        _land(logs[1], natives[100:300])  # 100 of them replays of api-0's
        with ThreadPoolExecutor(2) as pool:
            stats = list(pool.map(lambda log: Committer(log, settings, max_events=40).flush(), logs))
        assert sum(s.committed for s in stats) == 300 and sum(s.replays for s in stats) == 100
        table = readers.read_table("bronze.events", settings=settings)
        assert table.height == 300 and table["event_id"].n_unique() == 300
        _land(logs[1], natives[:20])  # already committed by api-0: a replay on api-1 is dropped as well
        assert Committer(logs[1], settings).flush().replays == 20
        assert readers.read_table("bronze.events", settings=settings).height == 300


def test_a_committer_sent_sigterm_again_and_again_still_stops_after_a_last_flush(learnlake_home, natives):
    """A burst of SIGTERMs (as when the API dies: the parent-death signal, then the stop's) stops the committer
    process, which commits what landed last. Its handler once took threading.Event's lock, and a second signal
    arriving while the first held it hung the process for ever."""
    settings = learnlake_home.model_copy(update={"commit_interval_s": 0.05})
    log = LandingLog(settings.landing_dir / settings.writer_id, settings.writer_id)
    committer = CommitterProcess(settings)
    try:
        _land(log, natives[:20])
        deadline = time.monotonic() + 60
        while not (readers.table_exists("bronze.events", settings)
                   and readers.read_table("bronze.events", settings=settings).height == 20):
            assert time.monotonic() < deadline and committer.process.poll() is None, "the committer never committed"
            time.sleep(0.2)
        _land(log, natives[20:40])
        for _ in range(300):
            committer.process.send_signal(signal.SIGTERM)
        assert committer.process.wait(30) == 0
    finally:
        if committer.process.poll() is None:
            committer.process.kill()
    assert readers.read_table("bronze.events", settings=settings).height == 40
