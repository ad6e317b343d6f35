"""Moves the core API's domain events from its outbox table into ``bronze.events``, exactly once.

The relay works in numbered batches:

1. claim: in one database transaction, take the next batch number from ``outbox_relay``
   (a compare-and-set, so two relays never share a number) and stamp it on the oldest
   unclaimed outbox rows;
2. append those rows to ``bronze.events`` with the Delta transaction id
   (``core-outbox``, batch number).

A crash after 1 leaves a claimed batch that the next run finds (its number is above the
Delta transaction version) and appends; a crash after 2 leaves nothing to do, because Delta
already records that batch number. The lake is the relay's only checkpoint. A lease in ``outbox_relay`` lets one relay work at
a time: Delta transaction ids stop a batch from being appended twice in a row, but not by two
writers at the same instant.

Per entity, outbox ids rise in commit order (the API draws them while it holds the entity's
row lock), and batches go out in id order, so each entity's events arrive in order.
"""

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import sqlalchemy as sa
from deltalake import DeltaTable

from lake import writers
from lake.catalog import table_uri
from lake.schemas import EVENT_SCHEMA_VERSION, EVENTS
from learnlake.settings import Settings, get_settings

log = logging.getLogger(__name__)

APP_ID = "core-outbox"
SOURCE = "outbox"

# The API's tables as the relay needs them (lake/ may not import serving/; names are the contract).
OUTBOX = sa.table(
    "outbox",
    *(sa.column(name) for name in ("id", "event_id", "event_type", "entity_type", "entity_id", "learner_id",
                                   "course_id", "occurred_at", "payload", "relay_batch")),
)
RELAY_STATE = sa.table("outbox_relay", sa.column("id"), sa.column("last_batch"), sa.column("lease_holder"),
                       sa.column("lease_until"))
LEASE_S = 120  # far longer than one batch takes; a relay that died frees the lease after this


@dataclass
class RelayStats:
    batches: int = 0
    events: int = 0
    last_batch: int = 0


class OutboxRelay:
    """Relays one core database's outbox; safe to run beside other relays of the same database."""

    def __init__(self, database_url: str, settings: Settings | None = None, *, batch_size: int = 10_000,
                 keep_delivered_s: float = 86_400) -> None:
        self.settings = settings or get_settings()
        connect_args = {"timeout": 30} if database_url.startswith("sqlite") else {}
        self.engine = sa.create_engine(database_url, connect_args=connect_args)
        self.batch_size = batch_size
        self.keep_delivered_s = keep_delivered_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._seen_delivered = 0  # batches known to be in the lake: the cheap "anything to do?" check

    def delivered_batch(self) -> int:
        uri = table_uri("bronze.events", self.settings)
        if not DeltaTable.is_deltatable(uri):
            return 0
        return DeltaTable(uri).transaction_version(APP_ID) or 0

    def relay(self) -> RelayStats:
        """Append every outbox event not yet in the lake (nothing if another relay is at work)."""
        if not self._has_work() or not self._take_lease():
            return RelayStats()
        try:
            return self._relay()
        finally:
            self._release_lease()

    def _relay(self) -> RelayStats:
        stats = RelayStats(last_batch=self.delivered_batch())
        while True:
            batch = self._pending_batch(stats.last_batch) or self._claim()
            if batch is None or not self._take_lease():
                break
            rows = self._rows_of(batch)
            writers.append("bronze.events", _to_events(rows), app_id=APP_ID, batch_version=batch,
                           settings=self.settings)
            stats.batches += 1
            stats.events += len(rows)
            stats.last_batch = batch
        self._seen_delivered = stats.last_batch
        if stats.batches:
            log.info("relayed %s domain events in %s batches", stats.events, stats.batches)
            self._prune(stats.last_batch)
        return stats

    def _has_work(self) -> bool:
        """Whether any event is unclaimed or claimed past what this relay saw delivered (one indexed query)."""
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(OUTBOX.c.id).where(sa.or_(
                OUTBOX.c.relay_batch.is_(None), OUTBOX.c.relay_batch > self._seen_delivered)).limit(1)).first()
        return row is not None

    def _take_lease(self) -> bool:
        """Take (or renew) the lease unless another live relay holds it."""
        now = time.time()
        with self.engine.begin() as connection:
            taken = connection.execute(
                sa.update(RELAY_STATE)
                .where(RELAY_STATE.c.id == 1, sa.or_(RELAY_STATE.c.lease_until.is_(None),
                                                     RELAY_STATE.c.lease_until < now,
                                                     RELAY_STATE.c.lease_holder == self.holder))
                .values(lease_holder=self.holder, lease_until=now + LEASE_S)).rowcount
        return taken == 1

    def _release_lease(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.update(RELAY_STATE).where(RELAY_STATE.c.id == 1,
                                                            RELAY_STATE.c.lease_holder == self.holder)
                               .values(lease_holder=None, lease_until=None))

    def _pending_batch(self, delivered: int) -> int | None:
        """A batch claimed earlier but not in the lake yet (its relay stopped in between)."""
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.min(OUTBOX.c.relay_batch))
                                      .where(OUTBOX.c.relay_batch > delivered)).scalar()

    def _claim(self) -> int | None:
        with self.engine.begin() as connection:
            last = connection.execute(sa.select(RELAY_STATE.c.last_batch).where(RELAY_STATE.c.id == 1)).scalar_one()
            batch = last + 1
            taken = connection.execute(sa.update(RELAY_STATE).where(RELAY_STATE.c.id == 1,
                                                                    RELAY_STATE.c.last_batch == last)
                                       .values(last_batch=batch)).rowcount
            if taken != 1:
                return None  # another relay claimed this number; its rows are its own
            oldest = (sa.select(OUTBOX.c.id).where(OUTBOX.c.relay_batch.is_(None)).order_by(OUTBOX.c.id)
                      .limit(self.batch_size).scalar_subquery())
            claimed = connection.execute(sa.update(OUTBOX).where(OUTBOX.c.relay_batch.is_(None),
                                                                 OUTBOX.c.id.in_(oldest))
                                         .values(relay_batch=batch)).rowcount
            if not claimed:
                connection.rollback()  # keep the number: batch numbers only mark real batches
                return None
        return batch

    def _rows_of(self, batch: int) -> list[dict]:
        with self.engine.connect() as connection:
            result = connection.execute(sa.select(OUTBOX).where(OUTBOX.c.relay_batch == batch).order_by(OUTBOX.c.id))
            return [dict(row._mapping) for row in result]

    def _prune(self, delivered: int) -> None:
        """Forget delivered events after a while: the lake has them.

        The newest row always stays: SQLite hands out max(id) + 1, so deleting the newest rows
        would let new events reuse their ids, and ids must only rise.
        """
        cutoff = datetime.now(UTC) - timedelta(seconds=self.keep_delivered_s)
        if self.engine.dialect.name == "sqlite":
            cutoff = cutoff.replace(tzinfo=None)
        newest = sa.select(sa.func.max(OUTBOX.c.id)).scalar_subquery()
        with self.engine.begin() as connection:
            connection.execute(sa.delete(OUTBOX).where(OUTBOX.c.relay_batch <= delivered,
                                                       OUTBOX.c.occurred_at < cutoff, OUTBOX.c.id < newest))

    def close(self) -> None:
        self.engine.dispose()


