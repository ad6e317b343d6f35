"""The dbt project object, built once (CONVENTIONS.md), and how its manifest is prepared."""

import os
import sys
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as package_version
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from learnlake.settings import get_settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
# The dbt next to this interpreter, so nothing depends on the virtual environment being activated.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target="dev")
# Under `dagster dev` the manifest is rebuilt on load; elsewhere call prepare_manifest() first.
dbt_project.prepare_if_dev()


class ProjectDbtCli(DbtCliResource):
    """dagster-dbt's CLI resource, told the dbt version instead of asking for it.

    The resource starts ``dbt --version`` (about 2.5 s of imports) before its first command to
    learn the version; our executable is the dbt-core installed beside this interpreter, so the
    package metadata already says which. (Overrides a private member of dagster-dbt 1.13: if it is
    renamed, dbt is simply asked again.)"""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(package_version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    """The dbt CLI resource of this project."""
    return ProjectDbtCli(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def prepare_manifest() -> Path:
    """Run ``dbt parse`` so the dbt assets can be defined; returns the manifest path.

    It parses in the environment the build will have (this home's warehouse path): dbt parses
    the whole project again when the profile differs from the last parse's, and the build then
    reuses this parse instead."""
    with environment(get_settings().dbt_env()):
        dbt_resource().cli(["--quiet", "parse"], target_path=dbt_project.target_path).wait()
    return dbt_project.manifest_path


@contextmanager
def environment(variables: dict[str, str]):
    """Set variables for a subprocess started inside the block, then restore the old values."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
