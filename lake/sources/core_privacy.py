"""The core database's privacy tables, as the lake side needs them.

The API records an erasure (``serving/core/privacy.py``) and erases the core database at once;
the lake side reads the record to carry the erasure into every other store (the erasure job),
to drop the erased learners' events that land later (the committer), and to recognise their
identifiers among what remains (``learnlake privacy verify``). The retention job removes old
tutor conversations, written answers, access records and notifications from the core database
through the tables here too.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from lake.privacy import identifier_hash

log = logging.getLogger(__name__)

# The API's table as the lake needs it (lake/ may not import serving/; names are the contract, and
# tests/serving/core/test_privacy.py checks them against the model).
ERASURES = sa.table("erasures", *(sa.column(name) for name in ("id", "subject_hash", "requested_by", "status")),
                    sa.column("requested_at", sa.DateTime(timezone=True)),
                    sa.column("completed_at", sa.DateTime(timezone=True)),
                    sa.column("identifier_hashes", sa.JSON), sa.column("pending", sa.JSON),
                    sa.column("stores", sa.JSON))


# Tables the retention job trims, with the column that says how old a row is.
TIMED_TABLES = {"tutor_turns": sa.table("tutor_turns", sa.column("created_at", sa.DateTime(timezone=True))),
                "graded_answers": sa.table("graded_answers", sa.column("created_at", sa.DateTime(timezone=True))),
                "access_log": sa.table("access_log", sa.column("at", sa.DateTime(timezone=True))),
                "notifications": sa.table("notifications", sa.column("created_at", sa.DateTime(timezone=True))),
                "email_deliveries": sa.table("email_deliveries", sa.column("sent_at", sa.DateTime(timezone=True))),
                "event_claims": sa.table("event_claims", sa.column("claimed_at", sa.DateTime(timezone=True)))}


def delete_older(engine: sa.Engine, table: str, cutoff: datetime) -> int:
    """Delete the rows of ``table`` (one of ``TIMED_TABLES``) from before ``cutoff``; how many went."""
    timed = TIMED_TABLES[table]
    (column,) = timed.columns
    with engine.begin() as connection:
        return connection.execute(sa.delete(timed).where(column < cutoff)).rowcount


@dataclass(frozen=True)
class PendingErasure:
    id: int
    pseudonyms: tuple[str, ...]
    xapi_keys: tuple[str, ...]
    user_id: str | None
    requested_at: datetime
    stores: dict


def engine_for(database_url: str) -> sa.Engine | None:
    """An engine on the core database, or None while there is none with an erasures table."""
    if database_url.startswith("sqlite:///") and not Path(database_url.removeprefix("sqlite:///")).exists():
        return None
    sqlite = database_url.startswith("sqlite")
    engine = sa.create_engine(database_url, connect_args={"timeout": 30} if sqlite else {})
    if sqlite:  # an erasure's clear identifiers, once done, must not stay in a free page
        sa.event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA secure_delete=ON"))
    try:
        with engine.connect() as connection:
            if sa.inspect(connection).has_table("erasures"):
                return engine
    except sa.exc.OperationalError as exc:
        log.warning("core database unreachable: %s", exc)
    engine.dispose()
    return None


def pending_erasures(engine: sa.Engine) -> list[PendingErasure]:
    """Erasures whose stores outside the core database are not all done yet."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(ERASURES.c.id, ERASURES.c.pending, ERASURES.c.requested_at,
                                            ERASURES.c.stores)
                                  .where(ERASURES.c.status != "done").order_by(ERASURES.c.id)).all()
    return [PendingErasure(row.id, tuple(row.pending["pseudonyms"]), tuple(row.pending["xapi_keys"]),
                           row.pending.get("user_id"), _aware(row.requested_at), row.stores or {})
            for row in rows if row.pending]


def record_progress(engine: sa.Engine, erasure_id: int, stores: dict, *, done: bool) -> None:
    """Note what was done in which store; once done, forget the clear identifiers."""
    values: dict = {"stores": stores}
    if done:
        values.update(status="done", pending=None, completed_at=datetime.now(UTC))
    with engine.begin() as connection:
        connection.execute(sa.update(ERASURES).where(ERASURES.c.id == erasure_id).values(**values))


def erased_hashes(engine: sa.Engine) -> dict[str, set[str]]:
    """Every erased identifier's hash, by kind (pseudonym, user_id, email, name, xapi_key)."""
    kinds: dict[str, set[str]] = {}
    with engine.connect() as connection:
        for (hashes,) in connection.execute(sa.select(ERASURES.c.identifier_hashes)):
            for kind, values in hashes.items():
                kinds.setdefault(kind, set()).update(values)
    return kinds


class ErasedLearners:
    """The committer's list of erased learners: their events that land after the erasure are dropped.

    Read again whenever an erasure is added (a count, checked at each flush), so an event that lands
    after the erasure job has run cannot bring its learner back.
    """

    def __init__(self, engine: sa.Engine | None) -> None:
        self.engine = engine
        self._count = -1
        self._hashes: set[str] = set()

    def refresh(self) -> None:
        if self.engine is None:
            return
        with self.engine.connect() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(ERASURES)).scalar_one()
        if count != self._count:
            self._hashes = erased_hashes(self.engine).get("pseudonym", set())
            self._count = count

    def drop(self, events: pa.Table) -> tuple[pa.Table, int]:
        """``events`` without the rows of erased learners, and how many went."""
        if not self._hashes or not events.num_rows:
            return events, 0
        learners = pc.unique(events["learner_id"]).to_pylist()
        erased = [learner for learner in learners if identifier_hash(learner) in self._hashes]
        if not erased:
            return events, 0
        keep = pc.invert(pc.is_in(events["learner_id"], value_set=pa.array(erased)))
        kept = events.filter(keep)
        return kept, events.num_rows - kept.num_rows


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
