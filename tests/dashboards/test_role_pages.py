"""The dashboards against a running API on a trained demo: sign-in, role pages for instructors and learners.

The API runs in its own process on loopback (``served_demo``, tests/dashboards/conftest.py); the
app is driven with Streamlit's AppTest in this process, and reaches the API over HTTP with the
user's token.
"""

import json
import re
from contextlib import contextmanager
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from benchmarks.harness import free_port
from learnlake.settings import get_settings
from serving.core.seed import DEMO_PASSWORD
from serving.core.tables import TutorTurn
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
APP = str(REPO_ROOT / "dashboards" / "app.py")


@pytest.fixture
def demo_environment(served_demo, monkeypatch):
    """This test's environment points at the served demo: its home (pages that read the lake or the
    warehouse) and its API. Pages cache their reads per process, and another test may have read
    another home."""
    st.cache_data.clear()
    monkeypatch.setenv("LEARNLAKE_HOME", str(served_demo["home"]))
    monkeypatch.setenv("LEARNLAKE_API_URL", served_demo["url"])
    get_settings.cache_clear()
    yield served_demo
    get_settings.cache_clear()


@pytest.fixture
def app(demo_environment):
    return AppTest.from_file(APP, default_timeout=60)


def _sign_in(at: AppTest, email: str, password: str = DEMO_PASSWORD) -> AppTest:
    at.run()
    at.text_input[0].input(email)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def test_a_wrong_password_is_refused_with_the_reason(app):
    at = _sign_in(app, "instructor001@learnlake.example", "not the password")
    assert not at.exception
    assert at.error and "Could not sign in" in at.error[0].value
    assert at.title[0].value == "Sign in to LearnLake"


def test_the_instructor_sees_their_cohort_report_and_the_at_risk_list(app, served_demo):
    at = _sign_in(app, served_demo["instructor"].email)
    assert not at.exception, at.exception
    assert at.title[0].value == "My courses"
    own = {c for c, teacher in served_demo["courses"].items() if teacher == served_demo["instructor"].id}
    assert at.selectbox[0].value in own and len(at.selectbox[0].options) == len(own)
    assert {m.label for m in at.metric} >= {"Enrolled", "Completed", "Completion rate"}
    at_risk = next(frame.value for frame in at.dataframe if "rule_flag" in frame.value.columns)
    assert len(at_risk) > 0 and {"risk", "reasons", "rule_flag"} <= set(at_risk.columns)
    assert list(at_risk["risk"]) == sorted(at_risk["risk"], reverse=True)
    # The tutor's section is there before anyone asks, saying what will show in it.
    assert "The tutor in this course" in [h.value for h in at.subheader]


def test_the_instructor_drills_down_into_a_learner(app, served_demo):
    at = _sign_in(app, served_demo["instructor"].email)
    # Without the at-risk list the page ends before "One learner": say what the page said instead.
    assert "One learner" in [h.value for h in at.subheader], [m.value for m in [*at.error, *at.info]]
    # The riskiest learner is shown first.
    assert len(at.selectbox(key="drill_down_learner").options) > 1
    assert {"Progress", "Active days", "Enrolled"} <= {m.label for m in at.metric}
    events = next(frame.value for frame in at.dataframe if "verb" in frame.value.columns)
    recommended = next(frame.value for frame in at.dataframe if "reason" in frame.value.columns)
    assert len(events) > 0 and len(recommended) > 0 and recommended["reason"].str.len().min() > 0
    assert not at.error


def test_query_parameters_do_not_open_another_instructors_course(app, served_demo):
    others = [c for c, teacher in served_demo["courses"].items() if teacher != served_demo["instructor"].id]
    at = _sign_in(app, served_demo["instructor"].email)
    for other in others:
        at.query_params["course_id"] = other
        at.run()
        assert not at.exception
        assert at.selectbox[0].value != other


