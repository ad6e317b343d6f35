"""Applies the core database's Alembic migrations: ``learnlake db upgrade``."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from learnlake.errors import ConfigurationError
from serving.core.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision`` (creating a SQLite file if needed)."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    database = Database(database_url)
    try:
        with database.read() as session:
            if not inspect(session.connection()).has_table("alembic_version"):
                return None
            return session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        database.dispose()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def ensure_current(database_url: str) -> None:
    """Migrate an embedded SQLite database; refuse to serve from a server database that is behind."""
    if database_url.startswith("sqlite"):
        upgrade(database_url)
        return
    current, head = current_revision(database_url), head_revision()
    if current != head:
        msg = f"the core database is at revision {current}, not {head}: run `learnlake db upgrade` first"
        raise ConfigurationError(msg)


@contextmanager
def migrated_database(database_url: str, *, upgrade_server: bool = True) -> Iterator[Database]:
    """The core database for one command: migrated first (a server database too, unless
    ``upgrade_server`` is false: then it must already be current), disposed afterwards."""
    if upgrade_server:
        upgrade(database_url)
    else:
        ensure_current(database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        database.dispose()
