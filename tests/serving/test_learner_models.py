"""Mastery, recommendations, at-risk and analytics endpoints on a trained demo platform.

The demo (simulated learners seeded into the core database, the pipeline run end to end)
registers real champions in MLflow on SQLite and fills the online store; the app reads
them as it would in production. Each role is tried on each endpoint.
"""

import json
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from typer.testing import CliRunner

from feature_store.repository import learner_course_history
from lake.warehouse import query
from learnlake.cli import app as cli
from models import names
from models.tracking import CHAMPION
from serving.core.enums import EnrollmentStatus, Role
from serving.core.security import issue_access_token
from serving.core.tables import Enrollment, User
from serving.main import create_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(trained_demo):
    settings = trained_demo.model_copy(update={"champion_refresh_s": 0.0, "run_committer": False,
                                           "ingest_validation_workers": 0})
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as con:
        courses = con.execute(sa.text("select id, instructor_id from courses order by id")).all()
        # An active learner of the first course, and a learner of another course only.
        active = con.execute(sa.text(
            "select user_id from enrollments where course_id = :c and status = 'active' order by user_id"),
            {"c": courses[0].id}).first()[0]
        outsider = con.execute(sa.text(
            "select user_id from enrollments where course_id <> :c and user_id not in "
            "(select user_id from enrollments where course_id = :c) order by user_id"), {"c": courses[0].id}).first()[0]
        admin = con.execute(sa.text("select id from users where role = 'admin'")).scalar()
        analyst = con.execute(sa.text("select id from users where role = 'analyst'")).scalar()
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        with client.app.state.database.write() as session:
            other_teacher = User(email="another.teacher@example.org", name="Another Teacher", role=Role.INSTRUCTOR)
            session.add(other_teacher)
        yield {"client": client, "settings": settings, "course": courses[0].id, "teacher": courses[0].instructor_id,
               "other_teacher": other_teacher.id, "learner": active, "outsider": outsider,
               "admin": admin, "analyst": analyst}


def _get(platform, who: str, role: Role, url: str, **params):
    token = issue_access_token(platform[who], str(role), platform["settings"])
    return platform["client"].get(url, params=params, headers={"Authorization": f"Bearer {token}"})


def test_a_learner_sees_their_mastery_weakest_first(platform):
    response = _get(platform, "learner", Role.LEARNER, f"/api/v1/learners/{platform['learner']}/mastery",
                    course_id=platform["course"])
    assert response.status_code == 200, response.text
    body = response.json()
    skills = [s["mastery"] for s in body["skills"]]
    assert skills == sorted(skills) and all(0 < m < 1 for m in skills)
    assert body["model_version"] and sum(s["recent_answers"] for s in body["skills"]) > 0


def test_the_known_learners_mastery_is_traced_before_they_ask(platform):
    models = platform["client"].app.state.learner_models
    learner = platform["client"].app.state.pseudonyms.learner_id(platform["learner"])
    assert models.warm_mastery() > 0
    ready = models.recommendations(learner, platform["course"], 5, trace=False)
    assert ready is not None and ready.mastery_model_version, "the request finds the mastery in the cache"


def test_a_ranked_list_is_kept_until_the_learners_history_changes(platform):
    models = platform["client"].app.state.learner_models
    learner = platform["client"].app.state.pseudonyms.learner_id(platform["learner"])
    first = models.recommendations(learner, platform["course"], 5)
    assert models.recommendations(learner, platform["course"], 5) is first, "nothing changed: the kept list"
    assert models.recommendations(learner, platform["course"], 3).items == first.items[:3], "k is part of the key"
    # The online store is rewritten (as the online_features asset does) with the top new item opened.
    store, view = models.store, learner_course_history.name
    key = f"{learner}|{platform['course']}"
    rows = {k: store.read(view, k) for k in store.keys(view)}
    top_new = next(i.item_id for i in first.items if not i.review)
    opened = {**rows[key], "items_opened": [*rows[key]["items_opened"], top_new],
              "feature_timestamp": "2099-01-01T00:00:00+00:00"}
    store.replace(view, {**rows, key: opened})
    try:
        after = models.recommendations(learner, platform["course"], 5)
        assert top_new not in [i.item_id for i in after.items if not i.review], "a new history: a new ranking"
        assert after.items_opened == first.items_opened + 1
    finally:
        store.replace(view, rows)


