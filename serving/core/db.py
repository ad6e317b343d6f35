"""Engines and sessions for the core database: SQLite by default, PostgreSQL by URL.

SQLite allows one writer at a time. A write transaction that starts by reading (enrol:
"is there an enrollment?", then insert) would fail with "database is locked" when two
such transactions upgrade their read locks at once, so SQLite write sessions begin with
``BEGIN IMMEDIATE``: writers queue on the busy timeout instead. Read sessions use a
separate engine with a plain ``BEGIN`` so they never wait behind writers (WAL mode).
"""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from learnlake.sqlite import truncate_wal

SQLITE_BUSY_TIMEOUT_S = 30
SQLITE_POOL_SIZE = 40
SINGLE_STATEMENT_READS = "learnlake_single_statement_reads"  # an execution option: no BEGIN on SQLite


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
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work commits at the end of the block, or rolls back on an error."""
        with self._writes() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reads() as session:
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A plain connection for single-statement reads on every request (the account behind a
        token, the course asked for); each statement sees the latest commit on its own.

        On SQLite each thread keeps one such connection, outside any transaction (no ``BEGIN``):
        an ORM session cost five times the read itself (215 against 42 us), and opening and
        closing a connection half again. PostgreSQL takes one from the pool each time, checked
        by the pool's ping, so that a restarted server costs no request.
        """
        if not self.is_sqlite:
            with self.read_engine.connect() as connection:
                yield connection
            return
        connection = getattr(self._local, "reader", None)
        if connection is None or connection.closed or connection.invalidated:
            connection = self._local.reader = self.read_engine.connect().execution_options(
                **{SINGLE_STATEMENT_READS: True})
        try:
            yield connection
        finally:
            connection.rollback()  # ends SQLAlchemy's transaction object; SQLite was sent no BEGIN

    def sqlite_driver(self, connection: Connection) -> sqlite3.Connection | None:
        """On SQLite, the driver's own connection under ``connection`` (from ``read_connection``);
        None on PostgreSQL. For the few reads on every request, where SQLAlchemy's execution of a
        statement costs four times the read itself: see ``serving/api/accounts.py``."""
        return connection.connection.driver_connection if self.is_sqlite else None

    def forget_deleted(self) -> None:
        """On SQLite, move the write-ahead log into the file and empty it: the log still holds page images
        from before a delete (``secure_delete`` clears the pages themselves). A no-op on PostgreSQL, whose
        deleted rows are the server's to vacuum."""
        if self.is_sqlite:
            connection = self.write_engine.raw_connection()  # no BEGIN: a checkpoint cannot run inside one
            try:
                truncate_wal(connection)
            finally:
                connection.close()

    def dispose(self) -> None:
        if (reader := getattr(self._local, "reader", None)) is not None:
            reader.close()  # this thread's; other threads' close with them
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
        # Deleted rows are overwritten, not left in free pages: an erased person must not stay in the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        if not connection.get_execution_options().get(SINGLE_STATEMENT_READS):
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
