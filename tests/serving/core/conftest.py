"""Fixtures of the core API tests: every test here runs on SQLite and on PostgreSQL.

PostgreSQL is the one on 127.0.0.1:5432 (user postgres, trust auth). The session creates a
database of its own there, migrates it once, and empties it before each test. Without a
reachable server these cases are skipped, or fail when ``LEARNLAKE_REQUIRE_SERVICES=1``.
"""

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from learnlake.settings import get_settings
from serving.core.enums import Role
from serving.core.migrate import upgrade
from serving.core.security import hash_password, issue_access_token
from serving.core.tables import Base, User
from serving.main import create_app
from tests.postgres import fresh_database

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    with fresh_database() as url:
        yield url


def _empty_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        connection.exec_driver_sql("INSERT INTO outbox_relay (id, last_batch) VALUES (1, 0)")
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An SQLite core database migrated once for the session: each test starts from a copy of it (migrating
    afresh took 0.2 s a test, over a minute across the few hundred cases here)."""
    path = tmp_path_factory.mktemp("core-template") / "core.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The core database URL, once SQLite in tmp_path and once the session's PostgreSQL, emptied."""
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), tmp_path / "core.db")
        return f"sqlite:///{tmp_path / 'core.db'}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@dataclass
class CoreApi:
    """A running app, and helpers to make signed-in users of each role."""

    client: TestClient
    settings: object
    users: dict = field(default_factory=dict)

    def user(self, role: Role | str = Role.LEARNER, name: str | None = None, *, login: bool = False) -> "SignedIn":
        """A new user of ``role`` (written straight to the database: only admins can make roles).

        With ``login`` they sign in through the API (and get a refresh token); otherwise their
        access token is minted directly, which skips argon2 and keeps big tests fast.
        """
        name = name or f"{role}-{len(self.users) + 1}"
        email = f"{name}@example.org"
        with self.client.app.state.database.write() as session:
            user = User(email=email, name=name.title(), role=str(role), password_hash=_password_hash())
            session.add(user)
        if login:
            tokens = self.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert tokens.status_code == 200, tokens.text
            access, refresh = tokens.json()["access_token"], tokens.json()["refresh_token"]
        else:
            access, refresh = issue_access_token(user.id, str(role), self.settings), None
        signed_in = SignedIn(user.id, email, str(role), access, refresh)
        self.users[name] = signed_in
        return signed_in

    def course(self, owner: "SignedIn", *, publish: bool = True, items: int = 4) -> dict:
        """A course of ``owner`` with one module of ``items`` lessons, published unless told otherwise."""
        course = self.client.post("/api/v1/courses", json={"title": "Statistics for people"},
                                  headers=owner.headers).json()
        module = self.client.post(f"/api/v1/courses/{course['id']}/modules", json={"title": "Basics"},
                                  headers=owner.headers).json()
        course["item_ids"] = [
            self.client.post(f"/api/v1/courses/{course['id']}/modules/{module['id']}/items",
                             json={"content_type": "lesson", "title": f"Lesson {i}", "skills": ["mean"]},
                             headers=owner.headers).json()["id"]
            for i in range(items)
        ]
        course["module_id"] = module["id"]
        if publish:
            assert self.client.post(f"/api/v1/courses/{course['id']}/publish", headers=owner.headers).is_success
        return course


@dataclass(frozen=True)
class SignedIn:
    id: str
    email: str
    role: str
    access_token: str
    refresh_token: str | None

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.access_token}"}


_HASH = {}


def _password_hash() -> str:
    # argon2 is slow on purpose; one hash of the shared test password serves every user.
    if "hash" not in _HASH:
        _HASH["hash"] = hash_password(PASSWORD)
    return _HASH["hash"]


def core_settings(learnlake_home, database_url: str, **overrides):
    return learnlake_home.model_copy(update={
        "database_url": database_url, "run_committer": False, "ingest_validation_workers": 0,
        "rate_limit_read": "100000/minute", "rate_limit_write": "100000/minute", "rate_limit_auth": "100000/minute",
        **overrides})


@pytest.fixture
def api(learnlake_home, database_url) -> CoreApi:
    settings = core_settings(learnlake_home, database_url)
    with TestClient(create_app(settings)) as client:
        yield CoreApi(client, settings)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_api(request, tmp_path_factory) -> CoreApi:
    """One app and core database (SQLite, then PostgreSQL) for a whole module, for walks whose every case
    makes users and courses of its own: a new app's first requests build FastAPI's route state (about 0.3 s),
    which over hundreds of cases cost minutes. The cases then also run among each other's data, as on a
    real server."""
    home = tmp_path_factory.mktemp("shared-api")
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), home / "core.db")
        url = f"sqlite:///{home / 'core.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        _empty_postgres(url)
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("LEARNLAKE_HOME", str(home / "learnlake"))
        get_settings.cache_clear()
        settings = core_settings(get_settings(), url)
        with TestClient(create_app(settings)) as client:
            yield CoreApi(client, settings)
    get_settings.cache_clear()
