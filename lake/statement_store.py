"""The statement store of the learning record store: SQLite (WAL, fsync'd commits).

It holds statements exactly as the LRS returns them (with ``id``, ``stored``,
``authority`` and ``version`` filled in), plus the keys that queries filter on. It is the
LRS's own record; the lake receives each statement as a native event through the landing
log, with a pseudonymous actor.
"""

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

from lake.sources.xapi import ERASED_AGENT, ifi_key, map_people
from learnlake.sqlite import truncate_wal

SCHEMA = """
create table if not exists statements (
    seq integer primary key autoincrement,
    id text not null unique,
    stored text not null,
    verb_id text not null,
    registration text,
    voided integer not null default 0,
    voiding_target text,
    body blob not null
);
create table if not exists statement_agents (
    seq integer not null, agent_key text not null, direct integer not null
);
create index if not exists statement_agents_key on statement_agents (agent_key, seq);
create table if not exists statement_activities (
    seq integer not null, activity_id text not null, direct integer not null
);
create index if not exists statement_activities_id on statement_activities (activity_id, seq);
create index if not exists statements_stored on statements (stored);
create table if not exists attachments (
    sha2 text primary key, content_type text not null, content blob not null
);
create table if not exists activity_definitions (
    activity_id text primary key, definition blob not null
);
"""
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
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._con.execute("pragma journal_mode=wal")
        self._con.execute("pragma synchronous=full")
        self._con.execute("pragma secure_delete=on")  # an erased person's statements leave no trace in free pages
        self._con.executescript(SCHEMA)

    def get_bodies(self, ids: Iterable[str]) -> dict[str, dict]:
        ids = list(ids)
        if not ids:
            return {}
        with self._lock:
            rows = self._con.execute(
                f"select id, body from statements where id in ({','.join('?' * len(ids))})", ids).fetchall()
        return {row[0]: orjson.loads(row[1]) for row in rows}

    def get(self, statement_id: str, *, voided: bool) -> dict | None:
        with self._lock:
            row = self._con.execute("select body, voided from statements where id = ?", (statement_id,)).fetchone()
        if row is None or bool(row[1]) != voided:
            return None
        return orjson.loads(row[0])

    def is_voiding(self, statement_id: str) -> bool:
        with self._lock:
            row = self._con.execute("select verb_id from statements where id = ?", (statement_id,)).fetchone()
        return row is not None and row[0] == "http://adlnet.gov/expapi/verbs/voided"

    def insert(self, statements: list[StoredStatement], attachments: dict[str, tuple[str, bytes]] | None = None) -> None:
        """Insert all or nothing, in one durable transaction; voiding statements void their targets."""
        with self._lock:
            self._con.execute("begin immediate")
            try:
                self._con.executemany(
                    "insert or ignore into attachments (sha2, content_type, content) values (?, ?, ?)",
                    [(sha2, content_type, content) for sha2, (content_type, content) in (attachments or {}).items()])
                for st in statements:
                    cur = self._con.execute(
                        "insert into statements (id, stored, verb_id, registration, voiding_target, body) "
                        "values (?, ?, ?, ?, ?, ?)",
                        (st.id, st.stored, st.verb_id, st.registration, st.voiding_target, orjson.dumps(st.body)))
                    seq = cur.lastrowid
                    self._con.executemany("insert into statement_agents values (?, ?, ?)",
                                          [(seq, key, int(direct)) for key, direct in st.agents])
                    self._con.executemany("insert into statement_activities values (?, ?, ?)",
                                          [(seq, key, int(direct)) for key, direct in st.activities])
                    for activity_id, definition in st.definitions:
                        self._merge_definition(activity_id, definition)
                    if st.voiding_target:
                        self._con.execute("update statements set voided = 1 where id = ? and verb_id != ?",
                                          (st.voiding_target, "http://adlnet.gov/expapi/verbs/voided"))
                self._con.execute("commit")
            except BaseException:
                self._con.execute("rollback")
                raise

    def _merge_definition(self, activity_id: str, definition: dict) -> None:
        row = self._con.execute("select definition from activity_definitions where activity_id = ?",
                                (activity_id,)).fetchone()
        merged = merge_definition(orjson.loads(row[0]) if row else {}, definition)
        self._con.execute("insert into activity_definitions values (?, ?) on conflict (activity_id) "
                          "do update set definition = excluded.definition", (activity_id, orjson.dumps(merged)))

    def activity(self, activity_id: str) -> dict | None:
        """The definition of an activity as the LRS knows it: merged from every statement that defined it."""
        with self._lock:
            row = self._con.execute("select definition from activity_definitions where activity_id = ?",
                                    (activity_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def names_of(self, agent_key: str) -> list[str]:
        """The names the latest statements that mention this person give them, newest first."""
        with self._lock:
            rows = self._con.execute(
                "select s.body from statements s join statement_agents a on a.seq = s.seq where a.agent_key = ? "
                "order by s.seq desc limit ?", (agent_key, NAMES_LOOKED_AT)).fetchall()
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
        where, params = ["s.voided = 0"], []
        # "seq in (...)": SQLite reads the few statements of one agent or activity through their index, where
        # "exists (...)" made it walk every statement newest first until the page was full.
        if q.agent:
            where.append("s.seq in (select a.seq from statement_agents a where a.agent_key = ?"
                         + ("" if q.related_agents else " and a.direct = 1") + ")")
            params.append(q.agent)
        if q.activity:
            where.append("s.seq in (select t.seq from statement_activities t where t.activity_id = ?"
                         + ("" if q.related_activities else " and t.direct = 1") + ")")
            params.append(q.activity)
        for column, value in (("verb_id", q.verb), ("registration", q.registration)):
            if value:
                where.append(f"s.{column} = ?")
                params.append(value)
        if q.since:
            where.append("s.stored > ?")
            params.append(q.since)
        if q.until:
            where.append("s.stored <= ?")
            params.append(q.until)
        if q.after_seq is not None:
            where.append("s.seq > ?" if q.ascending else "s.seq < ?")
            params.append(q.after_seq)
        order = "asc" if q.ascending else "desc"
        sql = f"select s.seq, s.body from statements s where {' and '.join(where)} order by s.seq {order} limit ?"
        with self._lock:
            rows = self._con.execute(sql, [*params, q.limit + 1]).fetchall()
        more = rows[q.limit - 1][0] if len(rows) > q.limit else None
        return [orjson.loads(body) for _, body in rows[: q.limit]], more

    def attachments(self, hashes: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """Stored attachment contents by sha2 (those the store has)."""
        hashes = sorted(set(hashes))
        if not hashes:
            return {}
        with self._lock:
            rows = self._con.execute(
                f"select sha2, content_type, content from attachments where sha2 in ({','.join('?' * len(hashes))})",
                hashes).fetchall()
        return {sha2: (content_type, content) for sha2, content_type, content in rows}

    def naming(self, agent_keys: Iterable[str]) -> list[dict]:
        """Every statement that names one of these people (as actor, object, instructor, team...), oldest first."""
        keys = sorted(set(agent_keys))
        if not keys:
            return []
        with self._lock:
            rows = self._con.execute(
                "select body from statements where seq in (select seq from statement_agents where agent_key in "
                f"({','.join('?' * len(keys))})) order by seq", keys).fetchall()
        return [orjson.loads(body) for (body,) in rows]

    def erase(self, agent_keys: Iterable[str]) -> dict[str, int]:
        """Erase the people with these agent keys (``mbox:mailto:...``): statements they are the actor of go;
        in the others that name them (instructor, team, object, authority...) they become an anonymous
        agent. Attachments no statement refers to any more go too. xAPI statements are immutable, but a
        person's right to erasure comes first."""
        keys = set(agent_keys)
        if not keys:
            return {"deleted": 0, "redacted": 0}
        marks = ",".join("?" * len(keys))
        with self._lock:
            self._con.execute("begin immediate")
            try:
                named = self._con.execute(
                    f"select distinct s.seq, s.body from statements s join statement_agents a on a.seq = s.seq "
                    f"where a.agent_key in ({marks})", sorted(keys)).fetchall()
                deleted = redacted = 0
                for seq, body in named:
                    statement = orjson.loads(body)
                    if ifi_key(statement.get("actor") or {}) in keys:
                        for table in ("statements", "statement_agents", "statement_activities"):
                            self._con.execute(f"delete from {table} where seq = ?", (seq,))
                        deleted += 1
                    else:
                        kept = map_people(statement, lambda agent: ERASED_AGENT if ifi_key(agent) in keys else agent)
                        self._con.execute("update statements set body = ? where seq = ?", (orjson.dumps(kept), seq))
                        self._con.execute(f"delete from statement_agents where seq = ? and agent_key in ({marks})",
                                          (seq, *sorted(keys)))
                        redacted += 1
                self._con.execute("delete from attachments where not exists "
                                  "(select 1 from statements where instr(body, attachments.sha2) > 0)")
                self._con.execute("commit")
            except BaseException:
                self._con.execute("rollback")
                raise
            truncate_wal(self._con)
        return {"deleted": deleted, "redacted": redacted}

    def latest_stored(self) -> str | None:
        with self._lock:
            row = self._con.execute("select max(stored) from statements").fetchone()
        return row[0]

    def close(self) -> None:
        with self._lock:
            self._con.close()


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
