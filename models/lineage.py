"""The inputs of a training run, for MLflow: the Delta version of every lake table it stands on.

Models read the published warehouse, which dbt builds from the lake; the run records the
version of each bronze table as it trains (in the pipeline, training follows the build of
those same versions) and when the warehouse copy it read was published.
"""

from datetime import UTC, datetime
from pathlib import Path

import mlflow

from lake.catalog import TABLES
from lake.readers import table_exists, table_version
from learnlake.settings import Settings


def lake_versions(settings: Settings, layers: tuple[str, ...] = ("bronze", "labels")) -> dict[str, int]:
    """``{table: Delta version}`` of every written table of these layers."""
    return {name: table_version(name, settings) for name in sorted(TABLES)
            if name.split(".")[0] in layers and table_exists(name, settings)}


def log_lake_versions(versions: dict[str, int], warehouse: Path | None = None) -> None:
    """Tags and params ``input.<table>.version`` on the active run (params show in comparisons)."""
    for name, version in versions.items():
        mlflow.set_tag(f"input.{name}.version", str(version))
    mlflow.log_params({f"input.{name}.version": version for name, version in versions.items()})
    if warehouse is not None and warehouse.exists():
        published = datetime.fromtimestamp(warehouse.stat().st_mtime, UTC).isoformat()
        mlflow.set_tag("input.warehouse.published_at", published)
