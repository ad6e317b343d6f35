"""Pipeline and data metrics for Prometheus, served by ``learnlake pipeline metrics`` (a metrics endpoint of
their own, beside the API's ``/metrics``).

Read when Prometheus scrapes (at most every ``EVERY_S``): from the Dagster instance, the last
run and last success of each job, each asset's age against its freshness policy and each data-
quality check's latest result; from the published warehouse, the rows of each mart; from
MLflow, the held-out metrics of each champion and the drift of the live dropout scores that
the ``dropout_score_drift`` asset last measured.
"""

import logging
import math
import threading
import time
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from learnlake.settings import Settings

log = logging.getLogger(__name__)

EVERY_S = 30.0
MODEL_METRIC_PREFIXES = ("test_",)  # held-out figures only, never a training metric


class PipelineState(Collector):
    """The figures above, read again when a scrape comes more than ``EVERY_S`` after the last read."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._cached: tuple[float, list] = (float("-inf"), [])

    def collect(self):
        with self._lock:
            read_at, families = self._cached
            if time.monotonic() - read_at >= EVERY_S:
                families = []
                for part in (self._dagster, self._marts, self._models):
                    try:
                        families.extend(part())
                    except Exception:  # one unreadable store must not hide the others
                        log.warning("pipeline metrics: %s failed", part.__name__, exc_info=True)
                self._cached = (time.monotonic(), families)
        yield from families

    def _dagster(self) -> list:
        import dagster as dg

        from pipelines.definitions import load_definitions
        from pipelines.run import dagster_instance

        last_success = GaugeMetricFamily("learnlake_pipeline_last_success_timestamp_seconds",
                                         "When each job last ended successfully", labels=["job"])
        last_failed = GaugeMetricFamily("learnlake_pipeline_last_run_failed",
                                        "1 when the job's latest finished run failed", labels=["job"])
        age = GaugeMetricFamily("learnlake_asset_age_seconds", "Time since an asset was last materialised",
                                labels=["asset"])
        limit = GaugeMetricFamily("learnlake_asset_freshness_limit_seconds",
                                  "The age past which an asset fails its freshness policy", labels=["asset"])
        check_failed = GaugeMetricFamily("learnlake_asset_check_failed",
                                         "1 when a data-quality check's latest evaluation failed",
                                         labels=["asset", "check"])
        now = time.time()
        instance = dagster_instance(self.settings)
        defs = load_definitions()
        for job in defs.resolve_all_job_defs():
            if job.name.startswith("__"):
                continue
            finished = instance.get_run_records(dg.RunsFilter(job_name=job.name, statuses=[
                dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]), limit=1)
            if finished:
                last_failed.add_metric([job.name], float(finished[0].dagster_run.status
                                                         == dg.DagsterRunStatus.FAILURE))
            succeeded = instance.get_run_records(dg.RunsFilter(job_name=job.name, statuses=[
                dg.DagsterRunStatus.SUCCESS]), limit=1)
            if succeeded and succeeded[0].end_time:
                last_success.add_metric([job.name], succeeded[0].end_time)
        for spec in defs.resolve_all_asset_specs():
            policy = spec.freshness_policy
            if policy is None or getattr(policy, "fail_window", None) is None:
                continue
            name = spec.key.to_user_string()
            limit.add_metric([name], policy.fail_window.to_timedelta().total_seconds())
            event = instance.get_latest_materialization_event(spec.key)
            age.add_metric([name], now - event.timestamp if event is not None else math.inf)
        for key in defs.resolve_asset_graph().asset_check_keys:
            record = instance.get_latest_asset_check_evaluation_record(key)
            evaluation = record.evaluation if record is not None else None
            if evaluation is not None:
                check_failed.add_metric([key.asset_key.to_user_string(), key.name], float(not evaluation.passed))
        return [last_success, last_failed, age, limit, check_failed]

    def _marts(self) -> list:
        from lake.warehouse import published_warehouse

        rows = GaugeMetricFamily("learnlake_mart_rows", "Rows of each mart in the published warehouse",
                                 labels=["mart"])
        published = self.settings.published_warehouse_path
        if published.exists():
            with published_warehouse(self.settings) as con:
                marts = [name for (name,) in con.execute(
                    "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()]
                for mart in marts:
                    rows.add_metric([mart], con.execute(f'select count(*) from marts."{mart}"').fetchone()[0])
        return [rows]

    def _models(self) -> list:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        from models import names
        from models.tracking import CHAMPION

        figures = GaugeMetricFamily("learnlake_model_metric", "Held-out metrics of each champion model",
                                    labels=["model", "metric"])
        trained = GaugeMetricFamily("learnlake_model_trained_timestamp_seconds",
                                    "When each champion's training run ended", labels=["model"])
        drift = GaugeMetricFamily("learnlake_model_score_psi", "Population stability index of the live scores "
                                  "against the champion's training scores", labels=["model"])
        uri = self.settings.mlflow_tracking_uri
        if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
            return [figures, trained, drift]  # nothing trained yet
        client = MlflowClient(uri, uri)
        for model in (names.POPULARITY, names.KNOWLEDGE_TRACING, names.NEXT_ITEMS, names.DROPOUT):
            try:
                version = client.get_model_version_by_alias(model, CHAMPION)
            except MlflowException:
                continue
            run = client.get_run(version.run_id)
            for metric, value in run.data.metrics.items():
                if metric.startswith(MODEL_METRIC_PREFIXES):
                    figures.add_metric([model, metric], value)
            if run.info.end_time:
                trained.add_metric([model], run.info.end_time / 1000)
        latest = _latest_drift(self.settings)
        if latest is not None:
            drift.add_metric([names.DROPOUT], latest)
        return [figures, trained, drift]


def _latest_drift(settings: Settings) -> float | None:
    """The PSI the ``dropout_score_drift`` asset last recorded, if it has run."""
    from pipelines.defs.models.assets import dropout_score_drift
    from pipelines.run import dagster_instance

    event = dagster_instance(settings).get_latest_materialization_event(dropout_score_drift.key)
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("psi")
    return float(value.value) if value is not None else None


def serve_forever(settings: Settings, host: str, port: int) -> None:
    """Serve ``/metrics`` on ``host:port`` until the process is stopped."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineState(settings))
    server, thread = start_http_server(port, addr=host, registry=registry)
    log.info("pipeline metrics on http://%s:%s/metrics", host, port)
    try:
        thread.join()
    finally:
        server.shutdown()
