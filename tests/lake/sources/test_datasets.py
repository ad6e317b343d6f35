"""Real datasets into the lake: ASSISTments, KDD Cup 2015 and OULAD, checked against the raw files."""

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from lake import readers
from lake.sources.datasets.assistments import read_sequences
from lake.sources.datasets.common import DatasetError
from lake.sources.datasets.loading import load_dataset
from learnlake import cli

from ...conftest import real_data_dir

DATA_DIR = real_data_dir()


def _dataset_dir(name: str) -> Path:
    path = DATA_DIR / name
    if not path.is_dir():
        pytest.skip(f"real dataset {name} not found at {path} (set LEARNLAKE_DATA_DIR)")
    return path


def test_assistments_answers_match_the_three_line_files(learnlake_home):
    data = _dataset_dir("assistments")
    report = load_dataset("assistments", data, learnlake_home)
    # 224,218 train and 101,419 test answers (the DKVMN split); fold files repeat train and are not read.
    assert report.events == 325_637 and report.appended
    events = readers.read_table("bronze.events").filter(pl.col("source") == "assistments")
    assert events.height == events["event_id"].n_unique() == 325_637
    train = next(data.rglob("*_updated_train.csv"))
    sequences = read_sequences(train)
    first = events.filter(pl.col("payload").str.contains(f'"file":"{train.name}","skill_id":')).sort("timestamp")
    learner = first["learner_id"][0]
    mine = events.filter(pl.col("learner_id") == learner).sort("timestamp")
    skills, answers = next((s, a) for s, a in sequences if len(s) == mine.height)
    assert mine["result_success"].to_list() == [bool(a) for a in answers]
    assert mine["object_id"].to_list() == [f"assistments:skill:{s}" for s in skills]
    correct = sum(sum(a) for _, a in sequences)
    assert events.filter(pl.col("payload").str.contains('"split":"train"'))["result_success"].sum() == correct
    assert not load_dataset("assistments", data, learnlake_home).appended  # same files: nothing added


def test_kddcup2015_counts_become_events_and_labels(learnlake_home):
    data = _dataset_dir("kddcup2015")
    report = load_dataset("kddcup2015", data, learnlake_home)
    raw = pl.concat([pl.read_csv(p) for p in sorted(data.glob("trainCourse*.csv"))])
    counted = raw.select(pl.sum_horizontal(pl.col("^event_.*$")).sum()).item()
    assert report.events == counted
    events = readers.read_table("bronze.events").filter(pl.col("source") == "kddcup2015")
    assert events.height == events["event_id"].n_unique() == counted
    videos = raw["event_video"].sum()
    assert events.filter(pl.col("verb") == "played").height == videos
    labels = readers.read_table("labels.dropout")
    truth = pl.read_csv(data / "truth_train.csv", schema_overrides={"enrollment_id": pl.String})
    logged = truth.filter(pl.col("enrollment_id").is_in(raw["enrollment_id"].cast(pl.String).unique().implode()))
    assert labels.height == logged.height
    assert labels["dropped_out"].sum() == logged["label"].sum()
    # A label and its enrollment's events name the same pseudonymous learner.
    pairs = events.select("context_registration", "learner_id").unique().join(
        labels.select("enrollment_id", pl.col("learner_id").alias("labelled")),
        left_on="context_registration", right_on="enrollment_id")
    assert pairs.height > 0.9 * labels.height
    assert (pairs["learner_id"] == pairs["labelled"]).all()


def test_a_malformed_file_is_a_clear_error_and_stores_nothing(learnlake_home, tmp_path):
    (tmp_path / "broken_train.csv").write_text("3\n1,2,3\n1,0\n")
    with pytest.raises(DatasetError, match="3 answers announced, 3 skills, 2 answers given"):
        load_dataset("assistments", tmp_path, learnlake_home)
    assert not readers.table_exists("bronze.events")
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("moodle", tmp_path, learnlake_home)


