"""dbt models as Dagster assets, and the published read-only copy of the warehouse."""

from datetime import timedelta
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from lake.readers import table_exists, table_version
from pipelines.defs.lake.sensors import VERSION_TAG
from pipelines.defs.resources import LearnLake
from pipelines.defs.transforms.dbt_output import without_node_progress
from pipelines.defs.transforms.project import dbt_project, environment
from pipelines.defs.transforms.publish import publish_warehouse


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, learnlake: LearnLake):
    """Build and test every dbt model; a failing test fails the run."""
    settings = learnlake.settings()
    if VERSION_TAG not in context.run.tags and table_exists("bronze.events", settings):
        # What this build reads: the bronze sensor starts from here, not from nothing (learnlake demo, then serve).
        context.instance.add_run_tags(context.run_id, {VERSION_TAG: str(table_version("bronze.events", settings))})
    with environment(settings.dbt_env()):
        invocation = dbt.cli(["build"], context=context)  # starts the dbt process with this environment
    with without_node_progress():  # each node is a materialisation or a check already
        yield from invocation.stream()


@dg.asset(
    deps=[warehouse_models],
    group_name="warehouse",
    kinds={"duckdb"},
    description="Read-only copy of the warehouse that dashboards and serving read (decision 4).",
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=26)),  # the daily build
)
def published_warehouse(context: dg.AssetExecutionContext, learnlake: LearnLake) -> dg.MaterializeResult:
    settings = learnlake.settings()
    tables = publish_warehouse(Path(settings.warehouse_path), Path(settings.published_warehouse_path))
    context.log.info(f"published {settings.warehouse_path} -> {settings.published_warehouse_path}")
    return dg.MaterializeResult(metadata={"path": str(settings.published_warehouse_path), "tables": tables})
