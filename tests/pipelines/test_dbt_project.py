import re
import subprocess

from pipelines.defs.transforms.project import DBT_EXECUTABLE, dbt_resource


def test_the_dbt_version_handed_to_dagster_dbt_is_the_one_the_executable_reports():
    # dagster-dbt is told the version (from the package metadata) instead of starting `dbt --version`
    # before each run: it must be the version of the executable it runs.
    reported = subprocess.run([DBT_EXECUTABLE, "--version"], capture_output=True, text=True, check=True).stdout
    installed = re.search(r"installed:\s*(\d+\.\d+\.\d+)", reported)
    assert installed, reported
    assert str(dbt_resource()._cli_version) == installed.group(1)
