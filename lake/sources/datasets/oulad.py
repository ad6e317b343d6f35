"""OULAD (Open University Learning Analytics Dataset) -> enrolment and graded events, and outcomes.

One course per module presentation (``oulad:AAA-2013J``). OULAD gives days relative to the
presentation's start, which it does not date: presentations ``B`` are taken to start on
1 February and ``J`` on 1 October of their year, as the dataset's documentation describes.
Registrations become ``registered`` events, unregistrations ``other`` events (the payload
says which), submitted assessments ``completed`` events with the score scaled to [0, 1] and
success at the Open University's pass mark of 40. Each student's final result is their
enrollment's label: ``Withdrawn`` is a dropout. Demographic columns are not read.
"""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from lake.schemas import DROPOUT_LABELS
from lake.sources.datasets.common import DatasetError, DatasetLoad, dataset_learner_id, event_ids, to_bronze

NAME = "oulad"
PASS_MARK = 40
FILES = ("courses.csv", "studentInfo.csv", "studentRegistration.csv", "assessments.csv", "studentAssessment.csv")
ASSESSMENT_OBJECTS = {"TMA": "assignment", "CMA": "quiz", "Exam": "quiz"}


def read_file(data_dir: Path, name: str) -> pl.DataFrame:
    """One OULAD file, found anywhere under ``data_dir``, with its missing values as nulls."""
    found = sorted(data_dir.rglob(name))
    if not found:
        raise DatasetError(f"{name} not found under {data_dir}; OULAD needs {', '.join(FILES)}")
    return pl.read_csv(found[0], null_values=["", "?"], infer_schema_length=None)


def _start(presentation: str) -> datetime:
    try:
        year, month = int(presentation[:4]), {"B": 2, "J": 10}[presentation[4]]
    except (ValueError, KeyError, IndexError) as exc:
        raise DatasetError(f"code_presentation {presentation!r} is not like 2013J or 2014B") from exc
    return datetime(year, month, 1, tzinfo=UTC)


def _with_course(frame: pl.DataFrame) -> pl.DataFrame:
    starts = {p: _start(p) for p in frame["code_presentation"].unique().to_list()}
    return frame.with_columns(
        pl.format("oulad:{}-{}", "code_module", "code_presentation").alias("course_id"),
        pl.col("code_presentation").replace_strict(starts, return_dtype=pl.Datetime("us", "UTC")).alias("start"),
    )


def load(data_dir: Path, pseudonym_key: str) -> DatasetLoad:
    info = _with_course(read_file(data_dir, "studentInfo.csv"))
    registrations = _with_course(read_file(data_dir, "studentRegistration.csv"))
    assessments = _with_course(read_file(data_dir, "assessments.csv"))
    submitted = read_file(data_dir, "studentAssessment.csv")
    students = pl.concat([info["id_student"], registrations["id_student"], submitted["id_student"]]).unique()
    learners = {s: dataset_learner_id(NAME, f"student:{s}", pseudonym_key) for s in students.to_list()}
    enrollment = pl.format("{}:{}", "course_id", "id_student")

    registered = registrations.filter(pl.col("date_registration").is_not_null()).select(
        pl.lit("registered").alias("verb"), pl.lit("course").alias("object_type"), pl.col("course_id").alias(
            "object_id"), "course_id", "id_student", enrollment.alias("context_registration"),
        (pl.col("start") + pl.duration(days=pl.col("date_registration"))).alias("timestamp"),
        pl.lit('{"oulad_event": "registration"}').alias("payload"))
    unregistered = registrations.filter(pl.col("date_unregistration").is_not_null()).select(
        pl.lit("other").alias("verb"), pl.lit("course").alias("object_type"), pl.col("course_id").alias(
            "object_id"), "course_id", "id_student", enrollment.alias("context_registration"),
        (pl.col("start") + pl.duration(days=pl.col("date_unregistration"))).alias("timestamp"),
        pl.lit('{"oulad_event": "unregistration"}').alias("payload"))
    graded = submitted.join(assessments, on="id_assessment", how="inner").select(
        pl.lit("completed").alias("verb"),
        pl.col("assessment_type").replace_strict(ASSESSMENT_OBJECTS, default="assignment").alias("object_type"),
        pl.format("oulad:assessment:{}", "id_assessment").alias("object_id"), "course_id", "id_student",
        enrollment.alias("context_registration"),
        (pl.col("start") + pl.duration(days=pl.col("date_submitted"))).alias("timestamp"),
        (pl.col("score") / 100).alias("result_score"), (pl.col("score") >= PASS_MARK).alias("result_success"),
        pl.lit(True).alias("result_completion"),
        pl.format('{{"oulad_event": "assessment", "assessment_type": "{}", "weight": {}, "is_banked": {}}}',
                  "assessment_type", "weight", "is_banked").alias("payload"))
    if graded.height < submitted.height:
        raise DatasetError(f"{submitted.height - graded.height} assessment results name no known assessment")
    if graded["result_score"].drop_nulls().is_between(0, 1).not_().any():
        raise DatasetError("assessment scores must lie between 0 and 100")
    events = pl.concat([registered, unregistered, graded], how="diagonal_relaxed").sort("timestamp", "object_id")
    keys = (events["context_registration"] + ":" + events["verb"] + ":" + events["object_id"]).to_list()
    events = events.with_columns(
        pl.Series("event_id", event_ids(NAME, keys)),
        pl.col("id_student").replace_strict(learners, return_dtype=pl.String).alias("learner_id"),
        pl.col("timestamp").dt.cast_time_unit("us"),
    ).drop("id_student")
    if events["event_id"].n_unique() != events.height:
        raise DatasetError("the same student has two identical records for one assessment or registration")
    labels = info.select(
        pl.lit(NAME).alias("source"), enrollment.alias("enrollment_id"),
        pl.col("id_student").replace_strict(learners, return_dtype=pl.String).alias("learner_id"), "course_id",
        (pl.col("final_result") == "Withdrawn").alias("dropped_out"), "final_result",
    ).to_arrow()
    files = [next(iter(sorted(data_dir.rglob(name)))) for name in FILES]
    return DatasetLoad(NAME, to_bronze(events, NAME), labels={"labels.dropout": pa.Table.from_batches(
        labels.cast(DROPOUT_LABELS).to_batches(), schema=DROPOUT_LABELS)}, files=files)
