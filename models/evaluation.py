"""Every ``learnlake eval ...`` run is an MLflow run: its settings, its figures, its headline (``headline.py``)
and its inputs.

Real-data evaluations read files, not lake tables, so the run records the directory and a
fingerprint of the files' contents (the same identity dataset loads use) in place of Delta
versions: two runs with one fingerprint saw the same bytes.
"""

import os
from pathlib import Path

import mlflow

from lake.sources.datasets.common import fingerprint
from learnlake.settings import Settings, get_settings
from models.headline import HEADLINE, WORDS
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


def data_name(inputs: dict[str, list]) -> str:
    """What the evaluation read, in a few words: the last two parts of the folder that holds all its files
    (``assistments/assist2009``, ``openstax-python/questions``), or the simulator."""
    folders = {str(Path(path).resolve().parent) for files in inputs.values() for path in files}
    if not folders:
        return "simulated learners"
    common = Path(os.path.commonpath(sorted(folders)))
    return "/".join(common.parts[-2:]) if len(common.parts) > 2 else str(common)


def log_evaluation(kind: str, result: dict, *, inputs: dict[str, list], params: dict | None = None,
                   settings: Settings | None = None) -> str:
    """Log one evaluation; ``inputs`` maps a role (``train``, ``test``...) to its files. Returns the run id."""
    configure_mlflow(settings or get_settings(), experiment=EXPERIMENT)
    with mlflow.start_run(run_name=f"eval-{kind}") as run:
        mlflow.set_tags({"learnlake.evaluation": kind, "learnlake.data": data_name(inputs)})
        for role, files in inputs.items():
            mlflow.set_tag(f"input.{role}.fingerprint", fingerprint(files))
            mlflow.set_tag(f"input.{role}.files", ",".join(sorted(p.name for p in files))[:4000])
        mlflow.log_params({"evaluation": kind, **(params or {})})
        # The headline's words as tags; its figures are metrics like every other number of the result.
        mlflow.set_tags({f"{HEADLINE}.{key}.{word}": figures[word] for key, figures in result.get(HEADLINE, {}).items()
                         for word in WORDS})
        mlflow.log_metrics(numeric_metrics(result))
        mlflow.log_dict(result, "evaluation.json")
    return run.info.run_id
