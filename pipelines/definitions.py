"""The one Dagster ``Definitions`` of LearnLake (loaded through workspace.yaml).

The dbt assets need ``dbt_project/target/manifest.json``: ``dagster dev`` builds it on
load; elsewhere call ``pipelines.defs.transforms.project.prepare_manifest()`` first.
"""

import dagster as dg

from pipelines.defs.core.assets import core_snapshots
from pipelines.defs.features.assets import online_features
from pipelines.defs.lake.assets import bronze_events
from pipelines.defs.lake.event_days import bronze_events_by_day, close_event_days_job, close_event_days_schedule
from pipelines.defs.lake.schedules import lake_maintenance_job, lake_maintenance_schedule
from pipelines.defs.lake.sensors import bronze_events_sensor, downstream_of_events_job
from pipelines.defs.models.assets import (
    dropout_model,
    dropout_score_drift,
    dropout_scores_have_not_drifted,
    knowledge_tracing_model,
    next_items_recommender,
    popularity_recommender,
)
from pipelines.defs.privacy.jobs import (
    pending_erasures_sensor,
    privacy_erasure_job,
    privacy_erasure_schedule,
    privacy_retention_job,
    privacy_retention_schedule,
)
from pipelines.defs.quality.checks import quality_checks
from pipelines.defs.transforms.assets import published_warehouse, warehouse_models
from pipelines.defs.transforms.project import dbt_resource
from pipelines.defs.tutor.assets import tutor_index

all_assets = [bronze_events, bronze_events_by_day, core_snapshots, warehouse_models, published_warehouse, online_features,
              popularity_recommender, dropout_model, dropout_score_drift, knowledge_tracing_model,
              next_items_recommender, tutor_index]

resources = {"dbt": dbt_resource()}

# Every unpartitioned asset; the daily event partitions have their own job and schedule.
skeleton_job = dg.define_asset_job(
    "learnlake_all_assets", selection=dg.AssetSelection.all() - dg.AssetSelection.assets(bronze_events_by_day),
    description="Every asset but the daily event partitions, in dependency order.",
)
daily_schedule = dg.ScheduleDefinition(
    job=skeleton_job, cron_schedule="0 4 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Everything once a day at 04:00 UTC (after lake maintenance), beside the sensor's runs.",
)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=[*quality_checks, dropout_scores_have_not_drifted],
    resources=resources,
    jobs=[skeleton_job, downstream_of_events_job, close_event_days_job, lake_maintenance_job, privacy_erasure_job,
          privacy_retention_job],
    schedules=[close_event_days_schedule, lake_maintenance_schedule, daily_schedule, privacy_erasure_schedule,
               privacy_retention_schedule],
    sensors=[bronze_events_sensor, pending_erasures_sensor],
)
