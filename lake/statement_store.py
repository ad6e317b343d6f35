"""The statement store of the learning record store: SQLite (WAL, fsync'd commits) or PostgreSQL.

It holds statements exactly as the LRS returns them (with ``id``, ``stored``,
``authority`` and ``version`` filled in), plus the keys that queries filter on. It is the
LRS's own record; the lake receives each statement as a native event through the landing
log, with a pseudonymous actor. One SQLite file serves one API process; API replicas share a
PostgreSQL database (``LEARNLAKE_LRS_DATABASE_URL``), where a statement id is unique across all of
them.
"""

import contextlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson
import sqlalchemy as sa

from lake.sources.xapi import ERASED_AGENT, VOIDED, ifi_key, map_people
from learnlake.errors import LearnLakeError
from learnlake.sqlite import truncate_wal

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: the rowid itself
METADATA = sa.MetaData()
CREATE_TABLES_LOCK = 0x4C524553  # a PostgreSQL advisory lock key ("LRES"), held while the tables are made
# The names and indexes are those of the SQLite files written before PostgreSQL was supported.
STATEMENTS = sa.Table(
    "statements", METADATA,
    sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
    sa.Column("id", sa.Text, nullable=False, unique=True),
    sa.Column("stored", sa.Text, nullable=False),
    sa.Column("verb_id", sa.Text, nullable=False),
    sa.Column("registration", sa.Text),
    sa.Column("voided", sa.Integer, nullable=False, server_default="0"),
    sa.Column("voiding_target", sa.Text),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Index("statements_stored", "stored"),
    sqlite_autoincrement=True,
)
STATEMENT_AGENTS = sa.Table(
    "statement_agents", METADATA,
    sa.Column("seq", SEQ, nullable=False), sa.Column("agent_key", sa.Text, nullable=False),
    sa.Column("direct", sa.Integer, nullable=False),
    sa.Index("statement_agents_key", "agent_key", "seq"),
)
STATEMENT_ACTIVITIES = sa.Table(
    "statement_activities", METADATA,
    sa.Column("seq", SEQ, nullable=False), sa.Column("activity_id", sa.Text, nullable=False),
    sa.Column("direct", sa.Integer, nullable=False),
    sa.Index("statement_activities_id", "activity_id", "seq"),
)
ATTACHMENTS = sa.Table(
    "attachments", METADATA,
    sa.Column("sha2", sa.Text, primary_key=True), sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
)
ACTIVITY_DEFINITIONS = sa.Table(
    "activity_definitions", METADATA,
    sa.Column("activity_id", sa.Text, primary_key=True), sa.Column("definition", sa.LargeBinary, nullable=False),
)
# Attachments no statement mentions any more (after an erasure); the body is JSON bytes in both databases.
_UNREFERENCED = {
    "sqlite": "delete from attachments where not exists "
              "(select 1 from statements where instr(body, attachments.sha2) > 0)",
    "postgresql": "delete from attachments where not exists "
                  "(select 1 from statements where position(convert_to(attachments.sha2, 'UTF8') in body) > 0)",
}


class StatementIdTaken(LearnLakeError):
    """Another API replica stored a statement with one of these ids first: look again, then decide."""


NAMES_LOOKED_AT = 200  # statements read for the names of one person (the Agents Resource)


@dataclass(frozen=True)
class StoredStatement:
    """One statement to insert, with its query keys."""

    id: str
    stored: str
    verb_id: str
    registration: str | None
    voiding_target: str | None
    agents: list[tuple[str, bool]]  # (agent key, whether it is the actor or the object)
    activities: list[tuple[str, bool]]  # (activity id, whether it is the object)
    body: dict
    definitions: list[tuple[str, dict]] = ()  # (activity id, definition) of the activities it defines


@dataclass(frozen=True)
class Query:
    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: str | None = None
    until: str | None = None
    ascending: bool = False
    limit: int = 100
    after_seq: int | None = None  # paging cursor