def test_recommendations_carry_reasons_and_mastery_shapes_them(platform):
    response = _get(platform, "learner", Role.LEARNER, f"/api/v1/learners/{platform['learner']}/recommendations",
                    course_id=platform["course"], k=5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body["cold_start"] and body["mastery_model_version"] is not None
    assert 0 < len(body["items"]) <= 5 and [i["rank"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
    assert all(i["reason"] and i["title"] for i in body["items"])
    assert any("mastery" in i["reason"] for i in body["items"]), "the knowledge-tracing mastery reaches the reasons"
    practised = [i["reason"] for i in body["items"] if i["reason"].startswith("practise ")]
    assert practised and all(re.match(r"practise [a-z][a-z ]+: mastery", r) for r in practised), "skills by name"


def test_a_learner_the_next_item_looks_too_hard_for_is_given_a_review_first(platform):
    engine = sa.create_engine(platform["settings"].database_url)
    with engine.connect() as con:
        learners = con.execute(sa.text("select user_id from enrollments where course_id = :c order by user_id"),
                               {"c": platform["course"]}).scalars().all()
    engine.dispose()
    reviewed = []
    for learner in learners:
        token = issue_access_token(learner, str(Role.LEARNER), platform["settings"])
        body = platform["client"].get(f"/api/v1/learners/{learner}/recommendations", params={
            "course_id": platform["course"], "k": 5}, headers={"Authorization": f"Bearer {token}"}).json()
        if body["items"] and all(i["review"] and ": you answered" in i["reason"] for i in body["items"]):
            continue  # every item opened: the skills due for review (the test above)
        assert [i["rank"] for i in body["items"] if i["review"]] in ([], [1]), "at most one review, and first"
        if body["items"] and body["items"][0]["review"]:
            reviewed.append(body["items"][0])
    assert reviewed, "some learners of the demo struggle"
    assert all(i["reason"].startswith(f"review {i['title']} first: expected success") for i in reviewed)
    assert len(reviewed) < len(learners) / 2


def test_a_learner_who_opened_every_item_is_given_reviews_with_reasons(platform):
    models = platform["client"].app.state.learner_models
    learner = platform["client"].app.state.pseudonyms.learner_id(platform["learner"])
    course_items = models.next_items.get().model.recommender.by_course[platform["course"]]
    # The online store is rewritten (as the online_features asset does) with every item of the course opened.
    store, view = models.store, learner_course_history.name
    key = f"{learner}|{platform['course']}"
    rows = {k: store.read(view, k) for k in store.keys(view)}
    store.replace(view, {**rows, key: {**rows[key], "items_opened": [i.item_id for i in course_items],
                                       "feature_timestamp": "2099-01-01T00:00:00+00:00"}})
    try:
        response = _get(platform, "learner", Role.LEARNER, f"/api/v1/learners/{platform['learner']}/recommendations",
                        course_id=platform["course"], k=5)
    finally:
        store.replace(view, rows)
    items = response.json()["items"]
    due = [r for r in _get(platform, "learner", Role.LEARNER, f"/api/v1/learners/{platform['learner']}/reviews",
                           course_id=platform["course"]).json()["reviews"] if r["due"]]
    assert due, "the demo's learner has skills due for review"
    assert response.status_code == 200 and items and all(i["review"] for i in items)
    assert {i["item_id"] for i in items} <= {r["item_id"] for r in due}, "only what is due"
    assert len({i["item_id"] for i in items}) == len(items)
    # Named skills: the simulator names them and the course's metadata carries the names.
    assert all(re.match(r"review [a-z][a-z ]+: you answered \d+ of \d+ right; last practised", i["reason"])
               for i in items), items
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True), "weakest first"


def test_reviews_say_what_is_due_when_and_why(platform):
    response = _get(platform, "learner", Role.LEARNER, f"/api/v1/learners/{platform['learner']}/reviews",
                    course_id=platform["course"])
    assert response.status_code == 200, response.text
    reviews = response.json()["reviews"]
    assert reviews and all(r["skill_name"] != r["skill_id"] and 0 < r["chance"] < 1 for r in reviews)
    due = [r["due"] for r in reviews]
    assert due == sorted(due, reverse=True), "due skills first"
    for r in reviews:
        assert r["right"] <= r["answers"] and r["last_practised_at"] and r["item_id"] and r["item_title"]
        assert r["reason"].startswith(f"you answered {r['right']} of {r['answers']} right")
        assert (r["due_at"] is None) or (r["due_at"] >= r["last_practised_at"])
        assert not r["due"] or r["chance"] < 0.7 or r["due_at"] <= response.json()["as_of"]
    url = f"/api/v1/learners/{platform['learner']}/reviews"
    assert _get(platform, "learner", Role.LEARNER, url).status_code == 422, "a course is required"
    assert _get(platform, "learner", Role.LEARNER, url, course_id="no-such-course").status_code == 404
    assert _get(platform, "learner", Role.LEARNER, url, course_id="x" * 5000).status_code in (404, 414, 422)
    assert platform["client"].get(url, params={"course_id": platform["course"]}).status_code == 401


def test_recommendations_answer_alike_on_the_direct_path_and_fastapis(platform):
    url = f"/api/v1/learners/{platform['learner']}/recommendations"
    plain = _get(platform, "learner", Role.LEARNER, url, course_id=platform["course"], k=5)
    padded = _get(platform, "learner", Role.LEARNER, url, course_id=platform["course"], k="05")  # FastAPI's: 5
    assert plain.status_code == padded.status_code == 200
    assert plain.json() == padded.json() and plain.headers["content-type"] == padded.headers["content-type"]
    assert _get(platform, "learner", Role.LEARNER, url, course_id=platform["course"], k=100).status_code == 200
    for k in ("0", "101", "five", "5.5"):
        response = _get(platform, "learner", Role.LEARNER, url, course_id=platform["course"], k=k)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "k"], k
    assert _get(platform, "learner", Role.LEARNER, url).json()["detail"][0]["loc"] == ["query", "course_id"]
    unsigned = platform["client"].get(url, params={"course_id": platform["course"]})
    assert unsigned.status_code == 401 and unsigned.headers["www-authenticate"] == "Bearer"


def test_a_new_learner_gets_a_cold_start_in_course_order(platform):
    # The outsider never studied this course: only its structure and popularity speak for them.
    response = _get(platform, "outsider", Role.LEARNER, f"/api/v1/learners/{platform['outsider']}/recommendations",
                    course_id=platform["course"], k=3)
    body = response.json()
    assert response.status_code == 200 and body["cold_start"] and len(body["items"]) == 3
    assert "next in the course" in body["items"][0]["reason"]


def test_who_may_see_a_learners_models(platform):
    learner, course = platform["learner"], platform["course"]
    for url in (f"/api/v1/learners/{learner}/mastery", f"/api/v1/learners/{learner}/recommendations",
                f"/api/v1/learners/{learner}/reviews"):
        assert _get(platform, "teacher", Role.INSTRUCTOR, url, course_id=course).status_code == 200
        assert _get(platform, "admin", Role.ADMIN, url, course_id=course).status_code == 200
        assert _get(platform, "other_teacher", Role.INSTRUCTOR, url, course_id=course).status_code in (403, 404)
        assert _get(platform, "outsider", Role.LEARNER, url, course_id=course).status_code == 403
        assert _get(platform, "analyst", Role.ANALYST, url, course_id=course).status_code == 403
    assert _get(platform, "admin", Role.ADMIN, "/api/v1/learners/nobody/mastery").status_code == 404


def test_the_at_risk_list_is_ranked_explained_and_beside_the_rule(platform):
    url = f"/api/v1/courses/{platform['course']}/at-risk"
    response = _get(platform, "teacher", Role.INSTRUCTOR, url, limit=500)
    assert response.status_code == 200, response.text
    body = response.json()
    risks = [row["risk"] for row in body["learners"]]
    assert risks and risks == sorted(risks, reverse=True)
    assert all(row["name"] and row["email"] for row in body["learners"])
    assert any(row["reasons"] for row in body["learners"]) and all(isinstance(r, str) for row in body["learners"]
                                                                  for r in row["reasons"])
    rule = query(platform["settings"], "select count(*) filter (where is_at_risk) as flagged from "
                 "marts.fct_at_risk_by_rule where course_id = $c", {"c": platform["course"]})["flagged"][0]
    assert sum(bool(row["rule_flag"]) for row in body["learners"]) == rule
    assert _get(platform, "other_teacher", Role.INSTRUCTOR, url).status_code == 403
    assert _get(platform, "learner", Role.LEARNER, url).status_code == 403
    assert _get(platform, "analyst", Role.ANALYST, url).status_code == 403


def test_an_instructor_drills_down_into_one_learners_timeline(platform):
    url = f"/api/v1/courses/{platform['course']}/learners/{platform['learner']}/activity"
    response = _get(platform, "teacher", Role.INSTRUCTOR, url, events=20)
    assert response.status_code == 200, response.text
    body = response.json()
    learner = platform["client"].app.state.pseudonyms.learner_id(platform["learner"])
    expected = query(platform["settings"], "select count(*) as days, sum(study_events) as events from "
                     "intermediate.int_learner_course_days where learner_id = $l and course_id = $c and study_events > 0",
                     {"l": learner, "c": platform["course"]}).to_dicts()[0]
    assert len(body["days"]) == expected["days"] > 0 and sum(d["events"] for d in body["days"]) == expected["events"]
    assert [d["day"] for d in body["days"]] == sorted(d["day"] for d in body["days"])
    assert all(0 <= d["right_answers"] <= d["answers"] for d in body["days"])
    times = [e["occurred_at"] for e in body["recent_events"]]
    assert 0 < len(times) <= 20 and times == sorted(times, reverse=True)
    assert any(e["title"] for e in body["recent_events"]), "item events carry the item's title"
    # An answer to a quiz's question ("<quiz id>/q2") is named by its quiz.
    every_event = _get(platform, "teacher", Role.INSTRUCTOR, url, events=500).json()["recent_events"]
    answers = [e for e in every_event if e["object_type"] == "question"]
    assert answers and all(e["title"] and e["item_id"] for e in answers)
    assert _get(platform, "admin", Role.ADMIN, url).status_code == 200
    assert _get(platform, "other_teacher", Role.INSTRUCTOR, url).status_code == 403
    assert _get(platform, "learner", Role.LEARNER, url).status_code == 403
    assert _get(platform, "analyst", Role.ANALYST, url).status_code == 403
    outsider = f"/api/v1/courses/{platform['course']}/learners/{platform['outsider']}/activity"
    assert _get(platform, "teacher", Role.INSTRUCTOR, outsider).status_code == 404


def test_ml_engineers_see_the_live_score_distribution_and_no_one_in_it(platform):
    with platform["client"].app.state.database.read() as session:
        engineer = session.scalar(sa.select(User.id).where(User.role == Role.ML_ENGINEER))
        active = session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
            Enrollment.status == EnrollmentStatus.ACTIVE))
    platform["engineer"] = engineer
    response = _get(platform, "engineer", Role.ML_ENGINEER, "/api/v1/models/dropout/live-scores")
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["scores"]) == active > 0 and body["scores"] == sorted(body["scores"])
    assert all(0 <= s <= 1 for s in body["scores"]) and set(body) == {"model_version", "as_of", "scores"}
    assert _get(platform, "admin", Role.ADMIN, "/api/v1/models/dropout/live-scores").status_code == 200
    for who, role in (("analyst", Role.ANALYST), ("teacher", Role.INSTRUCTOR), ("learner", Role.LEARNER)):
        assert _get(platform, who, role, "/api/v1/models/dropout/live-scores").status_code == 403
    assert _get(platform, "engineer", Role.ML_ENGINEER, f"/api/v1/courses/{platform['course']}/at-risk"
                ).status_code == 403, "names and e-mails stay with the course's instructor"


