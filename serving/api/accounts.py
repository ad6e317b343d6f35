"""The account behind an access token, read on every request, and kept cheap.

Every request reads the account again, so that a changed role or a disabled account applies
at once. On SQLite the row is read raw with the driver and compared with the raw row the kept
``User`` was built from: the same row gives the same ``User``, any change a fresh one. A Core
read and an ORM object cost five times the raw read (``bench serve``); PostgreSQL takes the
Core read each time.

The kept ``User`` objects belong to no session and are shared between requests: routes read
them, and load their own to change an account (``users.update_me`` does).
"""

from sqlalchemy import bindparam, select

from learnlake.caches import LRU
from serving.core.db import Database
from serving.core.tables import User

ACCOUNTS_KEPT = 100_000
_ACCOUNT = select(User.__table__).where(User.__table__.c.id == bindparam("user_id"))
_RAW_ACCOUNT = "select * from users where id = ?"


class AccountReader:
    def __init__(self, database: Database, size: int = ACCOUNTS_KEPT) -> None:
        self.database = database
        self._built = LRU(size)  # user id -> (the raw row, the User built from it)

    def get(self, user_id: str) -> User | None:
        with self.database.read_connection() as connection:
            driver = self.database.sqlite_driver(connection)
            if driver is None:
                row = connection.execute(_ACCOUNT, {"user_id": user_id}).first()
                return User(**row._mapping) if row is not None else None
            # fetchall, not fetchone: a statement left unfinished holds a read snapshot that keeps
            # SQLite from emptying its write-ahead log (which an erasure needs).
            raw = next(iter(driver.execute(_RAW_ACCOUNT, (user_id,)).fetchall()), None)
            if raw is None:
                return None
            kept = self._built.get(user_id)
            if kept is not None and kept[0] == raw:
                return kept[1]
            row = connection.execute(_ACCOUNT, {"user_id": user_id}).first()
        user = User(**row._mapping) if row is not None else None
        if user is not None:
            self._built.put(user_id, (raw, user))
        return user
