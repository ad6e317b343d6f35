"""A fresh PostgreSQL database for tests, on the server at 127.0.0.1:5432 (user postgres, trust auth)."""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from benchmarks.harness import POSTGRES_ADMIN_URL, scratch_postgres
from tests.conftest import unavailable


@contextmanager
def fresh_database(*, core: bool = True) -> Iterator[str]:
    """A new database, dropped afterwards: the core database migrated to head, or (``core=False``) an empty one
    for another service. Without a reachable server the test is skipped, or fails when
    ``LEARNLAKE_REQUIRE_SERVICES=1``."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL)
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}")
    finally:
        admin.dispose()
    with scratch_postgres(core=core) as url:
        yield url
