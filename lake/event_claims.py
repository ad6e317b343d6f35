"""Exactly once across API replicas: the core database says which replica commits each event id.

Each API replica lands events in a log of its own and recognises its own replays there
(``lake/landing.py``). Replicas behind one address share the core database (PostgreSQL), and that
is where they meet: before a Delta commit, a replica's committer claims the commit's event ids
(``insert ... on conflict do nothing``) and drops the rows another replica claimed first. The claim
comes before the commit, so a crash in between leaves the claim with the replica whose log still
holds the rows, and its next flush finds its own claim and commits them. The ingestion route reads
the claims too, so that a replay of an event another replica has committed is answered as a
duplicate and not landed; a replay within the commit interval is acknowledged again and then
dropped here.

Why the core database: claims must outlive the restart of any replica (a replay may come as late as
``LEARNLAKE_LANDING_KEEP_S`` after the event; the retention job forgets claims older than that), the
replicas already share it, and one statement claims a commit's ids at once. Redis would have to be
configured to persist; Delta transaction identifiers name batches of one writer, not events.

With SQLite as the core database there is one API process on one machine and no claims: its
landing log's own id set is enough.
"""

from collections.abc import Collection

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

# Ids in sorted order: concurrent claims then wait on each other's rows in one order, never in a cycle.
_CLAIM = sa.text("""
    insert into event_claims (event_id, writer_id, claimed_at)
    select id, :writer, now() from unnest(cast(:ids as text[])) as id order by id
    on conflict (event_id) do nothing""")
_CLAIMED_BY_OTHERS = sa.text("""
    select event_id from event_claims where event_id = any(cast(:ids as text[])) and writer_id <> :writer""")
_CLAIMED = sa.text("select event_id from event_claims where event_id = any(cast(:ids as text[]))")


def shared_database(database_url: str) -> bool:
    """Whether several API processes can share this core database (anything but SQLite)."""
    return not database_url.startswith("sqlite")


class EventClaims:
    """One writer's (API replica's) claims on event ids, in the shared core database."""

    def __init__(self, engine: sa.Engine, writer_id: str) -> None:
        self.engine = engine
        self.writer_id = writer_id

    @classmethod
    def for_database(cls, database_url: str, writer_id: str) -> "EventClaims | None":
        """The claims of ``writer_id``, or None on SQLite (one API process, nothing to share)."""
        if not shared_database(database_url):
            return None
        return cls(sa.create_engine(database_url, pool_size=2, max_overflow=2, pool_pre_ping=True), writer_id)

    def keep_own(self, events: pa.Table) -> tuple[pa.Table, int]:
        """Claim the events' ids for this writer; returns the events it may commit (those it claimed now or
        earlier) and how many another writer had claimed first (replays landed on another replica)."""
        if not events.num_rows:
            return events, 0
        ids = events["event_id"].to_pylist()
        with self.engine.begin() as connection:
            connection.execute(_CLAIM, {"ids": sorted(set(ids)), "writer": self.writer_id})
            others = [row[0] for row in connection.execute(_CLAIMED_BY_OTHERS,
                                                           {"ids": ids, "writer": self.writer_id})]
        if not others:
            return events, 0
        mine = events.filter(pc.invert(pc.is_in(events["event_id"], pa.array(others, pa.string()))))
        return mine, events.num_rows - mine.num_rows

    def claimed(self, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` some writer has claimed: events the lake has, or is about to have."""
        if not ids:
            return set()
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(_CLAIMED, {"ids": list(ids)})}

    def close(self) -> None:
        self.engine.dispose()
