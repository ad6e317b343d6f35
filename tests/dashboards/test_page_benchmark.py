"""`learnlake bench dashboards` on the demo: every page of every demo account timed in Chromium.

A module of its own: Playwright's sync API cannot start while another module's browser runs.
"""

import json

import pytest
from typer.testing import CliRunner

from learnlake.cli import app
from tests.dashboards.test_in_a_browser import PAGES

pytestmark = pytest.mark.integration


def test_the_page_benchmark_times_every_page_of_every_demo_account(served_demo):
    result = CliRunner().invoke(app, ["bench", "dashboards", "--home", str(served_demo["home"]), "--rounds", "1",
                                      "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    timed = {(p["role"], p["page"]) for p in figures["pages"]}
    assert {(role, title) for role, titles in PAGES.items() for title in titles} == timed
    assert all(0 < p["median_s"] <= p["worst_s"] < 30 and 0 < p["cold_s"] < 60 for p in figures["pages"])
