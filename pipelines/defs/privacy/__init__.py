"""Erasure and retention: the jobs, their schedules and the sensor of pending erasures."""

import dagster as dg


def definitions() -> dg.Definitions:
    from pipelines.defs.privacy.jobs import (
        pending_erasures_sensor,
        privacy_erasure_job,
        privacy_erasure_schedule,
        privacy_retention_job,
        privacy_retention_schedule,
    )

    return dg.Definitions(jobs=[privacy_erasure_job, privacy_retention_job],
                          schedules=[privacy_erasure_schedule, privacy_retention_schedule], sensors=[pending_erasures_sensor])
