"""Lake assets: activity events and the simulator's ground truth.

``bronze.events`` is fed by ingestion (the API, xAPI, the core outbox) and ``learnlake datasets
load``; this asset adds the simulator's learners to it (``LEARNLAKE_LEARNERS``, 400 by default,
what the demo runs on). With 0 learners it adds nothing and the pipeline runs on the lake's own
events: a platform with real learners does not want made-up ones beside them.
"""

from datetime import timedelta

import dagster as dg

from lake import writers
from lake.readers import table_exists, table_version
from lake.sources.simulator import config_from_settings, simulate
from learnlake.settings import Settings
from pipelines.defs.resources import LearnLake


class SimulatorConfig(dg.Config):
    """Overrides of the simulator settings for one run; None keeps the LEARNLAKE_* value."""

    learners: int | None = None  # 0: simulate nothing
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
def bronze_events(context: dg.AssetExecutionContext, config: SimulatorConfig,
                  learnlake: LearnLake) -> dg.MaterializeResult:
    settings = learnlake.settings()
    if (settings.learners if config.learners is None else config.learners) == 0:
        return _lake_events_only(context, settings)
    cfg = config_from_settings(settings, learners=config.learners, courses=config.courses, days=config.days,
                               seed=config.seed)
    context.log.info(f"simulating {cfg.learners} learners in {cfg.courses} courses over {cfg.days} days")
    sim = simulate(cfg)
    # One writer identity per simulator configuration: re-running the same one adds nothing.
    app_id = f"simulator:{cfg.seed}:{cfg.learners}:{cfg.courses}:{cfg.days}:{cfg.start}"
    written = writers.append("bronze.events", sim.events.to_arrow(), app_id=app_id, batch_version=1,
                             settings=settings)
    writers.overwrite("ground_truth.enrollments", sim.truth_enrollments.to_arrow(), settings=settings)
    writers.overwrite("ground_truth.mastery", sim.truth_mastery.to_arrow(), settings=settings)
    if not written:
        context.log.info(f"{app_id} was already in the lake; nothing appended")
    return dg.MaterializeResult(
        metadata={
            "simulated_events": sim.events.height,
            "appended": written,
            "learners": cfg.learners,
            "enrollments": sim.enrollments.height,
            "delta_version": table_version("bronze.events", settings),
        }
    )


def _lake_events_only(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
    """No simulated learners: the events already in the lake are the asset's, as they are."""
    if not table_exists("bronze.events", settings):
        raise dg.Failure(description=(
            "bronze.events does not exist yet and no learners are to be simulated (LEARNLAKE_LEARNERS=0): "
            "send events to the API, load a dataset (`learnlake datasets load`), or simulate some learners"))
    context.log.info("no learners simulated: the pipeline runs on the events already in the lake")
    return dg.MaterializeResult(metadata={"simulated_events": 0, "appended": False, "learners": 0,
                                          "delta_version": table_version("bronze.events", settings)})
