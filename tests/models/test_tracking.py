import mlflow
import pytest

from learnlake.errors import ModelNotFoundError
from models.tracking import champion_version, configure_mlflow, promote_if_better

NAME = "test-model"


def _register(client, metric: float, name: str = "test_auc") -> str:
    with mlflow.start_run() as run:
        mlflow.log_metric(name, metric)
    if not client.search_registered_models(f"name = '{NAME}'"):
        client.create_registered_model(NAME)
    version = client.create_model_version(NAME, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    return str(version.version)


def test_champion_moves_only_when_the_candidate_is_better(learnlake_home):
    client = configure_mlflow(learnlake_home)
    with pytest.raises(ModelNotFoundError, match="no model 'test-model'"):
        champion_version(NAME, learnlake_home)

    first = promote_if_better(client, NAME, _register(client, 0.70), "test_auc")
    assert first.promoted and first.reason == "no champion yet"
    assert champion_version(NAME, learnlake_home) == "1"

    worse = promote_if_better(client, NAME, _register(client, 0.65), "test_auc")
    assert not worse.promoted and worse.champion_metric == pytest.approx(0.70)
    tie = promote_if_better(client, NAME, _register(client, 0.70), "test_auc")
    assert not tie.promoted
    assert champion_version(NAME, learnlake_home) == "1"

    better = promote_if_better(client, NAME, _register(client, 0.75), "test_auc")
    assert better.promoted and "beats champion v1" in better.reason
    assert champion_version(NAME, learnlake_home) == "4"


def test_lower_is_better_metrics(learnlake_home):
    client = configure_mlflow(learnlake_home)
    promote_if_better(client, NAME, _register(client, 0.30), "test_auc", higher_is_better=False)
    assert promote_if_better(client, NAME, _register(client, 0.20), "test_auc", higher_is_better=False).promoted
    assert champion_version(NAME, learnlake_home) == "2"


def test_a_champion_without_the_held_out_metric_gives_way_and_says_why(learnlake_home):
    client = configure_mlflow(learnlake_home)
    promote_if_better(client, NAME, _register(client, 0.9, "old_metric"), "old_metric")
    moved = promote_if_better(client, NAME, _register(client, 0.5), "test_auc")
    assert moved.promoted and moved.reason == "champion v1 logged no test_auc" and moved.champion_metric is None
    assert champion_version(NAME, learnlake_home) == "2"
