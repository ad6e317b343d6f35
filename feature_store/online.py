"""The online store: each entity's latest feature values, for serving in milliseconds.

``materialize`` writes, for every view, the latest row of each entity as of a moment (the
values a model would have been trained on for a label at that moment). The store is a SQLite
file under the LearnLake home by default, or Redis when ``LEARNLAKE_REDIS_URL`` is set; both
keep one JSON document per (view, entity). ``online_features`` reads a service's features for
one entity and leaves out values older than their view's TTL, as training frames do.
"""

import json
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import duckdb

from feature_store.definitions import FeatureService, FeatureView
from feature_store.repository import VIEWS
from learnlake.caches import LRU
from learnlake.settings import Settings
from learnlake.sqlite import truncate_wal

REDIS_PREFIX = "learnlake:features"
PARSED_DOCUMENTS_KEPT = 10_000  # per store; a learner's recent answers parse to some tens of KB


def entity_key(view: FeatureView, row: dict) -> str:
    return "|".join(str(row[k]) for k in view.entity.join_keys)


class OnlineStore(Protocol):
    def replace(self, view: str, rows: dict[str, dict]) -> None:
        """Make ``rows`` the view's whole content; readers see the old rows or the new ones."""

    def read(self, view: str, key: str) -> dict | None:
        """The entity's document, or None; a shared dict, not to be changed."""

    def keys(self, view: str) -> list[str]:
        """The entity keys the view holds."""

    def erase(self, pseudonyms: list[str]) -> int:
        """Delete every entity of these learners; how many went."""


class ParsedDocuments:
    """The last parse of each stored document, reused while its stored text is unchanged.

    Serving reads the same learners' documents on every request, and parsing the JSON cost
    more than reading it (``bench serve``). The dicts handed out are shared: callers read them
    and never change them.
    """

    def __init__(self, size: int = PARSED_DOCUMENTS_KEPT) -> None:
        self._parsed = LRU(size)  # (view, key) -> (text, its parse)

    def parse(self, view: str, key: str, text: str | bytes) -> dict:
        kept = self._parsed.get((view, key))
        if kept is not None and kept[0] == text:
            return kept[1]
        doc = json.loads(text)
        self._parsed.put((view, key), (text, doc))
        return doc


SQLITE_FILE = "online_features.db"  # under the LearnLake home


