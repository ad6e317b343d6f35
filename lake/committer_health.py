"""The committer's health, as it last reported it: a small JSON file beside its landing log.

The committer runs in a process of its own (or as ``learnlake ingest flush``); the API's
``/v1/ingest/status`` and the Operations page read this file to say whether ingestion flows:
when it last committed, how many flushes in a row failed and why, how many dead letters it
wrote, and (with the landing log) how old the oldest uncommitted batch is.
"""

import bisect
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

HEALTH_FILE = "committer_health.json"
HEARTBEAT_S = 10  # an idle committer still reports this often, so silence means it is not running
STALLED_AFTER_S = 60  # uncommitted batches older than this: ingestion is stalled
STALLED_STATES = ("failing", "stalled", "not_running")  # acknowledged events are not reaching Delta
COMMIT_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)  # upper bounds; +Inf is `commits`


@dataclass
class CommitterHealth:
    last_attempt_at: float | None = None  # seconds since the epoch
    last_success_at: float | None = None  # the last flush that ended without an error
    last_commit_at: float | None = None  # the last flush that committed at least one batch
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    committed_events: int = 0  # since the log was created
    dead_letters: int = 0
    # Delta commits of events: how many, their summed and bucketed durations (a Prometheus histogram's
    # parts), conflicts with other writers (retried), and flushes that failed (retried on the next tick).
    commits: int = 0
    commit_seconds: float = 0.0
    commit_buckets: list[int] = field(default_factory=lambda: [0] * len(COMMIT_BUCKETS_S))
    conflicts: int = 0
    failed_flushes: int = 0

    @classmethod
    def read(cls, directory: Path) -> "CommitterHealth":
        try:
            known = orjson.loads((Path(directory) / HEALTH_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return cls()
        return cls(**{k: v for k, v in known.items() if k in cls.__dataclass_fields__})

    def write(self, directory: Path) -> None:
        """Replace the file atomically: readers see the old report or the new one, never half of one."""
        tmp = Path(directory) / f".{HEALTH_FILE}.{os.getpid()}.tmp"
        tmp.write_bytes(orjson.dumps(asdict(self)))
        os.replace(tmp, Path(directory) / HEALTH_FILE)

    def succeeded(self, *, committed: int, dead_letters: int, batches: int, commit_seconds: list[float] = (),
                  conflicts: int = 0, now: float | None = None) -> None:
        now = now or time.time()
        self.last_attempt_at = self.last_success_at = now
        if batches:
            self.last_commit_at = now
        self.consecutive_failures = 0
        self.committed_events += committed
        self.dead_letters += dead_letters
        self.conflicts += conflicts
        if len(self.commit_buckets) != len(COMMIT_BUCKETS_S):  # a file from before the buckets changed
            self.commit_buckets = [0] * len(COMMIT_BUCKETS_S)
        for seconds in commit_seconds:
            self.commits += 1
            self.commit_seconds += seconds
            for index in range(bisect.bisect_left(COMMIT_BUCKETS_S, seconds), len(COMMIT_BUCKETS_S)):
                self.commit_buckets[index] += 1  # cumulative, as Prometheus reads buckets

    def failed(self, error: BaseException, *, conflicts: int = 0, now: float | None = None) -> None:
        now = now or time.time()
        self.last_attempt_at = self.last_error_at = now
        self.consecutive_failures += 1
        self.failed_flushes += 1
        self.conflicts += conflicts
        self.last_error = f"{type(error).__name__}: {error}"[:500]


def assess(health: CommitterHealth, *, backlog_batches: int, oldest_pending_at: float | None,
           now: float | None = None, stalled_after_s: float = STALLED_AFTER_S) -> dict:
    """The health as an operator reads it: a state, the lag, and the figures behind both.

    States: ``ok``; ``idle`` (no committer has reported yet, nothing waits); ``failing`` (the last
    flushes failed); ``stalled`` (batches have waited longer than ``stalled_after_s``);
    ``not_running`` (batches wait and no committer has reported for a while).
    """
    now = now or time.time()
    lag_s = round(now - oldest_pending_at, 3) if oldest_pending_at is not None else 0.0
    silent = health.last_attempt_at is None or now - health.last_attempt_at > 3 * HEARTBEAT_S
    if health.consecutive_failures:
        state = "failing"
    elif backlog_batches and lag_s > stalled_after_s:
        state = "not_running" if silent else "stalled"
    elif health.last_attempt_at is None and not backlog_batches:
        state = "idle"
    else:
        state = "ok"
    return {"state": state, "lag_s": lag_s, **asdict(health)}


def ingestion_report(landing, *, stalled_after_s: float = STALLED_AFTER_S, now: float | None = None) -> dict:
    """One landing log (a ``lake.landing.LandingLog``) and its committer as an operator reads them: positions,
    backlog (batches, events, age) and the health. ``/v1/ingest/status``, ``/metrics``, the Operations page
    and ``learnlake doctor`` all read this."""
    backlog = landing.pending()
    oldest = backlog.oldest_received_at_us / 1e6 if backlog.oldest_received_at_us is not None else None
    health = assess(CommitterHealth.read(landing.directory), backlog_batches=backlog.batches,
                    oldest_pending_at=oldest, now=now, stalled_after_s=stalled_after_s)
    return {"writer_id": landing.writer_id, "landed_seq": landing.last_seq(), "committed_seq": landing.committed_seq(),
            "backlog_batches": backlog.batches, "backlog_events": backlog.events, "committer": health}


def every_ingestion_report(settings) -> list[dict]:
    """``ingestion_report`` of every landing log under ``settings.landing_dir`` (one per API process)."""
    from lake.landing import LandingLog

    root = settings.landing_dir
    reports = []
    for directory in sorted(p for p in root.glob("*") if p.is_dir()) if root.exists() else []:
        log = LandingLog(directory, directory.name, readonly=True)
        try:
            reports.append(ingestion_report(log, stalled_after_s=settings.ingest_stalled_after_s))
        finally:
            log.close()
    return reports
