"""The platform's own models, trained by the pipeline on a simulated demo: MLflow, registry, serving forms."""

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from feature_store.online import online_features, online_store
from feature_store.repository import dropout_risk_v1
from learnlake.cli import app as cli
from models.tracking import CHAMPION, load_champion

pytestmark = pytest.mark.integration
MODELS = ("learnlake-dropout", "learnlake-knowledge-tracing", "learnlake-next-items")


@pytest.fixture(scope="module")
def demo(trained_demo):
    return trained_demo


def _champion_run(settings, name: str):
    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    version = client.get_model_version_by_alias(name, CHAMPION)
    return client, client.get_run(version.run_id)


@pytest.mark.parametrize("name", MODELS)
def test_each_model_is_registered_with_its_inputs_metrics_and_card(demo, name):
    client, run = _champion_run(demo, name)
    assert run.data.params["input.bronze.events.version"].isdigit()
    assert "input.warehouse.published_at" in run.data.tags
    assert run.data.metrics, "metrics were logged"
    assert "model_card.md" in {a.path for a in client.list_artifacts(run.info.run_id)}
    mlflow.set_tracking_uri(demo.mlflow_tracking_uri)
    mlflow.set_registry_uri(demo.mlflow_tracking_uri)
    assert mlflow.models.get_model_info(f"models:/{name}@{CHAMPION}").signature is not None


def test_the_dropout_model_is_compared_with_the_at_risk_rule_and_explains_itself(demo):
    _, run = _champion_run(demo, "learnlake-dropout")
    metrics = run.data.metrics
    assert 0.5 < metrics["test_auc"] <= 1 and 0 < metrics["rule_test_auc"] <= 1
    assert metrics["test_auc"] > metrics["rule_test_auc"] - 0.05
    assert metrics["rule_mart_flagged"] > 0 and 0 <= metrics["rule_mart_overlap_at_flag_count"] <= 1
    # Served: champion loaded by alias, features from the online store the pipeline materialised.
    _, model = load_champion("learnlake-dropout", demo)
    store = online_store(demo)
    import duckdb

    with duckdb.connect(str(demo.published_warehouse_path), read_only=True) as con:
        pairs = con.execute("select learner_id, course_id from marts.fct_enrollments limit 20").fetchall()
    rows = pd.DataFrame([online_features(store, dropout_risk_v1, {"learner_id": l, "course_id": c})
                         for l, c in pairs]).astype(float)
    predicted = model.predict(rows)
    assert predicted["risk"].between(0, 1).all()
    assert predicted["reasons"].str.len().gt(0).any()


def test_knowledge_tracing_gives_mastery_per_skill(demo):
    _, run = _champion_run(demo, "learnlake-knowledge-tracing")
    metrics, chosen = run.data.metrics, run.data.params["model"]
    assert metrics["test_auc"] > 0.55
    # Both candidates were fitted and judged; the one registered is the better on validation learners.
    validation = {name: metrics[f"{name}_validation_auc"] for name in ("dkt", "boosted_history")}
    assert chosen == max(validation, key=validation.get)
    assert metrics["test_auc"] == metrics[f"{chosen}_test_auc"] and "dkt_test_auc" in metrics
    _, model = load_champion("learnlake-knowledge-tracing", demo)
    answers = pd.DataFrame({"learner_id": ["x"] * 3, "skill_id": ["loops", "loops", "functions"],
                            "correct": [1, 1, 0], "answer_id": ["a1", "a2", "a3"]})
    mastery = model.predict(answers)
    assert len(mastery) > 2 and mastery["mastery"].between(0, 1).all()


def test_the_recommender_beats_popularity_and_recommends_near_each_learners_level(demo):
    _, run = _champion_run(demo, "learnlake-next-items")
    metrics = run.data.metrics
    assert metrics["ndcg_vs_popularity"] >= 1.5
    assert metrics["mastery_reranking"] == 1.0, "the champion mastery model re-ranked the candidates"
    # The simulator's true mastery: the top 3 sit nearer the 0.7 learning zone than popularity's, and for
    # the learners given a review first, the review sits far nearer it than the new item it went before.
    assert metrics["test_level_gap"] < metrics["popularity_test_level_gap"]
    assert metrics["test_review_share"] > 0.05
    assert metrics["test_review_level_gap"] < metrics["test_reviewed_next_level_gap"] - 0.1
    assert metrics["test_ndcg_at_10"] < metrics["test_new_items_ndcg_at_10"], "a review costs some NDCG"
    _, model = load_champion("learnlake-next-items", demo)
    course = model.unwrap_python_model().recommender.by_course
    first_course = next(iter(course))
    cold = model.predict(pd.DataFrame({"course_id": [first_course], "history": [""], "k": [5]}))
    assert len(cold) == 5 and cold["reason"].str.len().gt(0).all()
    assert cold["item_id"].iloc[0] == course[first_course][0].item_id, "a new learner starts at the beginning"


def test_retraining_moves_the_champion_only_when_the_candidate_is_better(demo, monkeypatch):
    monkeypatch.setenv("LEARNLAKE_HOME", str(demo.home))
    from learnlake.settings import get_settings

    get_settings.cache_clear()
    _client, before = _champion_run(demo, "learnlake-dropout")
    result = CliRunner().invoke(cli, ["train", "dropout", "--json"])
    assert result.exit_code == 0, result.output
    import json

    figures = json.loads(result.stdout.strip().splitlines()[-1])
    _, after = _champion_run(demo, "learnlake-dropout")
    if figures["promoted"]:
        assert figures["test_auc"] > before.data.metrics["test_auc"] and after.info.run_id == figures["mlflow_run_id"]
    else:
        assert after.info.run_id == before.info.run_id and "does not beat" in figures["promotion"]
    get_settings.cache_clear()
