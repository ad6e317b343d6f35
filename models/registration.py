"""Log a trained lake model to MLflow, register it, and move ``champion`` only if it is better.

What every model trained on the published warehouse records (ARCHITECTURE.md decision 5): its
parameters, held-out metrics, the Delta versions of the lake tables under the warehouse, a model
card, and the served pyfunc with its signature and pinned requirements.
"""

import logging
import warnings
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature

from learnlake.settings import Settings
from models.lineage import lake_versions, log_lake_versions
from models.tracking import TrainingResult, pip_requirements, promote_if_better

log = logging.getLogger(__name__)


def with_stand_in_learners(example: pd.DataFrame) -> pd.DataFrame:
    """The input example MLflow keeps beside a model, its learner ids replaced by stand-ins (the same
    learner, the same stand-in): an artifact must not list who was in the training data, where an
    erasure would have to find every copy."""
    if "learner_id" not in example.columns:
        return example
    stand_ins = {learner: f"lrn_example_{i}" for i, learner in enumerate(example["learner_id"].unique())}
    return example.assign(learner_id=example["learner_id"].map(stand_ins))


def log_and_register(client: MlflowClient, settings: Settings, *, model_name: str, run_name: str, params: dict,
                     metrics: dict[str, float], model_card: str, python_model: mlflow.pyfunc.PythonModel,
                     example: pd.DataFrame, packages: tuple[str, ...], held_out_metric: str,
                     documents: dict[str, dict] | None = None) -> TrainingResult:
    """One MLflow run for a candidate; returns its registered version and what happened to the champion.

    ``documents`` are logged as JSON artifacts under their names (a reference score distribution...).
    """
    example = with_stand_in_learners(example)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(params)
        log_lake_versions(lake_versions(settings), Path(settings.published_warehouse_path))
        mlflow.log_metrics(metrics)
        mlflow.log_text(model_card, "model_card.md")
        for name, document in (documents or {}).items():
            mlflow.log_dict(document, name)
        with warnings.catch_warnings():
            # MLflow's hint that integer columns cannot hold missing values, 20 lines per column set:
            # ours (a 0/1 answer, k, a rank) are never missing, and the signature should say integer.
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column",
                                    category=UserWarning)
            info = mlflow.pyfunc.log_model(name="model", python_model=python_model, input_example=example,
                                           signature=infer_signature(example, python_model.predict(None, example)),
                                           registered_model_name=model_name,
                                           pip_requirements=pip_requirements(*packages))
    version = str(info.registered_model_version)
    promotion = promote_if_better(client, model_name, version, held_out_metric)
    log.info("%s: run %s, v%s, %s", model_name, run.info.run_id, version, metrics)
    return TrainingResult(run.info.run_id, version, metrics, promotion)
