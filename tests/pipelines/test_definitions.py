import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from pipelines.defs.transforms.project import prepare_manifest

    assert prepare_manifest().exists()
    from pipelines.definitions import defs

    return defs


def test_definitions_load_and_every_job_resolves(defs):
    jobs = defs.resolve_all_job_defs()
    assert "learnlake_all_assets" in {job.name for job in jobs}
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"bronze/events", "staging/stg_lake__events", "marts/fct_course_daily_active_learners",
            "published_warehouse", "popularity_recommender"} <= keys


def test_dbt_source_is_wired_to_the_lake_asset(defs):
    graph = defs.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_lake__events"]))
    assert dg.AssetKey(["bronze", "events"]) in staging.parent_keys
    published = graph.get(dg.AssetKey("published_warehouse"))
    assert dg.AssetKey(["marts", "fct_course_daily_active_learners"]) in published.parent_keys


def test_workspace_yaml_loads_the_definitions(defs):
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
