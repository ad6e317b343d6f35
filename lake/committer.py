"""The committer: moves landed events into ``bronze.events`` in micro-batches, exactly once.

Each micro-batch is one Delta commit carrying the transaction identifier
``(landing:<writer id>, <last landing sequence number>)``. Where to resume is read back from
Delta, not from the log: a crash after the Delta commit and before the log notes it cannot
append the same rows twice. Rows that cannot be turned into events go to
``bronze.dead_letters`` with the reason (same identifier), never silently away.
"""

import ctypes
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
from deltalake import DeltaTable

from lake import writers
from lake.catalog import get_spec, table_uri
from lake.committer_health import HEARTBEAT_S, CommitterHealth
from lake.event_claims import EventClaims
from lake.event_rows import EventColumns, event_to_row, outside_lake_window, rows_to_table
from lake.events import validate_one
from lake.landing import LandedBatch, LandingLog
from lake.schemas import DEAD_LETTERS
from lake.sources.core_outbox import OutboxRelay, outbox_relay_for
from lake.sources.core_privacy import ErasedLearners, engine_for
from learnlake.logging import bind_context, configure_logging
from learnlake.settings import Settings, get_settings
from learnlake.stop_request import StopRequest

log = logging.getLogger(__name__)

EVENTS_SPEC = get_spec("bronze.events")
PR_SET_PDEATHSIG = 1
COMMIT_LOCK = ".commit.lock"  # in the landing log directory
REQUEST_IDS_LOGGED = 100  # per commit's log line; a commit can hold thousands of requests


@dataclass
class CommitStats:
    batches: int = 0
    committed: int = 0
    dead_letters: int = 0
    erased: int = 0  # events of erased learners that landed late, dropped
    replays: int = 0  # events another API replica claimed first, dropped
    last_seq: int = 0
    commit_seconds: list[float] = field(default_factory=list)  # each Delta commit of events


