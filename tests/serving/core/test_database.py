"""The core database's plain read connection: each read sees the latest commit, on SQLite and PostgreSQL."""

import threading

from sqlalchemy import select

from serving.core.db import Database
from serving.core.migrate import upgrade
from serving.core.tables import User


def _name(database: Database, user_id: str) -> str | None:
    with database.read_connection() as connection:
        return connection.execute(select(User.name).where(User.id == user_id)).scalar()


def test_the_kept_read_connection_sees_every_commit(database_url):
    upgrade(database_url)
    database = Database(database_url)
    try:
        with database.write() as session:
            user = User(email="reader@example.org", name="Before")
            session.add(user)
        assert _name(database, user.id) == "Before"
        with database.write() as session:  # a writer is not kept waiting by the reader
            session.get(User, user.id).name = "After"
        assert _name(database, user.id) == "After", "no snapshot held between reads"
        seen = []
        other = threading.Thread(target=lambda: seen.append(_name(database, user.id)))
        other.start()
        other.join()
        assert seen == ["After"], "another thread reads on a connection of its own"
    finally:
        database.dispose()
