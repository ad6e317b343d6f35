"""What every SQLite file of LearnLake needs alike (the core database, the LRS, the online store)."""

import sqlite3
import time


def truncate_wal(connection, attempts: int = 50) -> None:
    """Checkpoint a SQLite database in WAL mode and empty its log, waiting out readers that still hold
    an older snapshot: the log keeps page images from before a delete until then (an erasure needs
    them gone). ``connection`` is a ``sqlite3`` connection, or a pool's proxy of one."""
    for _ in range(attempts):
        busy, _frames, _copied = connection.execute("pragma wal_checkpoint(truncate)").fetchone()
        if not busy:
            return
        time.sleep(0.1)
    raise sqlite3.OperationalError(f"readers kept the write-ahead log busy for {attempts / 10:.0f} s")