def test_any_directory_in_the_layout_loads_through_the_cli(learnlake_home, tmp_path):
    (tmp_path / "mine_train.csv").write_text("2\n7,7\n1,0\n1\n3\n1\n")
    (tmp_path / "mine_test.csv").write_text("1\n7\n0\n")
    result = CliRunner().invoke(cli.app, ["datasets", "load", "assistments", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "4 events" in result.output
    events = readers.read_table("bronze.events")
    assert events["result_success"].to_list().count(True) == 2


def test_oulad_registrations_and_graded_assessments_with_outcomes(learnlake_home):
    data = _dataset_dir("oulad")
    report = load_dataset("oulad", data, learnlake_home)
    info = pl.read_csv(data / "studentInfo.csv")
    registrations = pl.read_csv(data / "studentRegistration.csv", null_values=["", "?"])
    results = pl.read_csv(data / "studentAssessment.csv", null_values=["", "?"])
    events = readers.read_table("bronze.events").filter(pl.col("source") == "oulad")
    assert report.events == events.height == events["event_id"].n_unique()
    assert events.filter(pl.col("verb") == "registered").height == registrations["date_registration"].count()
    graded = events.filter(pl.col("verb") == "completed")
    assert graded.height == results.height
    assert graded["result_score"].mean() == pytest.approx(results["score"].mean() / 100)
    assert graded["result_success"].sum() == (results["score"] >= 40).sum()
    # A student's events and outcome sit in one course (module presentation), under one learner id.
    first = info.row(0, named=True)
    course = f"oulad:{first['code_module']}-{first['code_presentation']}"
    labels = readers.read_table("labels.dropout").filter(pl.col("source") == "oulad")
    assert labels.height == info.height
    assert labels.group_by("final_result").len().sort("final_result").rows() == \
        info.group_by("final_result").len().sort("final_result").rows()
    assert labels["dropped_out"].sum() == (info["final_result"] == "Withdrawn").sum()
    mine = labels.filter(pl.col("enrollment_id") == f"{course}:{first['id_student']}")
    assert events.filter(pl.col("learner_id") == mine["learner_id"][0], pl.col("course_id") == course).height >= 1


def _oulad_with_clicks(directory: Path, rows: list[tuple]) -> Path:
    """The real OULAD files (symlinked) and a small made-up ``studentVle.csv``: the shared copy has none."""
    for path in _dataset_dir("oulad").glob("*.csv"):
        (directory / path.name).symlink_to(path)
    pl.DataFrame(rows, schema=["code_module", "code_presentation", "id_student", "id_site", "date", "sum_click"],
                 orient="row").write_csv(directory / "studentVle.csv")
    return directory


def test_oulad_clickstream_rows_become_one_view_each_on_their_site(learnlake_home, tmp_path):
    info = pl.read_csv(_dataset_dir("oulad") / "studentInfo.csv")
    sites = pl.read_csv(_dataset_dir("oulad") / "vle.csv", null_values=["", "?"])
    student = info.row(0, named=True)
    module, presentation = student["code_module"], student["code_presentation"]
    own = sites.filter(pl.col("code_module") == module, pl.col("code_presentation") == presentation)
    forum = own.filter(pl.col("activity_type") == "forumng")["id_site"][0]
    content = own.filter(pl.col("activity_type") == "oucontent")["id_site"][0]
    rows = [(module, presentation, student["id_student"], forum, -3, 4),
            (module, presentation, student["id_student"], content, 10, 25),
            # OULAD repeats a site and day for one student at times: both rows are kept.
            (module, presentation, student["id_student"], content, 10, 2),
            (module, presentation, 999_999_999, content, 12, 1)]  # a student no other file names
    data = _oulad_with_clicks(tmp_path, rows)
    report = load_dataset("oulad", data, learnlake_home)
    views = readers.read_table("bronze.events").filter(pl.col("source") == "oulad", pl.col("verb") == "viewed")
    assert views.height == len(rows) and views["event_id"].n_unique() == len(rows)
    course = f"oulad:{module}-{presentation}"
    assert set(views["course_id"]) == {course}
    assert views.filter(pl.col("object_id") == f"oulad:site:{forum}")["object_type"].to_list() == ["forum"]
    assert set(views.filter(pl.col("object_id") == f"oulad:site:{content}")["object_type"]) == {"page"}
    clicks = views["payload"].map_elements(lambda p: json.loads(p)["sum_click"], return_dtype=pl.Int64)
    assert clicks.sum() == sum(r[-1] for r in rows)
    # Days count from the presentation's start (J: 1 October), as for the other OULAD events.
    assert sorted(views["event_date"].cast(pl.String).unique()) == [
        f"{presentation[:4]}-09-28", f"{presentation[:4]}-10-11", f"{presentation[:4]}-10-13"]
    assert load_dataset("oulad", data, learnlake_home).appended is False, "the same files again add nothing"
    assert readers.read_table("bronze.events").filter(pl.col("source") == "oulad").height == report.events


def test_oulad_clickstream_with_negative_clicks_is_refused_and_nothing_written(learnlake_home, tmp_path):
    data = _oulad_with_clicks(tmp_path, [("AAA", "2013J", 11391, 546669, 5, -2)])
    with pytest.raises(DatasetError, match="negative click counts"):
        load_dataset("oulad", data, learnlake_home)
    assert not readers.table_exists("bronze.events")
