"""MLflow helpers: one experiment store per LearnLake home, and the champion alias.

The ``champion`` alias moves only when a candidate beats the current champion on the
held-out metric (ARCHITECTURE.md decision 5); models are loaded by alias, never by number.
"""

import logging
from dataclasses import dataclass
from importlib.metadata import version as installed_version

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from learnlake.errors import ModelNotFoundError
from learnlake.settings import Settings, get_settings

log = logging.getLogger(__name__)

CHAMPION = "champion"
EXPERIMENT = "learnlake"


def configure_mlflow(settings: Settings | None = None, experiment: str = EXPERIMENT) -> MlflowClient:
    """Point MLflow at the settings' tracking store and make sure the experiment exists."""
    settings = settings or get_settings()
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    if client.get_experiment_by_name(experiment) is None:
        settings.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
        client.create_experiment(experiment, artifact_location=(settings.mlflow_artifacts_dir / experiment).as_uri())
    mlflow.set_experiment(experiment)
    return client


def prepare_tracking_store(settings: Settings) -> None:
    """Create or upgrade the tracking store's tables now, in this process alone.

    On an empty SQL store every process that opens it runs MLflow's migrations, and two doing so at once
    (``learnlake serve`` on a new home: the API and the MLflow UI) collide; one fails part-way through.
    Opening the store is what migrates it; a tracking server's URL has nothing to prepare here."""
    MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)


def pip_requirements(*packages: str) -> list[str]:
    """Pinned requirements of a logged model, given rather than inferred: MLflow's inference loads
    the model in a subprocess, which costs most of a small model's training time."""
    return [f"{name}=={installed_version(name)}" for name in ("mlflow", "numpy", "pandas", *packages)]


@dataclass(frozen=True)
class Promotion:
    """What happened to the champion alias after a candidate was registered."""

    promoted: bool
    version: str
    candidate_metric: float
    champion_metric: float | None
    reason: str


@dataclass(frozen=True)
class TrainingResult:
    """A trained, logged and registered model: its run, its version, its held-out figures, the promotion."""

    run_id: str
    version: str
    metrics: dict[str, float]
    promotion: Promotion


def champion_metric(client: MlflowClient, model_name: str, metric: str) -> tuple[str, float | None] | None:
    """The current champion's version and its held-out metric (None when its run did not log it), or
    None when there is no champion."""
    try:
        champion = client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        return None
    return str(champion.version), client.get_run(champion.run_id).data.metrics.get(metric)


def promote_if_better(
    client: MlflowClient, model_name: str, version: str, metric: str, *, higher_is_better: bool = True
) -> Promotion:
    """Move ``champion`` to ``version`` when it beats the current champion on ``metric``."""
    candidate = client.get_model_version(model_name, version)
    candidate_value = client.get_run(candidate.run_id).data.metrics[metric]
    current = champion_metric(client, model_name, metric)
    if current is None:
        better, reason = True, "no champion yet"
    elif current[1] is None:
        # A metric introduced after the champion was trained: nothing to compare with, the candidate goes on.
        better, reason = True, f"champion v{current[0]} logged no {metric}"
    else:
        current_version, current_value = current
        better = candidate_value > current_value if higher_is_better else candidate_value < current_value
        relation = "beats" if better else "does not beat"
        reason = f"{metric} {candidate_value:.4f} {relation} champion v{current_version} ({current_value:.4f})"
    if better:
        client.set_registered_model_alias(model_name, CHAMPION, version)
    log.info("%s v%s: %s", model_name, version, reason)
    return Promotion(better, version, candidate_value, None if current is None else current[1], reason)


def champion_version(model_name: str, settings: Settings | None = None) -> str:
    """The version the champion alias points at; ModelNotFoundError when none is registered."""
    settings = settings or get_settings()
    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    try:
        return str(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException as exc:
        msg = f"no model {model_name!r} with alias {CHAMPION!r} is registered yet; run `learnlake pipeline run`"
        raise ModelNotFoundError(msg) from exc


def load_champion(model_name: str, settings: Settings | None = None):
    """Load ``models:/<name>@champion`` as a pyfunc model; returns (version, model)."""
    settings = settings or get_settings()
    version = champion_version(model_name, settings)
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    return version, mlflow.pyfunc.load_model(f"models:/{model_name}@{CHAMPION}")
