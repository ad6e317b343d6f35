"""Retention: what is older than its setting goes, from the lake, the core database and the landing logs;
the rest stays; the run is recorded and shown on the Operations page."""

import uuid
from datetime import UTC, datetime, timedelta

import polars as pl
import streamlit as st
from streamlit.testing.v1 import AppTest

from lake import readers, writers
from lake.event_rows import rows_to_table
from lake.landing import LandingLog
from lake.retention_log import retention_runs
from pipelines.defs.privacy.retention import apply_retention
from serving.core.db import Database
from serving.core.migrate import upgrade
from serving.core.tables import (
    AccessRecord,
    ContentItem,
    Course,
    EmailDelivery,
    EventClaim,
    GradedAnswer,
    Module,
    Notification,
    TutorTurn,
    User,
)
from tests.conftest import REPO_ROOT

NOW = datetime(2027, 6, 1, tzinfo=UTC)


def _event(when: datetime, verb: str = "viewed") -> dict:
    return {"event_id": str(uuid.uuid4()), "learner_id": "lrn_a", "verb": verb, "object_type": "lesson",
            "object_id": "l", "course_id": "c", "module_id": None, "result_score": None, "result_success": None,
            "result_completion": None, "result_duration_s": None,
            "result_response": "what is a loop?" if verb == "asked" else None, "context_platform": None,
            "context_session_id": None, "context_registration": None, "timestamp": when, "received_at": when,
            "event_date": when.date(), "schema_version": 1, "source": "api", "payload": "{}", "source_key": None}


def test_what_is_past_retention_goes_and_the_rest_stays(learnlake_home):
    settings = learnlake_home.model_copy(update={"retention_events_days": 365, "retention_tutor_days": 30,
                                                 "retention_audit_days": 90, "retention_notifications_days": 30,
                                                 "landing_keep_s": 3600})
    old, recent = NOW - timedelta(days=400), NOW - timedelta(days=10)
    writers.append("bronze.events", rows_to_table([_event(old), _event(old), _event(recent),
                                                   _event(NOW - timedelta(days=60), "asked"),
                                                   _event(recent, "asked")]), settings=settings)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    with database.write() as session:
        user = User(email="a@example.org", name="A")
        session.add(user)
        session.flush()
        course = Course(title="C", instructor_id=user.id)
        session.add(course)
        session.flush()
        module = Module(course_id=course.id, position=0, title="M")
        session.add(module)
        session.flush()
        item = ContentItem(module_id=module.id, course_id=course.id, position=0, content_type="quiz", title="Q")
        session.add(item)
        session.flush()
        for when in (old, recent):  # written answers are kept as long as the events
            session.add(GradedAnswer(user_id=user.id, course_id=course.id, item_id=item.id, answer="a", score=0,
                                     points=2, confidence=0.9, feedback={}, status="graded", created_at=when))
        for days in (60, 5):
            session.add(TutorTurn(conversation_id="c1", user_id=user.id, course_id=course.id, question="q",
                                  answer="a", grounded=True, citations=[], created_at=NOW - timedelta(days=days)))
            session.add(AccessRecord(reader_id="r", reader_role="admin", action="user_read", resource="/x",
                                     learner_id=user.id, at=NOW - timedelta(days=days * 2)))
            session.add(Notification(user_id=user.id, kind="inactive", title="t", body="b", data={},
                                     created_at=NOW - timedelta(days=days)))
            session.add(EmailDelivery(user_id=user.id, kind="inactive", day=f"day-{days}",
                                      sent_at=NOW - timedelta(days=days)))
        for hours in (2, 0.5):  # the landing logs keep replays for an hour here
            session.add(EventClaim(event_id=f"e{hours}", writer_id="api-0", claimed_at=NOW - timedelta(hours=hours)))
    landing = LandingLog(settings.landing_dir / "gone-api", "gone-api")  # a log whose API is not running
    landing.append(["e1"], b"[]", source="api")
    landing.close()

    entry = apply_retention(settings, now=NOW)

    removed = entry["removed"]
    assert removed["bronze.events"]["rows"] == 2
    assert removed["tutor questions in bronze.events"]["rows"] == 1
    assert removed["tutor_turns"]["rows"] == 1 and removed["access_log"]["rows"] == 1
    assert removed["notifications"]["rows"] == 1 and removed["email_deliveries"]["rows"] == 1
    assert removed["event_claims"]["rows"] == 1 and removed["graded_answers"]["rows"] == 1
    left = readers.read_table("bronze.events", settings=settings)
    assert left.height == 2 and left.filter(pl.col("verb") == "asked")["timestamp"].min() > NOW - timedelta(days=30)
    with database.read() as session:
        assert session.query(TutorTurn).count() == 1 and session.query(AccessRecord).count() == 1
        assert session.query(Notification).count() == 1 and session.query(EmailDelivery).count() == 1
        assert [claim.event_id for claim in session.query(EventClaim)] == ["e0.5"]
        assert session.query(GradedAnswer).count() == 1
    database.dispose()
    assert retention_runs(settings)[0]["at"] == NOW.isoformat()


def test_the_operations_page_shows_what_retention_removed(learnlake_home):
    apply_retention(learnlake_home.model_copy(update={"retention_events_days": 30}), now=NOW)
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "operations.py"), default_timeout=30).run()
    assert not at.exception
    shown = next(d.value for d in at.dataframe if "older_than" in d.value.columns)
    assert "bronze.events" in set(shown["store"]) and "tutor_turns" in set(shown["store"])
