"""`learnlake bench dashboards` on the demo: every page of every demo account timed in Chromium.

A module of its own: Playwright's sync API cannot start while another module's browser runs.
"""

import json

import pytest
from typer.testing import CliRunner

from benchmarks.dashboards import PAGES as BENCH_PAGES
from learnlake.cli import app
from tests.dashboards.test_in_a_browser import PAGES

pytestmark = pytest.mark.integration


def test_the_page_benchmark_times_the_pages_of_the_roles_asked_for(served_demo):
    """Two roles' pages (every page of every role opens in Chromium in test_in_a_browser.py; timing them all again
    took two minutes of the suite)."""
    roles = ["learner", "analyst"]
    result = CliRunner().invoke(app, ["bench", "dashboards", "--home", str(served_demo["home"]), "--rounds", "1",
                                      *[arg for role in roles for arg in ("--role", role)], "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    timed = {(p["role"], p["page"]) for p in figures["pages"]}
    assert {(role, title) for role in roles for title in PAGES[role]} == timed
    assert all(0 < p["median_s"] <= p["worst_s"] < 30 and 0 < p["cold_s"] < 60 for p in figures["pages"])
    assert BENCH_PAGES == PAGES, "without --role the benchmark times every page the app shows each role"


def test_the_page_benchmark_refuses_a_role_it_does_not_know(served_demo):
    result = CliRunner().invoke(app, ["bench", "dashboards", "--home", str(served_demo["home"]), "--role", "janitor"])
    assert result.exit_code == 2 and "no role janitor" in result.output