class StatementStore:
    def __init__(self, database_url: str) -> None:
        self.sqlite = database_url.startswith("sqlite")
        if self.sqlite:
            Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            # One connection, as before: SQLite serialises writers anyway, and the lock below orders them here.
            self.engine = sa.create_engine(database_url, poolclass=sa.pool.StaticPool,
                                           connect_args={"check_same_thread": False, "timeout": 30})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = sa.create_engine(database_url, pool_size=4, max_overflow=4, pool_pre_ping=True)
        # PostgreSQL orders concurrent writers itself: no lock in the process there.
        self._lock = threading.Lock() if self.sqlite else contextlib.nullcontext()
        with self.engine.begin() as connection:
            if not self.sqlite:
                # Replicas start together: one creates the tables while the others wait, then find them
                # (two CREATE TABLEs at once fail on PostgreSQL's catalogue). Released at the commit.
                connection.execute(sa.text("select pg_advisory_xact_lock(:key)"), {"key": CREATE_TABLES_LOCK})
            METADATA.create_all(connection, checkfirst=True)

    @classmethod
    def existing(cls, database_url: str) -> "StatementStore | None":
        """The store at ``database_url``, or None for a SQLite file that was never made (no LRS use yet)."""
        if database_url.startswith("sqlite:///") and not Path(database_url.removeprefix("sqlite:///")).exists():
            return None
        return cls(database_url)

    def _rows(self, statement, params: dict | None = None) -> list:
        with self._lock, self.engine.connect() as connection:
            return connection.execute(statement, params or {}).all()

    def get_bodies(self, ids: Iterable[str]) -> dict[str, dict]:
        ids = list(ids)
        if not ids:
            return {}
        rows = self._rows(sa.select(STATEMENTS.c.id, STATEMENTS.c.body).where(STATEMENTS.c.id.in_(ids)))
        return {row.id: orjson.loads(row.body) for row in rows}

    def get(self, statement_id: str, *, voided: bool) -> dict | None:
        rows = self._rows(sa.select(STATEMENTS.c.body, STATEMENTS.c.voided).where(STATEMENTS.c.id == statement_id))
        if not rows or bool(rows[0].voided) != voided:
            return None
        return orjson.loads(rows[0].body)

    def is_voiding(self, statement_id: str) -> bool:
        rows = self._rows(sa.select(STATEMENTS.c.verb_id).where(STATEMENTS.c.id == statement_id))
        return bool(rows) and rows[0].verb_id == VOIDED

    def insert(self, statements: list[StoredStatement], attachments: dict[str, tuple[str, bytes]] | None = None) -> None:
        """Insert all or nothing, in one durable transaction; voiding statements void their targets.
        Raises ``StatementIdTaken`` when another replica stored one of the ids meanwhile."""
        try:
            with self._lock, self.engine.begin() as connection:
                if attachments:
                    connection.execute(_insert_ignoring(self.engine, ATTACHMENTS, ["sha2"]), [
                        {"sha2": sha2, "content_type": content_type, "content": content}
                        for sha2, (content_type, content) in attachments.items()])
                for st in statements:
                    seq = connection.execute(STATEMENTS.insert().values(
                        id=st.id, stored=st.stored, verb_id=st.verb_id, registration=st.registration,
                        voiding_target=st.voiding_target, body=orjson.dumps(st.body)).returning(STATEMENTS.c.seq)
                    ).scalar_one()
                    if st.agents:
                        connection.execute(STATEMENT_AGENTS.insert(), [
                            {"seq": seq, "agent_key": key, "direct": int(direct)} for key, direct in st.agents])
                    if st.activities:
                        connection.execute(STATEMENT_ACTIVITIES.insert(), [
                            {"seq": seq, "activity_id": key, "direct": int(direct)} for key, direct in st.activities])
                    for activity_id, definition in st.definitions:
                        self._merge_definition(connection, activity_id, definition)
                    if st.voiding_target:
                        connection.execute(STATEMENTS.update().where(
                            STATEMENTS.c.id == st.voiding_target, STATEMENTS.c.verb_id != VOIDED).values(voided=1))
        except sa.exc.IntegrityError as exc:
            raise StatementIdTaken(str(exc.orig)) from exc

    def _merge_definition(self, connection, activity_id: str, definition: dict) -> None:
        table = ACTIVITY_DEFINITIONS
        query = sa.select(table.c.definition).where(table.c.activity_id == activity_id)
        if not self.sqlite:  # replicas may define one activity at once: the row is held while it is merged
            query = query.with_for_update()
        row = connection.execute(query).first()
        merged = orjson.dumps(merge_definition(orjson.loads(row.definition) if row else {}, definition))
        upsert = _dialect_insert(self.engine, table).values(activity_id=activity_id, definition=merged)
        connection.execute(upsert.on_conflict_do_update(index_elements=["activity_id"],
                                                        set_={"definition": upsert.excluded.definition}))

    def activity(self, activity_id: str) -> dict | None:
        """The definition of an activity as the LRS knows it: merged from every statement that defined it."""
        rows = self._rows(sa.select(ACTIVITY_DEFINITIONS.c.definition)
                          .where(ACTIVITY_DEFINITIONS.c.activity_id == activity_id))
        return orjson.loads(rows[0].definition) if rows else None

    def names_of(self, agent_key: str) -> list[str]:
        """The names the latest statements that mention this person give them, newest first."""
        rows = self._rows(sa.select(STATEMENTS.c.body)
                          .join(STATEMENT_AGENTS, STATEMENT_AGENTS.c.seq == STATEMENTS.c.seq)
                          .where(STATEMENT_AGENTS.c.agent_key == agent_key)
                          .order_by(STATEMENTS.c.seq.desc()).limit(NAMES_LOOKED_AT))
        names: dict[str, None] = {}

        def collect(agent: dict) -> dict:
            if ifi_key(agent) == agent_key and isinstance(agent.get("name"), str):
                names[agent["name"]] = None
            return agent

        for (body,) in rows:
            map_people(orjson.loads(body), collect)
        return list(names)

    def query(self, q: Query) -> tuple[list[dict], int | None]:
        """Matching statements (not voided) and the cursor for the next page, if any."""
        s = STATEMENTS
        where = [s.c.voided == 0]
        # "seq in (...)": SQLite reads the few statements of one agent or activity through their index, where
        # "exists (...)" made it walk every statement newest first until the page was full.
        if q.agent:
            agents = STATEMENT_AGENTS
            where.append(s.c.seq.in_(sa.select(agents.c.seq).where(
                agents.c.agent_key == q.agent, *([] if q.related_agents else [agents.c.direct == 1]))))
        if q.activity:
            activities = STATEMENT_ACTIVITIES
            where.append(s.c.seq.in_(sa.select(activities.c.seq).where(
                activities.c.activity_id == q.activity, *([] if q.related_activities else [activities.c.direct == 1]))))
        if q.verb:
            where.append(s.c.verb_id == q.verb)
        if q.registration:
            where.append(s.c.registration == q.registration)
        if q.since:
            where.append(s.c.stored > q.since)
        if q.until:
            where.append(s.c.stored <= q.until)
        if q.after_seq is not None:
            where.append(s.c.seq > q.after_seq if q.ascending else s.c.seq < q.after_seq)
        order = s.c.seq.asc() if q.ascending else s.c.seq.desc()
        rows = self._rows(sa.select(s.c.seq, s.c.body).where(*where).order_by(order).limit(q.limit + 1))
        more = rows[q.limit - 1].seq if len(rows) > q.limit else None
        return [orjson.loads(row.body) for row in rows[: q.limit]], more

    def attachments(self, hashes: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """Stored attachment contents by sha2 (those the store has)."""
        hashes = sorted(set(hashes))
        if not hashes:
            return {}
        rows = self._rows(sa.select(ATTACHMENTS).where(ATTACHMENTS.c.sha2.in_(hashes)))
        return {row.sha2: (row.content_type, bytes(row.content)) for row in rows}

    def naming(self, agent_keys: Iterable[str]) -> list[dict]:
        """Every statement that names one of these people (as actor, object, instructor, team...), oldest first."""
        keys = sorted(set(agent_keys))
        if not keys:
            return []
        rows = self._rows(sa.select(STATEMENTS.c.body).where(STATEMENTS.c.seq.in_(
            sa.select(STATEMENT_AGENTS.c.seq).where(STATEMENT_AGENTS.c.agent_key.in_(keys))))
            .order_by(STATEMENTS.c.seq))
        return [orjson.loads(body) for (body,) in rows]

    def erase(self, agent_keys: Iterable[str]) -> dict[str, int]:
        """Erase the people with these agent keys (``mbox:mailto:...``): statements they are the actor of go;
        in the others that name them (instructor, team, object, authority...) they become an anonymous
        agent. Attachments no statement refers to any more go too. xAPI statements are immutable, but a
        person's right to erasure comes first."""
        keys = sorted(set(agent_keys))
        if not keys:
            return {"deleted": 0, "redacted": 0}
        deleted = redacted = 0
        with self._lock, self.engine.begin() as connection:
            named = connection.execute(
                sa.select(STATEMENTS.c.seq, STATEMENTS.c.body).distinct()
                .join(STATEMENT_AGENTS, STATEMENT_AGENTS.c.seq == STATEMENTS.c.seq)
                .where(STATEMENT_AGENTS.c.agent_key.in_(keys))).all()
            for seq, body in named:
                statement = orjson.loads(body)
                if ifi_key(statement.get("actor") or {}) in keys:
                    for table in (STATEMENTS, STATEMENT_AGENTS, STATEMENT_ACTIVITIES):
                        connection.execute(table.delete().where(table.c.seq == seq))
                    deleted += 1
                else:
                    kept = map_people(statement, lambda agent: ERASED_AGENT if ifi_key(agent) in keys else agent)
                    connection.execute(STATEMENTS.update().where(STATEMENTS.c.seq == seq)
                                       .values(body=orjson.dumps(kept)))
                    connection.execute(STATEMENT_AGENTS.delete().where(
                        STATEMENT_AGENTS.c.seq == seq, STATEMENT_AGENTS.c.agent_key.in_(keys)))
                    redacted += 1
            connection.exec_driver_sql(_UNREFERENCED[self.engine.dialect.name])
        if self.sqlite:
            with self._lock, self.engine.connect() as connection:
                truncate_wal(connection.connection.driver_connection)
        return {"deleted": deleted, "redacted": redacted}

    def latest_stored(self) -> str | None:
        return self._rows(sa.select(sa.func.max(STATEMENTS.c.stored)))[0][0]

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("pragma journal_mode=wal")
    cursor.execute("pragma synchronous=full")
    cursor.execute("pragma secure_delete=on")  # an erased person's statements leave no trace in free pages
    cursor.close()


def _dialect_insert(engine: sa.Engine, table: sa.Table):
    """``insert`` with ``on conflict``, in the engine's dialect (SQLite and PostgreSQL both have it)."""
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert(table)


def _insert_ignoring(engine: sa.Engine, table: sa.Table, keys: list[str]):
    return _dialect_insert(engine, table).on_conflict_do_nothing(index_elements=keys)


def merge_definition(known: dict, new: dict) -> dict:
    """An activity definition updated by a newer statement: its properties replace the known ones, except
    language maps (name, description), which gain or replace one language at a time."""
    merged = dict(known)
    for key, value in new.items():
        if key in ("name", "description") and isinstance(value, dict) and isinstance(known.get(key), dict) or key == "extensions" and isinstance(value, dict) and isinstance(known.get(key), dict):
            merged[key] = {**known[key], **value}
        else:
            merged[key] = value
    return merged
