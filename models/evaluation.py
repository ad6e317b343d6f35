"""Every ``learnlake eval ...`` run is an MLflow run: its settings, its figures, and its inputs.

Real-data evaluations read files, not lake tables, so the run records the directory and a
fingerprint of the files' contents (the same identity dataset loads use) in place of Delta
versions: two runs with one fingerprint saw the same bytes.
"""

import mlflow

from lake.sources.datasets.common import fingerprint
from learnlake.settings import Settings, get_settings
from models.tracking import configure_mlflow

EXPERIMENT = "learnlake-evaluations"


def numeric_metrics(result: dict, prefix: str = "") -> dict[str, float]:
    """The numbers of a nested result, flattened to ``a.b.c`` names (MLflow metrics are flat)."""
    metrics = {}
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            metrics |= numeric_metrics(value, f"{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            metrics[name] = float(value)
    return metrics


def log_evaluation(kind: str, result: dict, *, inputs: dict[str, list], params: dict | None = None,
                   settings: Settings | None = None) -> str:
    """Log one evaluation; ``inputs`` maps a role (``train``, ``test``...) to its files. Returns the run id."""
    configure_mlflow(settings or get_settings(), experiment=EXPERIMENT)
    with mlflow.start_run(run_name=f"eval-{kind}") as run:
        mlflow.set_tags({"learnlake.evaluation": kind})
        for role, files in inputs.items():
            mlflow.set_tag(f"input.{role}.fingerprint", fingerprint(files))
            mlflow.set_tag(f"input.{role}.files", ",".join(sorted(p.name for p in files))[:4000])
        mlflow.log_params({"evaluation": kind, **(params or {})})
        mlflow.log_metrics(numeric_metrics(result))
        mlflow.log_dict(result, "evaluation.json")
    return run.info.run_id
