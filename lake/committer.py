"""The committer: moves landed events into ``bronze.events`` in micro-batches, exactly once.

Each micro-batch is one Delta commit carrying the transaction identifier
``(landing:<writer id>, <last landing sequence number>)``. Where to resume is read back from
Delta, not from the log: a crash after the Delta commit and before the log notes it cannot
append the same rows twice. Rows that cannot be turned into events go to
``bronze.dead_letters`` with the reason (same identifier), never silently away.
"""

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import pyarrow as pa
from deltalake import DeltaTable
from pydantic import TypeAdapter, ValidationError

from lake import writers
from lake.catalog import table_uri
from lake.events import EVENT_LIST, NativeEvent, event_to_row, rows_to_table
from lake.landing import LandedBatch, LandingLog
from lake.schemas import DEAD_LETTERS
from learnlake.settings import Settings, get_settings

log = logging.getLogger(__name__)

ONE_EVENT = TypeAdapter(NativeEvent)


@dataclass
class CommitStats:
    batches: int = 0
    committed: int = 0
    dead_letters: int = 0
    last_seq: int = 0
    errors: list[str] = field(default_factory=list)


class Committer:
    """Moves the rows of one landing log into the lake."""

    def __init__(self, landing: LandingLog, settings: Settings | None = None, *, max_events: int = 50_000) -> None:
        self.landing = landing
        self.settings = settings or get_settings()
        self.max_events = max_events  # per Delta commit, roughly (whole landed batches)
        self.app_id = f"landing:{landing.writer_id}"

    def committed_seq(self) -> int:
        """The last landing sequence number that Delta holds (0 before the first commit)."""
        uri = table_uri("bronze.events", self.settings)
        if not DeltaTable.is_deltatable(uri):
            return 0
        return DeltaTable(uri).transaction_version(self.app_id) or 0

    def flush(self, max_batches: int | None = None) -> CommitStats:
        """Commit everything landed so far (or ``max_batches`` micro-batches of it)."""
        stats = CommitStats(last_seq=self.committed_seq())
        self.landing.mark_committed(stats.last_seq)
        while max_batches is None or stats.batches < max_batches:
            landed = self.landing.read_after(stats.last_seq, self.max_events)
            if not landed:
                break
            good, bad = self._convert(landed)
            last_seq = landed[-1].seq
            # Dead letters first, events last: the events commit is what `committed_seq` reads
            # back, so a crash in between redoes both, and each one's identifier skips a repeat.
            # An all-bad batch still makes an (empty) events commit so that the position moves on.
            if bad.num_rows:
                writers.append("bronze.dead_letters", bad, app_id=self.app_id, batch_version=last_seq,
                               settings=self.settings)
            writers.append("bronze.events", good, app_id=self.app_id, batch_version=last_seq,
                           settings=self.settings)
            self.landing.mark_committed(last_seq)
            stats.batches += 1
            stats.committed += good.num_rows
            stats.dead_letters += bad.num_rows
            stats.last_seq = last_seq
        if stats.batches:
            log.info("committed %s events (%s dead letters) in %s batches", stats.committed,
                     stats.dead_letters, stats.batches)
        return stats

    def _convert(self, batches: list[LandedBatch]) -> tuple[pa.Table, pa.Table]:
        rows, dead = [], []
        now = datetime.now(UTC)
        for batch in batches:
            received_at = datetime.fromtimestamp(batch.received_at_us / 1_000_000, UTC)
            skip = set(batch.skip)
            try:
                items = orjson.loads(batch.body)
                events: list = EVENT_LIST.validate_json(batch.body)
            except (orjson.JSONDecodeError, ValidationError):
                # Accepted once, so this only happens if validation rules changed since:
                # find the offending events one by one and keep the rest.
                items = orjson.loads(batch.body) if _is_json_list(batch.body) else []
                events = [_validate_one(item) for item in items]
            for index, (item, event) in enumerate(zip(items, events)):
                if index in skip:
                    continue
                payload = orjson.dumps(item).decode()
                if isinstance(event, str):
                    dead.append({
                        "dead_letter_id": f"{self.landing.writer_id}:{batch.seq}:{index}",
                        "target_table": "bronze.events",
                        "source": batch.source,
                        "reason": event,
                        "received_at": received_at,
                        "failed_at": now,
                        "payload": payload,
                    })
                else:
                    rows.append(event_to_row(event, received_at=received_at, source=batch.source, payload=payload))
        return rows_to_table(rows), pa.Table.from_pylist(dead, schema=DEAD_LETTERS)


def _is_json_list(body: bytes) -> bool:
    try:
        return isinstance(orjson.loads(body), list)
    except orjson.JSONDecodeError:
        return False


def _validate_one(item) -> NativeEvent | str:
    """The validated event, or the reason it is not one."""
    try:
        return ONE_EVENT.validate_python(item)
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))


class CommitterThread(threading.Thread):
    """Runs ``Committer.flush`` every ``interval_s`` until stopped (the API's background committer)."""

    def __init__(self, committer: Committer, interval_s: float = 0.5) -> None:
        super().__init__(name="learnlake-committer", daemon=True)
        self.committer = committer
        self.interval_s = interval_s
        self._stop_requested = threading.Event()

    def run(self) -> None:
        while not self._stop_requested.wait(self.interval_s):
            self._flush_logging_errors()
        self._flush_logging_errors()  # what landed before the stop

    def _flush_logging_errors(self) -> None:
        try:
            self.committer.flush()
        except Exception:  # a failed commit is retried on the next tick; the rows stay landed
            log.exception("commit failed; will retry")

    def stop(self, timeout: float | None = 30) -> None:
        self._stop_requested.set()
        self.join(timeout)
