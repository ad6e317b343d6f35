"""Helpers shared by the serving tests."""

import copy

import pytest
from fastapi.testclient import TestClient

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
