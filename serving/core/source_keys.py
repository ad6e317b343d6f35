"""Keys of event sources: who may write events and statements, and read statements back.

Each source (an LMS, a mobile app, an xAPI authoring tool) gets its own key with scopes, made
by ``learnlake sources add`` or an admin at ``/api/v1/admin/sources``. The key is shown once;
the database keeps its SHA-256, so a stolen database yields no usable key. A key is looked up again
at least every second (``RECHECK_S``), so a revocation applies within a second in every API process.
"""

import hashlib
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from learnlake.caches import LRU
from learnlake.errors import LearnLakeError
from serving.core.db import Database
from serving.core.tables import SourceKey

log = logging.getLogger(__name__)

KEY_PREFIX = "llk_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LAST_USE_EVERY_S = 60  # last use is written at most this often per key: one write, not one per request
RECHECK_S = 1.0  # a verified key is trusted this long before it is read again: a revocation applies within it


class Scope(StrEnum):
    EVENTS_WRITE = "events:write"  # POST /v1/events
    XAPI_WRITE = "xapi:write"  # POST and PUT /xapi/statements; writing any document
    XAPI_READ = "xapi:read"  # GET /xapi/statements, /xapi/activities, /xapi/agents; reading any document
    STATE_WRITE = "state:write"  # PUT, POST and DELETE /xapi/activities/state (xapi:write also may)
    STATE_READ = "state:read"  # GET /xapi/activities/state
    PROFILE_WRITE = "profile:write"  # PUT, POST and DELETE /xapi/activities/profile and /xapi/agents/profile
    PROFILE_READ = "profile:read"  # GET of those


ALL_SCOPES = tuple(Scope)


class SourceKeyExists(LearnLakeError):
    """A source key of that name exists (revoked names are not given out again)."""


class UnknownSourceKey(LearnLakeError):
    """No source key has that name."""


@dataclass(frozen=True)
class SourceKeyInfo:
    """A source key as it may be shown: everything but the key."""

    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: SourceKey) -> "SourceKeyInfo":
        return cls(row.name, tuple(row.scopes), row.created_at, row.last_used_at, row.revoked_at)


@dataclass(frozen=True)
class Source:
    """Who sent a request: the source whose live key it bore, and what that key may do."""

    name: str
    scopes: tuple[str, ...]


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(scopes) -> tuple[str, ...]:
    """Scopes given as a list or a comma-separated string, checked, in canonical order."""
    given = [s.strip() for s in (scopes.split(",") if isinstance(scopes, str) else scopes) if s.strip()]
    if unknown := sorted(set(given) - set(ALL_SCOPES)):
        raise ValueError(f"unknown scope(s) {unknown}; the scopes are {list(ALL_SCOPES)}")
    if not given:
        raise ValueError(f"a key needs at least one scope of {list(ALL_SCOPES)}")
    return tuple(s for s in ALL_SCOPES if s in given)


def create_key(database: Database, name: str, scopes=ALL_SCOPES) -> tuple[SourceKeyInfo, str]:
    """Make a key for the source ``name``; returns it with the key, which is never shown again."""
    if not NAME_PATTERN.match(name):
        raise ValueError(f"source name {name!r} must be 1 to 64 letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit")
    scopes = parse_scopes(scopes)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with database.write() as session:
            row = SourceKey(name=name, key_hash=key_hash(key), scopes=list(scopes))
            session.add(row)
    except IntegrityError:
        raise SourceKeyExists(f"a source key named {name!r} exists already (revoked names are not reused)") from None
    return SourceKeyInfo.of(row), key


def write_key_file(database: Database, name: str, path: Path) -> bool:
    """Make the source key ``name`` once and keep it in ``path``, readable by this user only (the demo's key).

    True when the file holds the key; False when the file is gone but the key was made before: a key is shown
    only when it is made, so it cannot be written again."""
    if path.exists():
        return True
    try:
        _, key = create_key(database, name)
    except SourceKeyExists:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)  # a home that holds nothing else (server stores, S3 lake)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return True


def list_keys(database: Database) -> list[SourceKeyInfo]:
    with database.read() as session:
        return [SourceKeyInfo.of(row) for row in session.scalars(select(SourceKey).order_by(SourceKey.name))]


def revoke_key(database: Database, name: str) -> SourceKeyInfo:
    """Revoke the key of ``name`` (at once, in every API process); revoking twice changes nothing."""
    with database.write() as session:
        row = session.scalar(select(SourceKey).where(SourceKey.name == name).with_for_update())
        if row is None:
            raise UnknownSourceKey(f"no source key named {name!r}")
        row.revoked_at = row.revoked_at or datetime.now(UTC)
        return SourceKeyInfo.of(row)


class SourceKeyVerifier:
    """Finds the live key behind a presented one, on every request; notes its last use now and then."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._verified: LRU = LRU(10_000)  # key hash -> (the source, monotonic time it was read)
        self._last_noted: LRU = LRU(10_000)  # key name -> monotonic time its last use was written

    def verify(self, key: str, *, name: str | None = None) -> Source | None:
        """The key's source if ``key`` is a live key (named ``name``, when given), else None."""
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        hashed, now = key_hash(key), time.monotonic()
        kept = self._verified.get(hashed)
        if kept is not None and now - kept[1] < RECHECK_S:
            source = kept[0]
        else:
            source = self._live_key(hashed)
            if source is None:
                return None
            self._verified.put(hashed, (source, now))
        if name is not None and not secrets.compare_digest(name.encode("utf-8", "surrogatepass"), source.name.encode()):
            return None
        self._note_use(source.name)
        return source

    def forget(self) -> None:
        """Read every key again at its next use: after a revocation through this process, at once."""
        self._verified = LRU(self._verified.size)

    def _live_key(self, hashed: str) -> Source | None:
        """The source of the unrevoked key with this hash. Read on every ingestion request: on SQLite
        with the driver itself (a tenth of SQLAlchemy's cost, as ``serving/api/accounts.py`` measured)."""
        with self.database.read_connection() as connection:
            driver = self.database.sqlite_driver(connection)
            if driver is not None:
                row = next(iter(driver.execute(_RAW_LIVE_KEY, (hashed,)).fetchall()), None)  # the statement ends
                return Source(row[0], tuple(json.loads(row[1]))) if row is not None else None
            row = connection.execute(_LIVE_KEY, {"key_hash": hashed}).first()
        return Source(row.name, tuple(row.scopes)) if row is not None else None

    def _note_use(self, name: str) -> None:
        now = time.monotonic()
        noted = self._last_noted.get(name)
        if noted is not None and now - noted < LAST_USE_EVERY_S:
            return
        self._last_noted.put(name, now)
        # In the background: a request must not wait on the database's write lock for a bookkeeping note.
        threading.Thread(target=self._write_last_use, args=(name,), daemon=True).start()

    def _write_last_use(self, name: str) -> None:
        try:
            with self.database.write() as session:
                session.execute(update(SourceKey).where(SourceKey.name == name)
                                .values(last_used_at=datetime.now(UTC)))
        except SQLAlchemyError:
            log.warning("could not note the last use of source key %r", name, exc_info=True)


_KEYS = SourceKey.__table__
_LIVE_KEY = select(_KEYS.c.name, _KEYS.c.scopes).where(_KEYS.c.key_hash == bindparam("key_hash"),
                                                      _KEYS.c.revoked_at.is_(None))
_RAW_LIVE_KEY = "select name, scopes from source_keys where key_hash = ? and revoked_at is null"
