"""``eval atrisk`` with OULAD's VLE clickstream: the shared OULAD leaves ``studentVle.csv`` out, so
these tests add a made-up one beside the real files (symlinked) and check what the model reads.

Clicks before the cut-off carry signal here (at-risk students click less); clicks after it give the
outcome away outright, so a model that read them would score near 1.
"""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lake.sources.datasets.oulad import CLICKSTREAM
from models.dropout import oulad
from tests.conftest import real_data_dir

SOURCE = real_data_dir() / "oulad"
CUTOFF = 30


@pytest.fixture(scope="module")
def baseline_auc() -> float:
    if not SOURCE.is_dir():
        pytest.skip(f"{SOURCE} is absent")
    return oulad.evaluate(SOURCE, cutoffs=(CUTOFF,))["cutoffs"][f"day_{CUTOFF}"]["auc"]


def _with_clicks(directory: Path, *, before_signal: float, after_signal: float) -> Path:
    """The real OULAD files, plus a clickstream whose clicks before and after the cut-off lean
    towards the students who pass by the given strengths (0: no signal)."""
    for path in SOURCE.glob("*.csv"):
        (directory / path.name).symlink_to(path)
    students = oulad.read_file(SOURCE, "studentInfo.csv").select(*oulad.KEY, "final_result")
    sites = oulad.read_file(SOURCE, "vle.csv").select("id_site", "code_module", "code_presentation")
    rng = np.random.default_rng(0)
    rows = []
    for module, presentation, student, result in students.iter_rows():
        passes = result not in oulad.AT_RISK_RESULTS
        own = sites.filter((pl.col("code_module") == module) & (pl.col("code_presentation") == presentation))
        site_ids = own["id_site"].to_list()
        for date, strength in ((-5, before_signal), (10, before_signal), (25, before_signal),
                               (120, after_signal), (150, after_signal)):
            clicks = int(rng.poisson(3 + strength * 10 * passes))
            if clicks:
                rows.append((module, presentation, student, site_ids[int(rng.integers(len(site_ids)))], date, clicks))
    pl.DataFrame(rows, schema=["code_module", "code_presentation", "id_student", "id_site", "date", "sum_click"],
                 orient="row").write_csv(directory / CLICKSTREAM)
    return directory


def test_clicks_up_to_the_cut_off_are_read_when_the_clickstream_is_there(tmp_path, baseline_auc):
    result = oulad.evaluate(_with_clicks(tmp_path, before_signal=0.2, after_signal=0.0), cutoffs=(CUTOFF,))
    assert result["vle_clicks"] is True
    assert result["cutoffs"][f"day_{CUTOFF}"]["auc"] > baseline_auc + 0.05
    assert oulad.clickstream(tmp_path) in oulad.input_files(tmp_path), "the clicks are part of the run's fingerprint"


def test_no_click_after_the_cut_off_reaches_a_feature(tmp_path, baseline_auc):
    result = oulad.evaluate(_with_clicks(tmp_path, before_signal=0.0, after_signal=1.0), cutoffs=(CUTOFF,))
    assert result["vle_clicks"] is True
    assert result["cutoffs"][f"day_{CUTOFF}"]["auc"] == pytest.approx(baseline_auc, abs=0.02)
    frame = oulad.student_features(tmp_path, CUTOFF)
    assert frame["days_since_last_click"].drop_nulls().min() >= 0


def test_without_a_clickstream_the_features_are_the_assessments_alone():
    if not SOURCE.is_dir():
        pytest.skip(f"{SOURCE} is absent")
    assert oulad.clickstream(SOURCE) is None
    assert "log_clicks" not in oulad.student_features(SOURCE, CUTOFF).columns
