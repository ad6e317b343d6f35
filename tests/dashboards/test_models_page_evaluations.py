"""The Models page charts each `learnlake eval` run's headline beside its baseline, trained models or not."""

import json

import pytest
import streamlit as st
from mlflow import MlflowClient
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboards import evaluation_views
from dashboards.api import SignedIn
from dashboards.session import KEY
from learnlake.cli import app as cli
from models.evaluation import EXPERIMENT
from models.headline import HEADLINE
from tests.conftest import REPO_ROOT

PAGE = str(REPO_ROOT / "dashboards" / "pages" / "models.py")


def _evaluate_reviews(seed: int) -> dict:
    """``learnlake eval reviews`` on a small simulation (no data set needed): its headline comparison."""
    result = CliRunner().invoke(cli, ["eval", "reviews", "--learners", "40", "--seed", str(seed), "--json"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(result.stdout)[HEADLINE]["truly_weakest"]


def _models_page() -> AppTest:
    st.cache_data.clear()  # the page keeps its reads for a minute, across the apps of this process
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[KEY] = SignedIn("a-token", "user-ml", "An ML engineer", "ml@example.org", "ml_engineer")
    return at.run()


def test_the_page_reads_the_experiment_and_the_headline_that_the_evaluations_write():
    # The dashboards may not import models/: the names are written twice, and held equal here.
    assert (evaluation_views.EVALUATIONS, evaluation_views.HEADLINE) == (EXPERIMENT, HEADLINE)


def test_each_evaluation_is_charted_beside_its_baseline_and_listed_newest_first(learnlake_home):
    older, newer = _evaluate_reviews(7), _evaluate_reviews(8)
    # A run that failed while it was logged: its headline's words, none of its figures. It is not listed.
    client = MlflowClient(learnlake_home.mlflow_tracking_uri)
    failed = client.create_run(client.get_experiment_by_name(EXPERIMENT).experiment_id,
                               tags={"learnlake.evaluation": "kt", **{f"{HEADLINE}.test_auc.{word}": "x"
                                                                      for word in ("measure", "model", "baseline")}})
    client.set_terminated(failed.info.run_id, "FAILED")
    at = _models_page()
    assert not at.exception, at.exception
    # Evaluations are shown before any model is trained: they read data sets, not the lake.
    assert [i.value for i in at.info] == ["No data yet: no model is registered."]
    assert "Evaluations on real data" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "baseline value" in d.value.columns)
    assert list(table["data"]) == ["simulated learners"] * 2 and list(table["evaluation"]) == ["reviews"] * 2
    for (_, row), figures in zip(table.iterrows(), (newer, older), strict=True):  # the newest run first
        assert (row["measure"], row["model"], row["baseline"]) == (figures["measure"], figures["model"],
                                                                   figures["baseline"])
        assert (row["value"], row["baseline value"]) == pytest.approx((figures["value"], figures["baseline_value"]))
        assert row["gain"] == pytest.approx(figures["value"] - figures["baseline_value"])
    newest, over_runs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert '"bar"' in newest and '"yOffset"' in newest and '"method"' in newest
    # The measure ran twice on the same data: it can be followed over its runs.
    [chooser] = [s for s in at.selectbox if s.label == "Over its runs"]
    assert chooser.options == [f"reviews on simulated learners: {newer['measure']}"]
    assert '"line"' in over_runs and '"run at"' in over_runs
    assert len(at.get("download_button")) == 1


def test_with_nothing_evaluated_the_section_says_how_to_evaluate(learnlake_home):
    from models.tracking import configure_mlflow

    configure_mlflow(learnlake_home)  # a registry with no evaluation in it
    at = _models_page()
    assert not at.exception, at.exception
    assert any(i.value.startswith("No data yet: no evaluation on real data") and "learnlake eval" in i.value
               for i in at.info)
