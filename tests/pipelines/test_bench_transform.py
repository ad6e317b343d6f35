"""The transform benchmark runs end to end on a small lake and prints its figures as JSON."""

import json

import pytest
from typer.testing import CliRunner

from learnlake.cli import app as cli

pytestmark = pytest.mark.integration


def test_bench_transform_prints_its_figures(learnlake_home):
    result = CliRunner().invoke(cli, ["bench", "transform", "--events", "5000", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["events"] == 5000 and figures["incremental_events"] == 50
    assert figures["full_build_s"] > 0 and figures["incremental_build_s"] > 0 and figures["scan_s"] >= 0
    assert figures["models_and_tests"] > 100
