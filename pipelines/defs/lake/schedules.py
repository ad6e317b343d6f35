"""Nightly lake maintenance: compaction, checkpoint and vacuum of every lake table."""

import dagster as dg

from lake import maintenance
from lake.catalog import TABLES
from lake.readers import table_exists
from pipelines.defs.resources import LearnLake


@dg.op(description="Compact small files, write a checkpoint and vacuum old files of each lake table.")
def maintain_lake_tables(context: dg.OpExecutionContext, learnlake: LearnLake) -> dict:
    settings = learnlake.settings()
    summary = {}
    for name in TABLES:
        if not table_exists(name, settings):
            continue
        files_before = maintenance.file_count(name, settings=settings)
        maintenance.optimize(name, settings=settings)
        version = maintenance.checkpoint(name, settings=settings)
        removed = maintenance.vacuum(name, dry_run=False, settings=settings)
        summary[name] = {"files_before": files_before, "files_after": maintenance.file_count(name, settings=settings),
                         "version": version, "vacuumed_files": len(removed)}
        context.log.info(f"{name}: {summary[name]}")
    return summary


@dg.job(description="Lake maintenance (the `learnlake lake` commands, for every table).")
def lake_maintenance_job():
    maintain_lake_tables()


lake_maintenance_schedule = dg.ScheduleDefinition(
    job=lake_maintenance_job, cron_schedule="0 3 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