class Committer:
    """Moves the rows of one landing log into the lake.

    No record can stall it: a landed body that is not JSON, an item that is not an event, a
    timestamp the lake cannot hold, anything that fails to convert, goes to
    ``bronze.dead_letters`` alone, with its reason, and the rest of its micro-batch is committed.
    Only a failing write (the disk, the object store) is retried, on the next tick.
    """

    def __init__(self, landing: LandingLog, settings: Settings | None = None, *, max_events: int = 50_000) -> None:
        self.landing = landing
        self.settings = settings or get_settings()
        self.max_events = max_events  # per Delta commit, roughly (whole landed batches)
        self.app_id = f"landing:{landing.writer_id}"
        self.health = CommitterHealth.read(landing.directory)
        self._reported_at = 0.0
        self.erased = ErasedLearners(engine_for(self.settings.database_url))
        self.claims = EventClaims.for_database(self.settings.database_url, landing.writer_id)

    def committed_seq(self) -> int:
        """The last landing sequence number that Delta holds (0 before the first commit)."""
        uri = table_uri("bronze.events", self.settings)
        if not DeltaTable.is_deltatable(uri):
            return 0
        return DeltaTable(uri).transaction_version(self.app_id) or 0

    def flush(self, max_batches: int | None = None) -> CommitStats:
        """Commit everything landed so far (or ``max_batches`` micro-batches of it).

        One committer at a time per landing log (the API's, or ``learnlake ingest flush``
        beside it): Delta transaction ids stop a batch from being committed twice in a row,
        not by two writers at the same instant. The log is local, so a file lock suffices.
        Each flush, failed or not, is reported in the log's health file.
        """
        with _exclusive(self.landing.directory / COMMIT_LOCK):
            conflicts_before = writers.CONFLICTS["bronze.events"]
            try:
                stats = self._flush(max_batches)
            except Exception as exc:
                self.health.failed(exc, conflicts=writers.CONFLICTS["bronze.events"] - conflicts_before)
                self._report(force=True)
                raise
            recovered = self.health.consecutive_failures > 0
            self.health.succeeded(committed=stats.committed, dead_letters=stats.dead_letters, batches=stats.batches,
                                  commit_seconds=stats.commit_seconds,
                                  conflicts=writers.CONFLICTS["bronze.events"] - conflicts_before)
            self._report(force=bool(stats.batches) or recovered)
            return stats

    def _report(self, *, force: bool) -> None:
        now = time.monotonic()
        if force or now - self._reported_at >= HEARTBEAT_S:
            try:
                self.health.write(self.landing.directory)
                self._reported_at = now
            except OSError:
                log.warning("could not write the committer's health file", exc_info=True)

    def _flush(self, max_batches: int | None) -> CommitStats:
        stats = CommitStats(last_seq=self.committed_seq())
        self.landing.mark_committed(stats.last_seq)
        self.erased.refresh()
        while max_batches is None or stats.batches < max_batches:
            landed = self.landing.read_after(stats.last_seq, self.max_events)
            if not landed:
                break
            good, bad = self._convert(landed)
            good, erased = self.erased.drop(good)  # an erased learner's late events never reach the lake
            stats.erased += erased
            if self.claims is not None:  # several API replicas: the first to claim an event id commits it
                good, replays = self.claims.keep_own(good)
                stats.replays += replays
            last_seq = landed[-1].seq
            # Dead letters first, events last: the events commit is what `committed_seq` reads
            # back, so a crash in between redoes both, and each one's identifier skips a repeat.
            # An all-bad batch still makes an (empty) events commit so that the position moves on.
            if bad.num_rows:
                writers.append("bronze.dead_letters", bad, app_id=self.app_id, batch_version=last_seq,
                               settings=self.settings)
            started = time.perf_counter()
            writers.append("bronze.events", good, app_id=self.app_id, batch_version=last_seq,
                           settings=self.settings)
            stats.commit_seconds.append(time.perf_counter() - started)
            self.landing.mark_committed(last_seq)
            # The requests whose events this commit holds: an operator follows a request id from the API's
            # log line to here (and to the landing record, which keeps it).
            log.info("committed landed batches %s..%s", landed[0].seq, last_seq, extra={
                "events": good.num_rows, "dead_letters": bad.num_rows, "writer": self.landing.writer_id,
                "request_ids": [b.request_id for b in landed if b.request_id][:REQUEST_IDS_LOGGED]})
            stats.batches += 1
            stats.committed += good.num_rows
            stats.dead_letters += bad.num_rows
            stats.last_seq = last_seq
        if stats.batches:
            log.info("committed %s events (%s dead letters, %s replays from other replicas) in %s batches",
                     stats.committed, stats.dead_letters, stats.replays, stats.batches)
        return stats

    def _convert(self, batches: list[LandedBatch]) -> tuple[pa.Table, pa.Table]:
        """Landed batches as (events, dead letters), both in their tables' schemas: fast if every item
        is a plain event the lake can hold, else item by item."""
        fast: EventColumns | None = EventColumns()
        items_of: list[tuple[LandedBatch, list]] = []
        dead: list[dict] = []
        for batch in batches:
            try:
                items = orjson.loads(batch.body)
                if not isinstance(items, list):
                    raise TypeError("not a JSON array of events")
            except (ValueError, TypeError) as exc:  # orjson.JSONDecodeError is a ValueError
                dead.append(self._dead_letter(batch, "body", str(exc), batch.body.decode(errors="replace")))
                continue
            items_of.append((batch, items))
            if fast is None:
                continue
            skip = set(batch.skip)
            try:
                for index, item in enumerate(items):
                    if index not in skip:  # skipped: replays of events landed earlier
                        fast.add(item, received_at_us=batch.received_at_us, source=batch.source,
                                 payload=orjson.dumps(item).decode(), source_key=batch.source_key)
            except (AttributeError, TypeError, ValueError):  # an item that is not a plain event
                fast = None
        events = None
        if fast is not None:
            try:  # typed by EVENTS as it is built; what appending would still refuse is checked here
                events = fast.to_table()
                if outside_lake_window(events["timestamp"]) or writers.lacks_required(EVENTS_SPEC, events):
                    events = None
            except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
                log.info("fast conversion refused (%s); converting event by event", exc)
                events = None
        if events is None:
            events = self._convert_slowly(items_of, dead)
        return events, pa.Table.from_pylist(dead, schema=DEAD_LETTERS)

    def _convert_slowly(self, items_of: list[tuple[LandedBatch, list]], dead: list[dict]) -> pa.Table:
        """Each item validated and converted on its own; whatever fails is a dead letter with its reason."""
        rows = []
        for batch, items in items_of:
            received_at = datetime.fromtimestamp(batch.received_at_us / 1_000_000, UTC)
            skip = set(batch.skip)
            for index, item in enumerate(items):
                if index in skip:
                    continue
                payload = orjson.dumps(item).decode()
                try:
                    event = validate_one(item)
                    if isinstance(event, str):
                        dead.append(self._dead_letter(batch, index, event, payload))
                        continue
                    row = event_to_row(event, received_at=received_at, source=batch.source, payload=payload,
                                       source_key=batch.source_key)
                    writers.conform(EVENTS_SPEC, rows_to_table([row]))  # what cannot be a row fails here, alone
                except Exception as exc:  # noqa: BLE001 - whatever it is, it must not stop the others
                    dead.append(self._dead_letter(batch, index, f"{type(exc).__name__}: {exc}", payload))
                    continue
                rows.append(row)
        return writers.conform(EVENTS_SPEC, rows_to_table(rows))

    def _dead_letter(self, batch: LandedBatch, index, reason: str, payload: str) -> dict:
        return {
            "dead_letter_id": f"{self.landing.writer_id}:{batch.seq}:{index}",
            "target_table": "bronze.events",
            "source": batch.source,
            "reason": reason[:2000],
            "received_at": datetime.fromtimestamp(batch.received_at_us / 1_000_000, UTC),
            "failed_at": datetime.now(UTC),
            "payload": payload,
        }