def test_a_new_champion_is_served_without_a_restart(platform):
    url = f"/api/v1/learners/{platform['learner']}/recommendations"
    before = _get(platform, "learner", Role.LEARNER, url, course_id=platform["course"]).json()["model_version"]
    client = MlflowClient(platform["settings"].mlflow_tracking_uri, platform["settings"].mlflow_tracking_uri)
    current = client.get_model_version_by_alias(names.NEXT_ITEMS, CHAMPION)
    successor = client.create_model_version(names.NEXT_ITEMS, current.source, run_id=current.run_id)
    client.set_registered_model_alias(names.NEXT_ITEMS, CHAMPION, successor.version)
    try:
        after = _get(platform, "learner", Role.LEARNER, url, course_id=platform["course"]).json()["model_version"]
        assert after == str(successor.version) != before
    finally:
        client.set_registered_model_alias(names.NEXT_ITEMS, CHAMPION, current.version)


def test_the_cohort_report_matches_the_warehouse(platform):
    url = f"/api/v1/analytics/courses/{platform['course']}/cohort-report"
    response = _get(platform, "teacher", Role.INSTRUCTOR, url)
    assert response.status_code == 200, response.text
    report = response.json()
    enrolled = query(platform["settings"], "select count(*) as n from marts.fct_enrollments where course_id = $c",
                     {"c": platform["course"]})["n"][0]
    assert sum(report["enrollments_by_status"].values()) == enrolled == report["funnel"]["enrolled"]
    assert sum(w["learners"] for w in report["enrollments_by_week"]) == enrolled
    accuracies = [s["mean_accuracy"] for s in report["struggling_skills"]]
    assert accuracies and accuracies == sorted(accuracies)
    assert report["retention"] and report["grade_distribution"]
    assert _get(platform, "analyst", Role.ANALYST, url).status_code == 200  # aggregates only
    assert _get(platform, "other_teacher", Role.INSTRUCTOR, url).status_code == 403


