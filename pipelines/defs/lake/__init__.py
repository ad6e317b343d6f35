"""The lake: bronze.events (simulated or as it stands), its daily partitions, its quality check, its
sensor, and nightly maintenance."""

import dagster as dg


def definitions() -> dg.Definitions:
    from pipelines.defs.lake.assets import bronze_events
    from pipelines.defs.lake.checks import bronze_events_quality
    from pipelines.defs.lake.event_days import bronze_events_by_day, close_event_days_job, close_event_days_schedule
    from pipelines.defs.lake.schedules import lake_maintenance_job, lake_maintenance_schedule
    from pipelines.defs.lake.sensors import bronze_events_sensor, downstream_of_events_job

    return dg.Definitions(assets=[bronze_events, bronze_events_by_day], asset_checks=[bronze_events_quality],
                          jobs=[downstream_of_events_job, close_event_days_job, lake_maintenance_job],
                          schedules=[close_event_days_schedule, lake_maintenance_schedule], sensors=[bronze_events_sensor])
