"""The committer's health, as it last reported it: a small JSON file beside its landing log.

The committer runs in a process of its own (or as ``learnlake ingest flush``); the API's
``/v1/ingest/status`` and the Operations page read this file to say whether ingestion flows:
when it last committed, how many flushes in a row failed and why, how many dead letters it
wrote, and (with the landing log) how old the oldest uncommitted batch is.
"""

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

HEALTH_FILE = "committer_health.json"
HEARTBEAT_S = 10  # an idle committer still reports this often, so silence means it is not running
STALLED_AFTER_S = 60  # uncommitted batches older than this: ingestion is stalled


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

    def succeeded(self, *, committed: int, dead_letters: int, batches: int, now: float | None = None) -> None:
        now = now or time.time()
        self.last_attempt_at = self.last_success_at = now
        if batches:
            self.last_commit_at = now
        self.consecutive_failures = 0
        self.committed_events += committed
        self.dead_letters += dead_letters

    def failed(self, error: BaseException, now: float | None = None) -> None:
        now = now or time.time()
        self.last_attempt_at = self.last_error_at = now
        self.consecutive_failures += 1
        self.last_error = f"{type(error).__name__}: {error}"[:500]


def assess(health: CommitterHealth, *, backlog_batches: int, oldest_pending_at: float | None,
           now: float | None = None) -> dict:
    """The health as an operator reads it: a state, the lag, and the figures behind both.

    States: ``ok``; ``idle`` (no committer has reported yet, nothing waits); ``failing`` (the last
    flushes failed); ``stalled`` (batches have waited longer than ``STALLED_AFTER_S``);
    ``not_running`` (batches wait and no committer has reported for a while).
    """
    now = now or time.time()
    lag_s = round(now - oldest_pending_at, 3) if oldest_pending_at is not None else 0.0
    silent = health.last_attempt_at is None or now - health.last_attempt_at > 3 * HEARTBEAT_S
    if health.consecutive_failures:
        state = "failing"
    elif backlog_batches and lag_s > STALLED_AFTER_S:
        state = "not_running" if silent else "stalled"
    elif health.last_attempt_at is None and not backlog_batches:
        state = "idle"
    else:
        state = "ok"
    return {"state": state, "lag_s": lag_s, **asdict(health)}
