"""``eval dropout`` when the test courses' windows are not as long as the training courses': the
windows are aligned on their last day (what the label follows) and take the training window's length."""

from datetime import timedelta

import polars as pl
import pytest

from models.dropout import kddcup
from tests.conftest import real_data_dir

SOURCE = real_data_dir() / "kddcup2015"


@pytest.fixture(scope="module")
def files():
    if not SOURCE.is_dir():
        pytest.skip(f"{SOURCE} is absent")
    return sorted(SOURCE.glob("trainCourse*.csv"))


def _directory(path, members) -> str:
    path.mkdir()
    for member in members:
        (path / member.name).symlink_to(member)
    return path


def test_a_test_course_with_a_longer_or_shorter_window_is_scored_on_the_training_window(tmp_path, files):
    train = _directory(tmp_path / "train", [*files[:2], SOURCE / "truth_train.csv"])
    test_file = files[2]
    same = kddcup.evaluate(train, _directory(tmp_path / "same", [test_file]))
    daily = pl.read_csv(test_file, try_parse_dates=True)
    first = daily["time"].min()
    # A week more at the start (with no activity) changes nothing: the window keeps its last 30 days.
    longer = pl.concat([daily.filter(pl.col("time") == first).with_columns(
        (pl.col("time") - timedelta(days=d)).alias("time"), *[pl.lit(0, daily[c].dtype).alias(c) for c in daily.columns[2:]])
        for d in range(1, 8)] + [daily])
    (tmp_path / "longer").mkdir()
    longer.write_csv(tmp_path / "longer" / test_file.name)
    assert kddcup.evaluate(train, tmp_path / "longer")["auc"] == pytest.approx(same["auc"])
    # A week less: the course starts later in the window, and is still scored (not refused).
    (tmp_path / "shorter").mkdir()
    daily.filter(pl.col("time") >= first + timedelta(days=7)).write_csv(tmp_path / "shorter" / test_file.name)
    shorter = kddcup.evaluate(train, tmp_path / "shorter")
    assert shorter["test_enrollments"] == same["test_enrollments"] and shorter["auc"] > 0.75