@contextmanager
def _exclusive(lock_path: Path):
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def commit_forever(committer: Committer, interval_s: float, stop: StopRequest,
                   relay: OutboxRelay | None = None) -> None:
    """Flush every ``interval_s`` until a stop is requested, then once more for what landed last.

    With a ``relay``, the core API's domain events go to the lake on the same beat.
    """
    flushes = [committer.flush] + ([relay.relay] if relay is not None else [])
    while not stop.sleep(interval_s):
        _flush_logging_errors(flushes)
    _flush_logging_errors(flushes)


def _flush_logging_errors(flushes) -> None:
    for flush in flushes:
        try:
            flush()
        except Exception:  # a failed commit is retried on the next tick; the rows stay landed
            log.exception("commit failed; will retry")


def flush_landing_logs(settings: Settings) -> dict[str, "CommitStats"]:
    """Commit what waits in every landing log under ``settings.landing_dir`` (``learnlake ingest flush``)."""
    landing_dir = settings.landing_dir
    logs = sorted(p for p in landing_dir.glob("*") if p.is_dir()) if landing_dir.exists() else []
    return {directory.name: Committer(LandingLog(directory, directory.name, readonly=True), settings,
                                      max_events=settings.commit_batch_size).flush()
            for directory in logs}


class CommitterProcess:
    """The API's background committer, in a child process of its own.

    A child process rather than a thread: turning JSON into Arrow is Python work that would
    otherwise take the GIL from the request handlers. It reads the same landing log (the
    log needs no coordination: the Delta transaction identifier says what is committed) and
    is stopped with SIGTERM, after a last flush.
    """

    def __init__(self, settings: Settings) -> None:
        env = {
            **os.environ,
            "LEARNLAKE_HOME": str(settings.home),
            "LEARNLAKE_LAKE_URI": str(settings.lake_uri),
            "LEARNLAKE_LANDING_DIR": str(settings.landing_dir),
            "LEARNLAKE_WRITER_ID": settings.writer_id,
            "LEARNLAKE_DATABASE_URL": settings.database_url,
            "LEARNLAKE_COMMIT_INTERVAL_S": str(settings.commit_interval_s),
            "LEARNLAKE_COMMIT_BATCH_SIZE": str(settings.commit_batch_size),
        }
        env["LEARNLAKE_COMMITTER_PARENT_PID"] = str(os.getpid())
        self.process = subprocess.Popen([sys.executable, "-m", "lake.committer"], env=env)

    def stop(self, timeout: float = 60) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _stop_with_parent(stop: StopRequest) -> None:
    """Linux: have SIGTERM sent to this process when the API dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        return  # elsewhere an orphaned committer keeps committing: harmless, txn ids prevent doubles
    parent = os.environ.get("LEARNLAKE_COMMITTER_PARENT_PID")
    if parent and os.getppid() != int(parent):
        stop.request()  # the API died before the request above took effect


def main() -> None:
    """Entry point of the committer process: commit this writer's landing log until SIGTERM."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    bind_context(process="committer", writer=settings.writer_id)
    # Background work: when CPU is short, acknowledging clients comes first; commits catch up.
    os.nice(10)
    landing = LandingLog(settings.landing_dir / settings.writer_id, settings.writer_id, readonly=True)
    stop = StopRequest()
    signal.signal(signal.SIGTERM, stop.request)
    signal.signal(signal.SIGINT, stop.request)
    _stop_with_parent(stop)
    committer = Committer(landing, settings, max_events=settings.commit_batch_size)
    commit_forever(committer, settings.commit_interval_s, stop, relay=outbox_relay_for(settings))


if __name__ == "__main__":
    main()