def outbox_relay_for(settings: Settings) -> OutboxRelay | None:
    """A relay for the configured core database, or None while there is no migrated one."""
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    relay = OutboxRelay(url, settings)
    try:
        with relay.engine.connect() as connection:
            if not sa.inspect(connection).has_table("outbox"):
                relay.close()
                return None
    except sa.exc.OperationalError as exc:
        relay.close()
        log.warning("core database unreachable, domain events not relayed this time: %s", exc)
        return None
    return relay


def relay_outbox(settings: Settings) -> RelayStats | None:
    """Relay what waits in the core database's outbox once; None while there is no migrated database."""
    relay = outbox_relay_for(settings)
    if relay is None:
        return None
    try:
        return relay.relay()
    finally:
        relay.close()


def _to_events(rows: list[dict]) -> pa.Table:
    received_at = datetime.now(UTC)
    events = []
    for row in rows:
        facts = row["payload"] if isinstance(row["payload"], dict) else orjson.loads(row["payload"])
        occurred_at = _utc(row["occurred_at"])
        progress = row["event_type"] == "progress.updated"
        events.append({
            "event_id": row["event_id"],
            "learner_id": row["learner_id"],
            "verb": row["event_type"],
            "object_type": row["entity_type"],
            "object_id": row["entity_id"],
            "course_id": row["course_id"],
            "module_id": facts.get("module_id"),
            "result_score": facts.get("score") if progress else None,
            "result_completion": facts.get("item_status") == "completed" if progress else None,
            "result_duration_s": facts.get("time_spent_s") if progress else None,
            "context_platform": "core-api",
            "timestamp": occurred_at,
            "received_at": received_at,
            "event_date": occurred_at.date(),
            "schema_version": EVENT_SCHEMA_VERSION,
            "source": SOURCE,
            "payload": orjson.dumps({"outbox_id": row["id"], "event_type": row["event_type"],
                                     "entity_type": row["entity_type"], "entity_id": row["entity_id"],
                                     **facts}).decode(),
        })
    return pa.Table.from_pylist(events, schema=EVENTS)


def _utc(value) -> datetime:
    if isinstance(value, str):  # SQLite through a plain table() comes back as text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
