"""The dbt project object, built once (CONVENTIONS.md), and how its manifest is prepared."""

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
# The dbt next to this interpreter, so nothing depends on the virtual environment being activated.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target="dev")
# Under `dagster dev` the manifest is rebuilt on load; elsewhere call prepare_manifest() first.
dbt_project.prepare_if_dev()


def dbt_resource() -> DbtCliResource:
    """The dbt CLI resource of this project."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def prepare_manifest() -> Path:
    """Run ``dbt parse`` so the dbt assets can be defined; returns the manifest path."""
    dbt_resource().cli(["--quiet", "parse"], target_path=dbt_project.target_path).wait()
    return dbt_project.manifest_path
