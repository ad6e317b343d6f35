"""Helpers shared by the serving tests."""

import copy

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from serving.core.enums import Role
from serving.core.security import issue_access_token
from serving.core.source_keys import ALL_SCOPES, create_key
from serving.main import create_app


def source_key(app, name: str = "test-source", scopes=ALL_SCOPES) -> str:
    """A new source key in ``app``'s core database (the app must be started: its database migrated)."""
    return create_key(app.state.database, name, scopes)[1]


# -- the learning record store: a client with a source key, and a statement to send ----------------

V = {"X-Experience-API-Version": "1.0.3"}
ADA = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.org"}
LESSON = "http://example.org/course/1/lesson/2"
COURSE = "http://example.org/course/1"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def statement(**changes) -> dict:
    base = {
        "actor": ADA,
        "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
        "object": {"id": LESSON, "definition": {"type": "http://adlnet.gov/expapi/activities/lesson",
                                                "name": {"en-US": "Lesson 2"}}},
        "result": {"score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10}, "success": True, "duration": "PT5M30S"},
        "context": {"registration": "6f1c4a1a-1111-4222-8333-944455556666",
                    "contextActivities": {"grouping": [{"id": COURSE}]}},
        "timestamp": "2026-09-07T10:15:00.000Z",
    }
    base.update(changes)
    return copy.deepcopy({k: v for k, v in base.items() if v is not None})  # a test may change it in place


@pytest.fixture
def lrs(learnlake_home):
    settings = learnlake_home.model_copy(update={"run_committer": False, "ingest_validation_workers": 0})
    with TestClient(create_app(settings), headers=V) as client:
        client.credentials = ("test-lrs", source_key(client.app, "test-lrs"))
        client.auth = client.credentials
        yield client


@pytest.fixture(scope="package")
def demo_app(trained_demo):
    """The API on the trained demo (no committer: what it lands stays in its landing log), with a bearer
    header for an instructor of a course, a learner of it, another instructor and an admin."""
    settings = trained_demo.model_copy(update={"run_committer": False, "ingest_validation_workers": 0})
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as con:
        course, teacher = con.execute(sa.text("select id, instructor_id from courses order by id")).first()
        learner = con.execute(sa.text("select user_id from enrollments where course_id = :c and status <> 'unenrolled' "
                                      "order by user_id"), {"c": course}).first()[0]
        other_teacher = con.execute(sa.text("select id from users where role = 'instructor' and id <> :t order by id"),
                                    {"t": teacher}).first()[0]
        outsider = con.execute(sa.text("select id from users where role = 'learner' and id not in "
                                       "(select user_id from enrollments where course_id = :c) order by id"),
                               {"c": course}).first()[0]
        admin = con.execute(sa.text("select id from users where role = 'admin'")).scalar()
    engine.dispose()
    people = {"teacher": (teacher, Role.INSTRUCTOR), "learner": (learner, Role.LEARNER),
              "other_teacher": (other_teacher, Role.INSTRUCTOR), "outsider": (outsider, Role.LEARNER),
              "admin": (admin, Role.ADMIN)}
    with TestClient(create_app(settings)) as client:
        yield {"client": client, "course": course, "users": {who: user for who, (user, _) in people.items()},
               "headers": {who: {"Authorization": f"Bearer {issue_access_token(user, str(role), settings)}"}
                           for who, (user, role) in people.items()}}
