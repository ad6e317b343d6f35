"""The walking skeleton end to end: `learnlake demo --no-serve` on a small simulation, then
every consumer (lake readers, warehouse, MLflow, the API, the dashboard) checked against it."""

import duckdb
import mlflow
import polars as pl
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from lake.readers import read_table, table_version
from learnlake.cli import app as cli
from learnlake.settings import get_settings
from models.recommender.popularity import HELD_OUT_METRIC, MODEL_NAME
from serving.main import create_app

from .conftest import REPO_ROOT, SMALL_DEMO_LEARNERS, use_home

pytestmark = pytest.mark.integration

LEARNERS = SMALL_DEMO_LEARNERS


@pytest.fixture
def demo(small_demo, monkeypatch):
    """The session's small demo (40 learners), its home in this test's environment."""
    use_home(monkeypatch, small_demo[0])
    yield small_demo
    get_settings.cache_clear()


def test_demo_prints_a_summary(demo):
    settings, output = demo
    assert "bronze.events rows" in output
    assert "mlflow run id" in output
    assert "tutor passages" in output, "the lessons the tutor answers from were indexed"
    assert str(settings.published_warehouse_path) in output


def _activity(settings) -> pl.DataFrame:
    """Learner activity: bronze.events without the core API's domain events."""
    return read_table("bronze.events", settings=settings).filter(pl.col("source") != "outbox")


def test_events_are_in_the_lake(demo):
    settings, _ = demo
    events = _activity(settings)
    assert events.height > 1000
    assert events["learner_id"].n_unique() == LEARNERS
    truth = read_table("ground_truth.enrollments", settings=settings)
    assert set(truth["course_id"]) == set(events.drop_nulls("course_id")["course_id"])


def test_the_core_database_was_seeded_and_reached_the_lake(demo):
    settings, output = demo
    assert "core database seeded" in output
    users = read_table("bronze.core_users", settings=settings)
    assert users.filter(pl.col("role") == "learner").height == LEARNERS
    assert set(users["role"]) == {"learner", "instructor", "analyst", "ml_engineer", "admin"}
    enrollments = read_table("bronze.core_enrollments", settings=settings)
    assert set(enrollments["learner_id"]) <= set(users["learner_id"])
    # The simulated activity and the core database name the same learners the same way.
    assert set(_activity(settings)["learner_id"]) <= set(users["learner_id"])
    domain = read_table("bronze.events", settings=settings).filter(pl.col("source") == "outbox")
    assert domain.filter(pl.col("verb") == "user.registered").height == users.height
    assert domain.filter(pl.col("verb") == "enrollment.created").height == enrollments.height


def test_mart_matches_the_raw_events(demo):
    settings, _ = demo
    events = _activity(settings)
    expected = (
        events.drop_nulls("course_id")
        .group_by("course_id", pl.col("event_date").alias("activity_date"))
        .agg(pl.col("learner_id").n_unique().alias("active_learners"), pl.len().alias("events"))
    )
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        mart = pl.from_arrow(con.sql("select * from marts.fct_course_daily_active_learners").to_arrow_table())
    joined = expected.join(mart, on=["course_id", "activity_date"], how="full", suffix="_mart")
    assert joined.height == expected.height == mart.height
    assert (joined["active_learners"] == joined["active_learners_mart"]).all()
    assert (joined["events"] == joined["events_mart"]).all()


def test_model_is_tracked_registered_and_champion(demo):
    settings, _ = demo
    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")
    run = client.get_run(champion.run_id)
    assert 0 <= run.data.metrics[HELD_OUT_METRIC] <= 1
    assert run.data.metrics["test_learners"] > 0
    assert int(run.data.params["input.bronze.events.version"]) == table_version("bronze.events", settings=settings)
    assert "model_card.md" in {a.path for a in client.list_artifacts(run.info.run_id)}
    # MLflow's URIs are process-wide: earlier tests may have pointed the registry at another home.
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    assert model.metadata.signature is not None


def test_api_answers_from_the_champion(demo):
    settings, _ = demo
    client = TestClient(create_app(settings))
    health = client.get("/health").json()
    assert health == {"status": "ok", "version": health["version"], "events_table": True, "popularity_champion": "1"}

    events = _activity(settings)
    course_id = events.drop_nulls("course_id")["course_id"][0]
    response = client.get(f"/api/v1/courses/{course_id}/popular-items", params={"k": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "1" and len(body["items"]) == 5
    course_items = set(events.filter(pl.col("course_id") == course_id)["object_id"])
    assert {item["item_id"] for item in body["items"]} <= course_items
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)

    assert client.get("/api/v1/courses/not-a-course/popular-items").status_code == 404
    assert client.get(f"/api/v1/courses/{course_id}/popular-items", params={"k": 0}).status_code == 422


def test_dashboard_renders_the_mart(demo):
    settings, _ = demo
    # The analysts' page (the app serves it after sign-in: tests/dashboards/test_role_pages.py).
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "course_activity.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Course activity"
    events = _activity(settings).drop_nulls("course_id")
    assert at.metric[0].value == str(events["course_id"].n_unique())
    assert at.metric[2].value == f"{events.height:,}"
    assert not at.info  # no "no data yet" message


def test_running_again_duplicates_nothing_and_keeps_the_champion(demo):
    settings, _ = demo
    before = read_table("bronze.events", settings=settings).height
    result = CliRunner().invoke(cli, ["pipeline", "run", "--learners", str(LEARNERS)])
    assert result.exit_code == 0, result.output
    assert read_table("bronze.events", settings=settings).height == before
    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    # Same data, same held-out score: version 2 is registered but does not beat version 1.
    assert client.get_model_version_by_alias(MODEL_NAME, "champion").version in ("1", 1)
    assert len(client.search_model_versions(f"name = '{MODEL_NAME}'")) == 2