class SQLiteOnlineStore:
    """One table, ``online_features(view, entity_key, document)``; WAL so readers never wait.

    Each thread keeps one open connection for reads: opening a file per read cost more than
    the read itself.
    """

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._documents = ParsedDocuments()
        with closing(self._connect()) as con, con:
            con.execute("pragma journal_mode=wal")
            con.execute("pragma secure_delete=on")  # erased learners' rows are overwritten, not left in free pages
            con.execute("create table if not exists online_features (view text not null, entity_key text not null, "
                        "document text not null, primary key (view, entity_key))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def replace(self, view: str, rows: dict[str, dict]) -> None:
        # One transaction: readers (WAL) see the old rows until it commits.
        with closing(self._connect()) as con, con:
            con.execute("delete from online_features where view = ?", (view,))
            con.executemany("insert into online_features values (?, ?, ?)",
                            [(view, key, json.dumps(doc, default=str)) for key, doc in rows.items()])

    def read(self, view: str, key: str) -> dict | None:
        con = getattr(self._local, "reader", None)
        if con is None:
            # Autocommit: each read sees the latest committed rows, never a transaction held open.
            con = self._local.reader = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        # fetchall: a statement left unfinished would hold a snapshot, and the write-ahead log with it.
        found = next(iter(con.execute("select document from online_features where view = ? and entity_key = ?",
                                      (view, key)).fetchall()), None)
        return self._documents.parse(view, key, found[0]) if found else None

    def keys(self, view: str) -> list[str]:
        with closing(self._connect()) as con:
            return [key for (key,) in con.execute("select entity_key from online_features where view = ?", (view,))]

    def erase(self, pseudonyms: list[str]) -> int:
        """Delete every entity of these learners (their key or document names them); how many went."""
        with closing(self._connect()) as con:
            con.execute("pragma secure_delete=on")
            with con:
                removed = sum(con.execute("delete from online_features where instr(entity_key, ?) > 0 "
                                          "or instr(document, ?) > 0", (p, p)).rowcount for p in pseudonyms)
            truncate_wal(con)
        return removed


class RedisOnlineStore:
    """One string per (view, entity) under ``learnlake:features:<view>:<key>``."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)
        self._documents = ParsedDocuments()

    def replace(self, view: str, rows: dict[str, dict]) -> None:
        # New values overwrite old ones key by key; only then are entities that left the view removed,
        # so a reader never finds a live entity without features.
        prefix = f"{REDIS_PREFIX}:{view}:"
        pipe = self.client.pipeline(transaction=False)
        for key, doc in rows.items():
            pipe.set(prefix + key, json.dumps(doc, default=str))
        pipe.execute()
        stale = [k for k in self.client.scan_iter(prefix + "*", count=1000) if k.decode()[len(prefix):] not in rows]
        if stale:
            self.client.delete(*stale)

    def read(self, view: str, key: str) -> dict | None:
        found = self.client.get(f"{REDIS_PREFIX}:{view}:{key}")
        return self._documents.parse(view, key, found) if found else None

    def keys(self, view: str) -> list[str]:
        prefix = f"{REDIS_PREFIX}:{view}:"
        return [key.decode()[len(prefix):] for key in self.client.scan_iter(prefix + "*", count=1000)]

    def erase(self, pseudonyms: list[str]) -> int:
        """Delete every entity of these learners (their key or document names them); how many went."""
        doomed = []
        for key in self.client.scan_iter(f"{REDIS_PREFIX}:*", count=1000):
            text = key.decode()
            if any(p in text for p in pseudonyms) or any(p.encode() in (self.client.get(key) or b"")
                                                         for p in pseudonyms):
                doomed.append(key)
        return self.client.delete(*doomed) if doomed else 0



def online_store(settings: Settings) -> OnlineStore:
    if settings.redis_url:
        return RedisOnlineStore(settings.redis_url)
    return SQLiteOnlineStore(settings.home / SQLITE_FILE)


def materialize(con: duckdb.DuckDBPyConnection, store: OnlineStore, *, as_of: datetime | None = None,
                views: tuple[FeatureView, ...] = VIEWS) -> dict[str, int]:
    """Write each entity's latest values as of ``as_of`` (default: now); returns rows per view."""
    as_of = as_of or datetime.now(UTC)
    written = {}
    for view in views:
        keys = ", ".join(view.entity.join_keys)
        latest = con.sql(
            f"select * from ({view.query}) where feature_timestamp <= $as_of "
            f"qualify row_number() over (partition by {keys} order by feature_timestamp desc) = 1",
            params={"as_of": as_of}).pl()
        rows = {entity_key(view, row): {"feature_timestamp": row["feature_timestamp"].isoformat(),
                                        **{f: row[f] for f in view.features}}
                for row in latest.iter_rows(named=True)}
        store.replace(view.name, rows)
        written[view.name] = len(rows)
    return written


def online_features(store: OnlineStore, service: FeatureService, entity: dict, *,
                    now: datetime | None = None) -> dict[str, float | None]:
    """The service's features for one entity (``{"learner_id": ..., "course_id": ...}``), as a flat dict."""
    now = now or datetime.now(UTC)
    values: dict[str, float | None] = {}
    for view, features in service.views:
        doc = store.read(view.name, entity_key(view, entity))
        stamp = datetime.fromisoformat(doc["feature_timestamp"]) if doc else None
        fresh = stamp is not None and stamp <= now and now - stamp <= view.ttl
        for feature in features:
            values[view.column(feature)] = doc[feature] if fresh else None
        values[view.age_column] = (now - stamp).total_seconds() / 86400 if fresh else None
    return values
