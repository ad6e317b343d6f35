"""Lake assets: activity events (from the simulator until ingestion lands) and ground truth."""

from datetime import timedelta

import dagster as dg

from lake import writers
from lake.readers import table_version
from lake.sources.simulator import config_from_settings, simulate
from learnlake.settings import get_settings


class SimulatorConfig(dg.Config):
    """Overrides of the simulator settings for one run; None keeps the LEARNLAKE_* value."""

    learners: int | None = None
    courses: int | None = None
    days: int | None = None
    seed: int | None = None


@dg.asset(
    key=["bronze", "events"],
    group_name="lake",
    kinds={"deltalake"},
    description="Every learner action and domain event (Delta, partitioned by event_date).",
    # A live platform sends events all day: a day without any is worth a look.
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=6)),
)
def bronze_events(context: dg.AssetExecutionContext, config: SimulatorConfig) -> dg.MaterializeResult:
    settings = get_settings()
    cfg = config_from_settings(settings, learners=config.learners, courses=config.courses, days=config.days,
                               seed=config.seed)
    context.log.info(f"simulating {cfg.learners} learners in {cfg.courses} courses over {cfg.days} days")
    sim = simulate(cfg)
    # One writer identity per simulator configuration: re-running the same one adds nothing.
    app_id = f"simulator:{cfg.seed}:{cfg.learners}:{cfg.courses}:{cfg.days}:{cfg.start}"
    written = writers.append("bronze.events", sim.events.to_arrow(), app_id=app_id, batch_version=1)
    writers.overwrite("ground_truth.enrollments", sim.truth_enrollments.to_arrow())
    writers.overwrite("ground_truth.mastery", sim.truth_mastery.to_arrow())
    if not written:
        context.log.info(f"{app_id} was already in the lake; nothing appended")
    return dg.MaterializeResult(
        metadata={
            "simulated_events": sim.events.height,
            "appended": written,
            "learners": cfg.learners,
            "enrollments": sim.enrollments.height,
            "delta_version": table_version("bronze.events"),
        }
    )
