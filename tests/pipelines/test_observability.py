"""What operators see of the pipeline, on the small demo: its metrics, and a sensor that does not redo the demo."""

import dagster as dg
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from models.names import DROPOUT
from tests.conftest import use_home

pytestmark = pytest.mark.integration


@pytest.fixture
def demo(small_demo, monkeypatch):
    settings, _ = small_demo
    use_home(monkeypatch, settings)
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    from pipelines.defs.transforms.project import prepare_manifest

    prepare_manifest()
    return settings


def test_after_the_demo_the_bronze_sensor_waits_for_new_events_instead_of_rebuilding_everything(demo):
    from lake.readers import table_version
    from pipelines.defs.lake.sensors import bronze_events_sensor
    from pipelines.defs.resources import LearnLake

    instance = dg.DagsterInstance.from_config(str(demo.dagster_home))
    context = dg.build_sensor_context(instance=instance, resources={"learnlake": LearnLake()})
    skipped = bronze_events_sensor(context)
    assert isinstance(skipped, dg.SkipReason), skipped
    version = table_version("bronze.events", demo)
    assert context.cursor == str(version)
    # A version past the cursor is a run, as before (seen here with a cursor one behind: the demo's lake is
    # shared by the session and is not written to; tests/pipelines/test_definitions.py appends for real).
    request = bronze_events_sensor(dg.build_sensor_context(instance=instance, cursor=str(version - 1),
                                                           resources={"learnlake": LearnLake()}))
    assert isinstance(request, dg.RunRequest) and request.run_key == f"bronze.events@{version}"


def test_pipeline_metrics_say_when_each_job_succeeded_how_fresh_and_checked_the_data_is_and_how_the_models_do(demo):
    from pipelines.metrics import PipelineState

    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineState(demo))
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(generate_latest(registry).decode())
               for s in family.samples}
    names = {name for name, _ in samples}

    assert samples[("learnlake_pipeline_last_success_timestamp_seconds", (("job", "learnlake_all_assets"),))] > 0
    assert samples[("learnlake_pipeline_last_run_failed", (("job", "learnlake_all_assets"),))] == 0
    age = samples[("learnlake_asset_age_seconds", (("asset", "published_warehouse"),))]
    assert 0 < age < samples[("learnlake_asset_freshness_limit_seconds", (("asset", "published_warehouse"),))]
    checks = {labels: value for (name, labels), value in samples.items() if name == "learnlake_asset_check_failed"}
    assert len(checks) >= 5 and set(checks.values()) <= {0.0, 1.0}
    assert samples[("learnlake_mart_rows", (("mart", "fct_enrollments"),))] > 0
    assert 0.5 < samples[("learnlake_model_metric", (("metric", "test_auc"), ("model", DROPOUT)))] <= 1
    assert not any(labels and dict(labels).get("metric", "").startswith("train") for _, labels in samples)
    assert "learnlake_model_score_psi" in names
    assert samples[("learnlake_model_score_psi", (("model", DROPOUT),))] >= 0
