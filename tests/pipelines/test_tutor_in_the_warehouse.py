"""Questions to the tutor and ratings of its answers, through the API, the lake, dbt and the published
warehouse, to the cohort report, the analysts' page and the instructor's: on a copy of the small demo, served
in process (and then by an API process, for the instructor's page, which reads the API over HTTP)."""

import shutil

import duckdb
import pytest
import streamlit as st
from fastapi.testclient import TestClient
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from benchmarks.harness import free_port, start_api
from lake.committer import Committer
from learnlake.settings import get_settings
from pipelines.defs.transforms.project import dbt_build
from pipelines.defs.transforms.publish import publish_warehouse
from serving.core.enums import Role
from serving.core.security import issue_access_token
from serving.core.seed import DEMO_PASSWORD
from serving.core.tables import Course, Enrollment, User
from serving.main import create_app
from tests.conftest import REPO_ROOT, use_home

pytestmark = pytest.mark.integration
QUESTIONS = ("What is a loop?", "How do I print a value?", "What does a function return?")


def test_the_cohort_report_counts_each_answer_once_by_its_latest_rating(small_demo, tmp_path, monkeypatch):
    source, _ = small_demo
    home = tmp_path / "learnlake"
    shutil.copytree(source.home, home)
    use_home(monkeypatch, source.model_copy(update={"home": home}))
    settings = get_settings().model_copy(update={"run_committer": False})
    with TestClient(create_app(settings)) as client:
        database = client.app.state.database
        with database.read() as session:  # a course of the instructor who can sign in to the pages
            instructor_id, instructor_email = session.execute(select(User.id, User.email).where(
                User.role == Role.INSTRUCTOR, User.password_hash.is_not(None))).first()
            course_id = session.scalar(select(Course.id).where(Course.instructor_id == instructor_id)
                                       .order_by(Course.id))
            first, second = session.scalars(select(Enrollment.user_id).where(Enrollment.course_id == course_id)
                                            .order_by(Enrollment.user_id).limit(2)).all()

        def headers(user_id: str, role: str) -> dict:
            return {"Authorization": f"Bearer {issue_access_token(user_id, role, settings)}"}

        replies = []
        for who, question in zip((first, first, second), QUESTIONS, strict=True):
            reply = client.post("/api/v1/tutor/ask", headers=headers(who, "learner"),
                                json={"course_id": course_id, "question": question})
            assert reply.status_code == 200, reply.text
            replies.append((who, reply.json()))
        # The first answer: helpful, then not (counts once, as not); the second helpful; the third helpful, then
        # taken back (counts as none).
        for (who, reply), ratings in zip(replies, ((True, False), (True,), (True, None)), strict=True):
            for helpful in ratings:
                rated = client.put(f"/api/v1/tutor/turns/{reply['turn_id']}/rating", headers=headers(who, "learner"),
                                   json={"helpful": helpful})
                assert rated.status_code == 200, rated.text
        Committer(client.app.state.landing, settings).flush()
        dbt_build(settings)
        publish_warehouse(settings.warehouse_path, settings.published_warehouse_path)
        report = client.get(f"/api/v1/analytics/courses/{course_id}/cohort-report",
                            headers=headers(instructor_id, "instructor"))
    assert report.status_code == 200, report.text
    weeks = report.json()["tutor_by_week"]
    grounded = sum(reply["grounded"] for _, reply in replies)
    assert {column: sum(week[column] for week in weeks) for column in (
        "questions", "answered_from_material", "ratings", "rated_helpful")} == {
        "questions": 3, "answered_from_material": grounded, "ratings": 2, "rated_helpful": 1}
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        askers = con.execute("select sum(askers) from marts.fct_course_tutor_weekly where course_id = $1",
                             [course_id]).fetchone()[0]
        others = con.execute("select count(*) from marts.fct_course_tutor_weekly where course_id <> $1",
                             [course_id]).fetchone()[0]
    assert askers == 2 and others == 0
    # The analysts' page: the same weeks, charted, and as a table to download. (Pages keep their reads per
    # process, and another demo's course ids may be these.)
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "learning_analytics.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    shown = next(d.value for d in at.dataframe if "rated_helpful" in d.value.columns)
    assert (shown["questions"].sum(), shown["ratings"].sum(), shown["rated_helpful"].sum()) == (3, 2, 1)
    assert any("Answers rated" in c.proto.spec for c in at.get("vega_lite_chart"))
    # The instructor's page: the course's weeks charted in its tutor section.
    port = free_port()
    api = start_api(home, port, env={"LEARNLAKE_WRITER_ID": "tutor-warehouse-test"})
    try:
        monkeypatch.setenv("LEARNLAKE_API_URL", f"http://127.0.0.1:{port}")
        get_settings.cache_clear()
        at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "app.py"), default_timeout=60).run()
        at.text_input[0].input(instructor_email)
        at.text_input[1].input(DEMO_PASSWORD)
        at.button[0].click()
        at.run()
        next(s for s in at.selectbox if s.label == "Course").set_value(course_id).run()
        assert not at.exception, at.exception
        assert "The tutor in this course" in [h.value for h in at.subheader]
        assert any("Answers rated" in c.proto.spec for c in at.get("vega_lite_chart"))
        # The sections the two rated answers cited (the one taken back is not rated), each answer counted once.
        sections = next(frame.value for frame in at.dataframe if "rated_unhelpful" in frame.value.columns)
        assert sections["rated_helpful"].sum() >= 1 and sections["rated_unhelpful"].sum() >= 1
    finally:
        api.terminate()
        api.wait(60)
        get_settings.cache_clear()  # no later test sees this home's settings
