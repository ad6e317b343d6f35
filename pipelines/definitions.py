"""The one Dagster code location of LearnLake (workspace.yaml): each domain's definitions, merged.

Definitions are loaded when Dagster (or a caller: ``load_definitions()``) asks for them, not when this
module is imported. The dbt assets need ``dbt_project/target/manifest.json``: under ``dagster dev``
it is prepared at load; elsewhere call ``pipelines.defs.transforms.project.prepare_manifest()`` first.
"""

import functools
import importlib

import dagster as dg

from pipelines.defs.lake.event_days import EVENTS_BY_DAY_KEY
from pipelines.defs.resources import LearnLake

DOMAINS = ("lake", "core", "transforms", "features", "models", "tutor", "privacy")

# Every unpartitioned asset; the daily event partitions have their own job and schedule.
skeleton_job = dg.define_asset_job(
    "learnlake_all_assets", selection=dg.AssetSelection.all() - dg.AssetSelection.keys(EVENTS_BY_DAY_KEY),
    description="Every asset but the daily event partitions, in dependency order.",
)
daily_schedule = dg.ScheduleDefinition(
    job=skeleton_job, cron_schedule="0 4 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Everything once a day at 04:00 UTC (after lake maintenance), beside the sensor's runs.",
)


@functools.cache
def load_definitions() -> dg.Definitions:
    """Every domain's definitions, the platform-wide job and schedule, and the settings resource."""
    from pipelines.defs.transforms.project import dbt_project

    dbt_project.prepare_if_dev()  # under `dagster dev`: parse the dbt project before its assets are defined
    domains = [importlib.import_module(f"pipelines.defs.{name}").definitions() for name in DOMAINS]
    # Each run is a process of its own (the daemon's run launcher); its steps run one after the other inside it.
    # A process per step would load these definitions again for each of them (about 10 s a step here), for
    # steps that mostly wait on each other: dbt's build, then publishing, then the models.
    platform = dg.Definitions(jobs=[skeleton_job], schedules=[daily_schedule], resources={"learnlake": LearnLake()},
                              executor=dg.in_process_executor)
    return dg.Definitions.merge(*domains, platform)


@dg.definitions
def defs() -> dg.Definitions:
    return load_definitions()
