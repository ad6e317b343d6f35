"""The privacy jobs. ``privacy_erasure``: run by its sensor as soon as an erasure is pending, daily for
the erasures waiting out their grace period, and in process by ``learnlake privacy forget``.
``privacy_retention``: daily, removes what is older than the ``LEARNLAKE_RETENTION_*`` settings."""

import dagster as dg

from lake.sources.core_privacy import engine_for, pending_erasures
from pipelines.defs.privacy.erasure import carry_out_erasures
from pipelines.defs.privacy.retention import apply_retention
from pipelines.defs.resources import LearnLake


@dg.op(description="Erase the pending erasures' learners from every store outside the core database.")
def erase_from_every_store(context: dg.OpExecutionContext, learnlake: LearnLake) -> list[dict]:
    results = carry_out_erasures(learnlake.settings())
    for result in results:
        context.log.info(f"erasure {result['erasure']}: {'done' if result['done'] else 'in progress'}; "
                         f"stores: {sorted(result['stores'])}")
    return results


@dg.job(description="Carry pending erasures into the landing logs, the LRS, the lake, the warehouse, the "
                    "feature stores and the files the platform writes (learnlake privacy).")
def privacy_erasure_job():
    erase_from_every_store()


@dg.sensor(job=privacy_erasure_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="A run as soon as an erasure is recorded (the API erases the core database at once).")
def pending_erasures_sensor(context: dg.SensorEvaluationContext, learnlake: LearnLake):
    engine = engine_for(learnlake.settings().database_url)
    if engine is None:
        return dg.SkipReason("no core database yet")
    try:
        # Only erasures no run has taken up yet: those waiting out their grace are the schedule's.
        fresh = [e.id for e in pending_erasures(engine) if "lake" not in e.stores]
    finally:
        engine.dispose()
    if not fresh:
        return dg.SkipReason("no new erasure")
    return dg.RunRequest(run_key=f"erasures-{'-'.join(map(str, fresh))}")


privacy_erasure_schedule = dg.ScheduleDefinition(
    job=privacy_erasure_job, cron_schedule="30 4 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily: finish the erasures whose grace period has passed (old Delta versions removed).")


@dg.op(description="Remove raw events, tutor conversations, access records and landing segments past retention.")
def remove_what_is_past_retention(context: dg.OpExecutionContext, learnlake: LearnLake) -> dict:
    entry = apply_retention(learnlake.settings())
    context.log.info(f"retention: {entry['removed']}")
    return entry


@dg.job(description="Retention: what is older than LEARNLAKE_RETENTION_* goes (the marts keep their aggregates).")
def privacy_retention_job():
    remove_what_is_past_retention()


privacy_retention_schedule = dg.ScheduleDefinition(
    job=privacy_retention_job, cron_schedule="15 2 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING, description="Daily, before lake maintenance vacuums.")
