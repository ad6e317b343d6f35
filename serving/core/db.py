"""Engines and sessions for the core database: SQLite by default, PostgreSQL by URL.

SQLite allows one writer at a time. A write transaction that starts by reading (enrol:
"is there an enrollment?", then insert) would fail with "database is locked" when two
such transactions upgrade their read locks at once, so SQLite write sessions begin with
``BEGIN IMMEDIATE``: writers queue on the busy timeout instead. Read sessions use a
separate engine with a plain ``BEGIN`` so they never wait behind writers (WAL mode).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30
SQLITE_POOL_SIZE = 40


class Database:
    """The core database: a session for reads, and one for writes that takes SQLite's write lock first."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.write_engine = _engine(url, immediate=True)
        # On PostgreSQL one pool serves both; SQLite readers must not queue behind writers.
        self.read_engine = _engine(url, immediate=False) if self.is_sqlite else self.write_engine
        self._writes = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reads = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work commits at the end of the block, or rolls back on an error."""
        with self._writes() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reads() as session:
            yield session

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def _engine(url: str, *, immediate: bool) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)
    # A pool as deep as the server's thread pool (40): past SQLAlchemy's default 5 + 10, every
    # request under load opened and closed a connection of its own, PRAGMAs and all.
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
                           pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below drive transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