def test_a_learner_sees_their_courses_next_steps_and_mastery_and_asks_the_tutor(app, served_demo):
    at = _sign_in(app, served_demo["learner"])
    assert not at.exception, at.exception
    assert at.title[0].value == "My learning"
    assert len(at.dataframe[0].value) > 0, "the learner's courses"
    subheaders = [h.value for h in at.subheader]
    assert subheaders == ["What to do next", "Due for review", "My mastery", "Practise", "Search the course material",
                          "Ask the tutor"]
    assert not at.error
    at.chat_input[0].set_value("What is a variable?").run()
    assert not at.exception, at.exception
    assert len(at.chat_message) == 2, "the question and the tutor's answer"
    answer = at.chat_message[1].markdown[0].value
    assert answer, "the tutor answered (from the material, or 'I don't know' with pointers)"
    # Thumbs down on the answer: the API keeps the rating with the turn.
    at.feedback[0].set_value(0).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    engine = sa.create_engine(get_settings().database_url)
    with engine.connect() as con:
        kept = con.execute(sa.select(TutorTurn.helpful, TutorTurn.rated_at)
                           .where(TutorTurn.question == "What is a variable?")).one()
    engine.dispose()
    assert kept.helpful is False and kept.rated_at is not None


def test_with_the_api_down_the_sign_in_says_where_it_looked(monkeypatch, learnlake_home):
    monkeypatch.setenv("LEARNLAKE_API_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    at = _sign_in(AppTest.from_file(APP, default_timeout=30), "anyone@example.org")
    assert not at.exception
    assert "does not answer" in at.error[0].value


def test_an_admin_opens_on_operations_with_the_lake_the_runs_and_the_checks(app):
    at = _sign_in(app, "admin@learnlake.example")
    assert not at.exception, at.exception
    assert at.title[0].value == "Operations"
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Events in the lake"].replace(",", "")) > 0 and metrics["Last event received (UTC)"] != "none yet"
    tables = next(d.value for d in at.dataframe if "size_mb" in d.value.columns)
    listed = dict(zip(tables["table"], tables["files"], strict=True))
    # Every table is listed, an empty one with no files (in the demo no instructor has graded a written answer).
    assert listed["bronze.events"] > 0 and all(files >= 0 for files in listed.values())
    assert sum(files > 0 for files in listed.values()) >= len(listed) - 1
    # Every blocking check passed; on the demo the drift check (a warning) may not: its last day's learners
    # are far from the training weeks.
    assert not at.error and any("checks passed" in shown.value for shown in [*at.success, *at.warning])
    checks = next(d.value for d in at.dataframe if "check" in d.value.columns)["passed"].tolist()
    assert checks == sorted(checks), "the failed checks come first"


def test_an_analyst_opens_on_course_activity(app):
    at = _sign_in(app, "analyst@learnlake.example")
    assert not at.exception, at.exception
    assert at.title[0].value == "Course activity"
    events = int(at.metric[2].value.replace(",", ""))
    assert events > 0
    # Courses are named by their titles, in the picker, the chart and the table (whose CSV keeps the ids too).
    daily = next(d.value for d in at.dataframe if "active_learners" in d.value.columns)
    assert list(daily.columns)[:2] == ["course", "activity_date"]
    assert "Python Foundations" in set(daily["course"]) and not set(daily["course"]) & set(daily["course_id"])
    assert "Python Foundations" in at.multiselect[0].options
    assert all(isinstance(day, date) for day in daily["activity_date"])
    chart = next(json.loads(c.proto.spec) for c in at.get("vega_lite_chart") if "Active learners" in c.proto.spec)
    assert chart["encoding"]["color"]["field"] == "course"
    by_type = next(d.value for d in at.dataframe if "content_type" in d.value.columns)
    assert {"video", "quiz", "question"} <= set(by_type["content_type"])
    assert by_type["events"].sum() < events, "enrolments are not activity by content type"
    first, _ = at.date_input[0].value
    at.date_input[0].set_value((first, first + timedelta(days=6))).run()
    assert not at.exception
    assert int(at.metric[1].value) <= 7 and int(at.metric[2].value.replace(",", "")) < events
    one_week = next(d.value for d in at.dataframe if "content_type" in d.value.columns)
    assert one_week["events"].sum() < by_type["events"].sum(), "the date range filters it too"
    assert len(at.get("download_button")) == len(at.dataframe), "every table can be downloaded"


def test_learning_analytics_show_the_funnel_cohorts_content_and_what_several_learners_typed(demo_environment):
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "learning_analytics.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    funnel = tables[("step", "learners")]
    assert funnel["learners"].iloc[0] >= funnel["learners"].iloc[-1] > 0
    assert "reached 50 %" in set(funnel["step"])
    # Cohorts are named by their Monday, in the heatmap too (a date there was printed as milliseconds).
    cohorts = next(d.value for d in at.dataframe if "cohort_week" in d.value.columns)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", week) for week in cohorts["cohort_week"])
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", week) for week in at.select_slider[0].value)
    searches = tables[("text", "times", "learners")]
    assert len(searches) > 0 and (searches["learners"] >= 3).all()
    assert len(at.get("download_button")) == len(at.dataframe), "every table can be downloaded"


def test_an_ml_engineer_sees_champion_and_challengers_freshness_and_drift(app):
    at = _sign_in(app, "ml@learnlake.example")
    assert not at.exception, at.exception
    assert at.title[0].value == "Models"
    versions = at.dataframe[0].value
    assert "champion" in set(versions["role"]) and any(c.startswith("input:") for c in versions.columns)
    freshness = at.dataframe[1].value
    assert "learner_recent_answers" in set(freshness["feature view"])
    drift = [m.value for m in at.success] + [m.value for m in at.warning]
    assert drift and drift[0].startswith("PSI "), "the live dropout scores are compared with the training ones"
    assert re.search(r"Mean risk now \d+%, about \d+% in training\.$", drift[0]), "which way they moved"
    # Where the recommended items sit against the simulated learners' true level: the top 3 beside
    # popularity's, and the reviews beside the new items they went before.
    level = [c.proto.spec for c in at.get("vega_lite_chart") if "True chance of success" in c.proto.spec]
    assert len(level) == 2, "the trained demo's recommender logged both comparisons"


def _recommendations_with_a_review():
    from dashboards.model_views import show_recommendations

    show_recommendations({"items": [
        {"rank": 1, "item_id": "i1", "title": "Loops",
         "reason": "review Loops first: expected success 0.69, against 0.27 on Lists", "score": 0.69, "review": True},
        {"rank": 2, "item_id": "i2", "title": "Lists", "reason": "next in the course", "score": 0.41, "review": False}]},
        frozenset({"i1"}))


def _only_due_reviews():
    from dashboards.model_views import show_recommendations

    show_recommendations({"items": [
        {"rank": 1, "item_id": "q6", "title": "Quiz 6.4: dictionaries", "score": 0.6, "review": True,
         "reason": "review dictionaries: you answered 1 of 4 right; last practised 45 days ago"},
        {"rank": 2, "item_id": "q2", "title": "Quiz 2.4: conditionals", "score": 0.35, "review": True,
         "reason": "review conditionals: you answered 8 of 12 right; last practised 55 days ago"}]},
        frozenset({"q6", "q2", "q3"}))


def test_a_review_is_marked_again_on_the_learner_page():
    at = AppTest.from_function(_recommendations_with_a_review).run()
    shown = [m.value for m in at.markdown]
    assert shown[0].startswith("**1. Loops (again)**") and "review Loops first" in shown[0]
    assert shown[1].startswith("**2. Lists**") and "(again)" not in shown[1]


def test_once_only_due_reviews_are_left_their_reasons_are_not_shown_twice():
    at = AppTest.from_function(_only_due_reviews).run()
    shown = [m.value for m in at.markdown]
    assert "Due for review" in shown[0]
    assert shown[1:] == ["**1. Quiz 6.4: dictionaries (again)**", "**2. Quiz 2.4: conditionals (again)**"]


def test_at_risk_changes_and_notifications_appear_on_the_pages_as_they_arrive(app, served_demo):
    from serving.core.db import Database
    from serving.core.enums import NotificationKind
    from serving.core.tables import Notification, User

    settings = get_settings()
    database = Database(settings.database_url)
    own = next(c for c, teacher in served_demo["courses"].items() if teacher == served_demo["instructor"].id)
    at = _sign_in(app, served_demo["instructor"].email)
    assert "New at-risk changes" not in [h.value for h in at.subheader]
    with database.write() as session:  # what the API's scoring of a new publication writes
        learner = session.query(User).filter(User.email == served_demo["learner"]).one()
        change = Notification(user_id=served_demo["instructor"].id, kind=NotificationKind.AT_RISK,
                              title="A learner is now at risk", body="Ada is now at risk (dropout risk 71%).",
                              data={"course_id": own, "user_id": "someone", "at_risk": True})
        nudge = Notification(user_id=learner.id, kind=NotificationKind.INACTIVE, title="Your courses are waiting",
                             body="You have not studied for 8 days.", data={})
        session.add_all([change, nudge])
    added = [change.id, nudge.id]
    try:
        at.run()  # the live section reads the inbox again on its own every few seconds; a run does the same
        assert "New at-risk changes" in [h.value for h in at.subheader]
        assert any("Ada is now at risk" in m.value for m in at.markdown)
        assert any("**1** now at risk, **0** no longer at risk" in m.value for m in at.markdown)
        learner_page = _sign_in(AppTest.from_file(APP, default_timeout=60), served_demo["learner"])
        assert any("Your courses are waiting" in box.value for box in learner_page.info)
        # A publication that moves many learners at once: counted, each change listed only when asked.
        with database.write() as session:
            many = [Notification(user_id=served_demo["instructor"].id, kind=NotificationKind.AT_RISK,
                                 title="A learner's risk changed", body=f"Learner {n} changed.",
                                 data={"course_id": own, "user_id": f"l{n}", "at_risk": n != 0}) for n in range(7)]
            session.add_all(many)
        added += [n.id for n in many]
        at.run()
        assert any("**7** now at risk, **1** no longer at risk" in m.value for m in at.markdown)
        listing = next(e for e in at.expander if e.label == "Each change")
        assert not listing.proto.expanded and any("Learner 3 changed." in m.value for m in listing.markdown)
    finally:
        with database.write() as session:
            session.query(Notification).filter(Notification.id.in_(added)).delete()
        database.dispose()


def _bearer(served_demo, email: str) -> dict:
    tokens = httpx.post(f"{served_demo['url']}/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


@contextmanager
def _written_item(served_demo, course_id: str, reference: str):
    """The course's first item takes written answers while the test runs; its answers go with it after."""
    from serving.core.db import Database
    from serving.core.tables import GradedAnswer, ItemAssessment

    admin = _bearer(served_demo, "admin@learnlake.example")
    modules = httpx.get(f"{served_demo['url']}/api/v1/courses/{course_id}/modules", headers=admin).json()
    item_id = modules[0]["items"][0]["id"]
    item = f"{served_demo['url']}/api/v1/courses/{course_id}/items/{item_id}"
    assert httpx.put(f"{item}/assessment", json={"reference": reference, "points": 1}, headers=admin).status_code == 200
    try:
        yield item
    finally:
        database = Database(get_settings().database_url)
        with database.write() as session:
            session.query(GradedAnswer).filter(GradedAnswer.item_id == item_id).delete()
            session.query(ItemAssessment).filter(ItemAssessment.item_id == item_id).delete()
        database.dispose()


def test_the_instructor_grades_a_written_answer_the_grader_was_unsure_of(app, served_demo):
    at = _sign_in(app, served_demo["instructor"].email)
    admin = _bearer(served_demo, "admin@learnlake.example")
    with _written_item(served_demo, at.selectbox[0].value, "42") as item:
        hedged = httpx.post(f"{item}/answers", json={"answer": "42 or maybe 24"}, headers=admin, timeout=30).json()
        assert hedged["status"] == "pending_review"
        at.run()
        assert "Written answers to check" in [h.value for h in at.subheader]
        assert any(t.value == "42 or maybe 24" for t in at.text)
        at.number_input(key=f"score:{hedged['answer_id']}").set_value(1)
        at.text_input(key=f"comment:{hedged['answer_id']}").input("Both were offered; 42 is right.")
        next(b for b in at.button if b.label == "Save the grade").click()
        at.run()
        assert not at.exception and "Written answers to check" not in [h.value for h in at.subheader]
        mine = httpx.get(f"{item}/answers", headers=admin).json()["items"][0]
        assert (mine["status"], mine["score"], mine["reviewer_comment"]) == ("reviewed", 1,
                                                                              "Both were offered; 42 is right.")


def test_a_learner_answers_a_written_question_and_reads_the_feedback(app, served_demo):
    at = _sign_in(app, served_demo["learner"])
    course = next(s for s in at.selectbox if s.label == "Course").value
    with _written_item(served_demo, course, "A variable is a name that refers to a value."):
        at.run()
        assert "Written questions" in [h.value for h in at.subheader]
        at.text_area[0].input("I think a variable is a name that refers to a value.")
        next(b for b in at.button if b.label == "Send my answer").click()
        at.run()
        assert not at.exception, at.exception
        assert any(m.value.startswith("1 of 1 points. Right") for m in at.success), [m.value for m in at.success]


def test_the_instructor_reads_the_practice_questions_and_withdraws_one_with_a_reason(app, served_demo):
    at = _sign_in(app, served_demo["instructor"].email)
    course = at.selectbox[0].value
    practice = f"{served_demo['url']}/api/v1/courses/{course}/practice"
    admin = _bearer(served_demo, "admin@learnlake.example")
    served = httpx.get(practice, params={"limit": 50}, headers=admin, timeout=30).json()["questions"]
    assert served, "the demo's passages give practice questions"
    first = served[0]
    assert any(e.label.startswith("Practice questions from the material") for e in at.expander)
    assert any(first["evidence"] in c.value and first["answer"] in c.value for c in at.caption), \
        "each question is shown with its answer and the sentence that settles it"
    at.text_input(key=f"reason:{first['question_id']}").input("the blank has two right answers")
    at.button(key=f"withdraw:{first['question_id']}").click()
    at.run()
    try:
        assert not at.exception, at.exception
        still = httpx.get(practice, params={"limit": 50}, headers=admin, timeout=30).json()["questions"]
        assert first["question_id"] not in {q["question_id"] for q in still}
        withdrawn = httpx.get(practice, params={"limit": 50, "withdrawn": "true"}, headers=admin,
                              timeout=30).json()["questions"]
        assert [q["withdrawal_reason"] for q in withdrawn if q["question_id"] == first["question_id"]] == \
            ["the blank has two right answers"], "the reason typed on the page is stored with the withdrawal"
        assert any(c.value == "Withdrawn: the blank has two right answers" for c in at.caption)
        at.button(key=f"restore:{first['question_id']}").click()
        at.run()
        assert not at.exception, at.exception
    finally:
        httpx.delete(f"{practice}/{first['question_id']}/withdrawal", headers=admin, timeout=30)
    back = httpx.get(practice, params={"limit": 50}, headers=admin, timeout=30).json()["questions"]
    assert first["question_id"] in {q["question_id"] for q in back}


def test_the_instructor_sees_the_questions_the_tutor_could_not_help_with(app, served_demo):
    at = _sign_in(app, served_demo["instructor"].email)
    course = at.selectbox[0].value
    admin = _bearer(served_demo, "admin@learnlake.example")
    question = "Who won the football world cup in 1998?"
    asked = httpx.post(f"{served_demo['url']}/api/v1/tutor/ask", json={"course_id": course, "question": question},
                       headers=admin, timeout=60)
    assert asked.status_code == 200 and not asked.json()["grounded"], asked.text
    at.run()
    assert not at.exception, at.exception
    assert "The tutor in this course" in [h.value for h in at.subheader]
    assert {"Questions asked", "Answered from the material", "Rated helpful"} <= {m.label for m in at.metric}
    listed = next(frame.value for frame in at.dataframe if "from the material" in frame.value.columns)
    assert question in set(listed["question"])