def test_platform_aggregates_are_for_analysts_and_name_no_one(platform):
    response = _get(platform, "analyst", Role.ANALYST, "/api/v1/analytics/platform")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["learners"] == 160 and body["courses"] == 3 and body["events"] > 0
    assert "lrn_" not in response.text and "@" not in response.text
    assert _get(platform, "teacher", Role.INSTRUCTOR, "/api/v1/analytics/platform").status_code == 403
    assert _get(platform, "learner", Role.LEARNER, "/api/v1/analytics/platform").status_code == 403


def test_bench_serve_prints_its_figures_beside_the_health_floor(platform):
    result = CliRunner().invoke(cli, ["bench", "serve", "--home", str(platform["settings"].home), "--duration", "1",
                                      "--clients", "4", "--tutor-clients", "2", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures["endpoints"]) == {"health", "recommendations", "tutor_ask"}
    for endpoint in figures["endpoints"].values():
        assert endpoint["requests"] > 0 and endpoint["errors"] == 0
        assert 0 < endpoint["p50_ms"] <= endpoint["p99_ms"]
    assert figures["recommendations_p99_over_health_p99"] > 0
    # The demo's lessons teach what its courses' questions ask: most are answered from the material.
    assert figures["endpoints"]["tutor_ask"]["answered_share"] > 0.5
    assert figures["endpoints"]["health"]["answered_share"] is None
