"""Materialise every asset in this process, as `learnlake pipeline run` and the demo do."""

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from learnlake.logging import bound_context
from learnlake.settings import Settings, get_settings

log = logging.getLogger(__name__)

DAGSTER_YAML = """\
# Written by LearnLake (pipelines/run.py) from its settings, every time an instance is opened: edit
# the LEARNLAKE_DAGSTER_* settings, not this file. Runs materialised from the CLI land here, so the
# Dagster UI started with the same DAGSTER_HOME shows them.
telemetry:
  enabled: false
"""

# With LEARNLAKE_DAGSTER_DATABASE_URL: the daemon, the webserver, the runs and the CLI share PostgreSQL;
# the daemon queues runs (one at a time: each rebuilds the same warehouse) and launches each in a process
# of its own. The URL is read from the environment, never written here.
DAGSTER_POSTGRES_YAML = """\
storage:
  postgres:
    postgres_url:
      env: LEARNLAKE_DAGSTER_DATABASE_URL
run_queue:
  max_concurrent_runs: 1
run_launcher:
  module: dagster.core.launcher
  class: DefaultRunLauncher
"""

# Dagster's step-by-step debug lines are for the UI; the shell shows warnings and the progress bar.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass(frozen=True)
class PipelineRun:
    run_id: str
    success: bool
    materialized: list[str]
    metadata: dict[str, dict]


def write_instance_config(settings: Settings) -> dict[str, str]:
    """Write ``dagster.yaml`` under ``settings.dagster_home`` for these settings; returns the environment the
    Dagster processes of this instance need (``DAGSTER_HOME``, and the database URL when there is one)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    text = DAGSTER_YAML + (DAGSTER_POSTGRES_YAML if settings.dagster_database_url else "")
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
    env = {"DAGSTER_HOME": str(home)}
    if settings.dagster_database_url:  # dagster-postgres speaks psycopg2 (SQLAlchemy's default is psycopg 3)
        url = sa.make_url(settings.dagster_database_url).set(drivername="postgresql+psycopg2")
        env["LEARNLAKE_DAGSTER_DATABASE_URL"] = url.render_as_string(hide_password=False)
    return env


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    """The persistent instance under ``settings.dagster_home`` (its ``dagster.yaml`` written first)."""
    os.environ.update(write_instance_config(settings))
    return dg.DagsterInstance.get()


def _execute(job, **options) -> dg.ExecuteInProcessResult:
    """Run ``job`` in this process with a run id chosen here, so that every log line of the run, ours as
    well as Dagster's, carries it (``run_id``)."""
    run_id = str(uuid.uuid4())
    with bound_context(run_id=run_id):
        return job.execute_in_process(run_id=run_id, **options)


def run_pipeline(
    *, learners: int | None = None, persistent: bool = True, settings: Settings | None = None
) -> PipelineRun:
    """Simulate (or reuse) events, build the warehouse, publish it and train the models.

    Args:
        learners: number of simulated learners (0: none); None keeps ``LEARNLAKE_LEARNERS``.
        persistent: record the run in the Dagster instance under ``.learnlake/dagster``
            (False: an ephemeral instance, as tests use).
        settings: must be the process settings; passed for clarity in callers.
    """
    settings = settings or get_settings()
    from pipelines.defs.transforms.project import prepare_manifest

    prepare_manifest()
    from pipelines.definitions import load_definitions, skeleton_job

    instance = dagster_instance(settings) if persistent else dg.DagsterInstance.ephemeral()
    run_config: dict = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    if learners is not None:
        run_config["ops"] = {"bronze__events": {"config": {"learners": learners}}}
    job = load_definitions().resolve_job_def(skeleton_job.name)
    result = _execute(job, run_config=run_config, instance=instance, raise_on_error=False)
    metadata: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        metadata[materialization.asset_key.to_user_string()] = {
            key: value.value for key, value in materialization.metadata.items()
        }
    return PipelineRun(result.run_id, result.success, sorted(metadata), metadata)


def run_summary(run: PipelineRun, settings: Settings) -> dict[str, str]:
    """What a person wants to know after a run: what it made, how big, where, and how good the model is."""
    from lake.readers import scan_table, table_exists

    rows = {"dagster run": run.run_id, "assets materialised": ", ".join(run.materialized) or "none"}
    if table_exists("bronze.events", settings):
        events = scan_table("bronze.events", settings=settings).select("event_id").collect().height
        rows["bronze.events rows"] = f"{events:,}"
    published = Path(settings.published_warehouse_path)
    if published.exists():
        from lake.warehouse import published_warehouse

        with published_warehouse(settings) as con:
            mart_rows = con.execute("select count(*) from marts.fct_course_daily_active_learners").fetchone()[0]
        rows["marts.fct_course_daily_active_learners rows"] = f"{mart_rows:,}"
    model = run.metadata.get("popularity_recommender", {})
    if model:
        learners = int(model.get("test_learners", 0))
        rows |= {"mlflow run id": str(model["mlflow_run_id"]),
                 "model version": f"{model['model_version']} ({model['promotion']})",
                 "held-out recall@10": f"{model['test_recall_at_10']:.3f} (random: "
                                       f"{model['random_test_recall_at_10']:.3f}) over {learners:,} "
                                       f"learner{'s' * (learners != 1)}"}
    tutor = run.metadata.get("tutor_index", {})
    if tutor:
        passages = sum(int(tutor.get(k, 0)) for k in ("added", "updated", "unchanged"))
        rows["tutor passages"] = f"{passages:,} in {tutor.get('courses', 0)} courses"
    return rows | {"lake": str(settings.lake_uri), "warehouse (published)": str(published),
                   "mlflow store": str(settings.mlflow_tracking_uri)}


def close_event_days(days: list[str], *, persistent: bool = True,
                     settings: Settings | None = None) -> Iterator[tuple[str, dict]]:
    """Materialise ``bronze/events_by_day`` for each day (``YYYY-MM-DD``); yields (day, figures).

    Every day is checked before any is closed.
    """
    settings = settings or get_settings()
    from pipelines.defs.lake.event_days import check_closable, close_event_days_job
    from pipelines.defs.transforms.project import prepare_manifest

    check_closable(days)
    prepare_manifest()
    from pipelines.definitions import load_definitions

    instance = dagster_instance(settings) if persistent else dg.DagsterInstance.ephemeral()
    job = load_definitions().resolve_job_def(close_event_days_job.name)
    for day in days:
        result = _execute(job, partition_key=day, instance=instance, run_config=QUIET)
        (event,) = result.get_asset_materialization_events()
        yield day, {key: value.value for key, value in event.materialization.metadata.items()}


def run_privacy_erasure(*, persistent: bool = True, settings: Settings | None = None) -> list[dict]:
    """Run the ``privacy_erasure`` job in this process (recorded in the Dagster instance); its results."""
    settings = settings or get_settings()
    from pipelines.defs.privacy import definitions
    from pipelines.defs.privacy.jobs import privacy_erasure_job
    from pipelines.defs.resources import LearnLake

    instance = dagster_instance(settings) if persistent else dg.DagsterInstance.ephemeral()
    # The privacy domain alone, not load_definitions(): an erasure must not wait for (or fail on) dbt's parse.
    job = dg.Definitions.merge(definitions(), dg.Definitions(resources={"learnlake": LearnLake()})) \
        .resolve_job_def(privacy_erasure_job.name)
    result = _execute(job, instance=instance, run_config=QUIET)
    return result.output_for_node("erase_from_every_store")
