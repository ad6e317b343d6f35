"""OULAD (Open University Learning Analytics Dataset) -> enrolment and graded events, and outcomes.

One course per module presentation (``oulad:AAA-2013J``). OULAD gives days relative to the
presentation's start, which it does not date: presentations ``B`` are taken to start on
1 February and ``J`` on 1 October of their year, as the dataset's documentation describes.
Registrations become ``registered`` events, unregistrations ``other`` events (the payload
says which), submitted assessments ``completed`` events with the score scaled to [0, 1] and
success at the Open University's pass mark of 40. When the VLE clickstream
(``studentVle.csv``) is there, each of its rows (a student's clicks on one VLE site on one day)
becomes one ``viewed`` event on that site, the clicks counted in the payload: one event per
visit, not per click, so that a day of 200 clicks does not become 200 events. Each student's
final result is their enrollment's label: ``Withdrawn`` is a dropout. Demographic columns are
not read.
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
CLICKSTREAM = "studentVle.csv"
# VLE site types (``vle.csv``) as the marts' content types; any other type is a page.
SITE_OBJECTS = {"forumng": "forum", "ouwiki": "wiki", "quiz": "quiz", "externalquiz": "quiz"}


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


def clickstream(data_dir: Path) -> Path | None:
    """The VLE clickstream under ``data_dir``, if it is there (the shared OULAD leaves it out)."""
    return next(iter(sorted(data_dir.rglob(CLICKSTREAM))), None)


def clickstream_files(data_dir: Path) -> list[Path]:
    """The clickstream and the site list that names its activity types, when the clickstream is there."""
    clicks = clickstream(data_dir)
    return [clicks, *sorted(data_dir.rglob("vle.csv"))[:1]] if clicks else []


def _site_types(data_dir: Path) -> pl.DataFrame:
    """Each VLE site's object type, from ``vle.csv`` when it is there (else every site is a page)."""
    if not any(data_dir.rglob("vle.csv")):
        return pl.DataFrame(schema={"id_site": pl.Int64, "code_module": pl.String, "code_presentation": pl.String,
                                    "object_type": pl.String})
    return read_file(data_dir, "vle.csv").select(
        pl.col("id_site").cast(pl.Int64), "code_module", "code_presentation",
        pl.col("activity_type").replace_strict(SITE_OBJECTS, default="page").alias("object_type"))


def _vle_views(data_dir: Path, clicks_file: Path) -> pl.DataFrame:
    """One ``viewed`` event per clickstream row; a second row for the same site and day (OULAD has
    some) is told apart by its rank among them, so the ids stay the same from one load to the next."""
    clicks = pl.read_csv(clicks_file, null_values=["", "?"], infer_schema_length=None,
                         schema_overrides={"id_site": pl.Int64, "date": pl.Int64, "sum_click": pl.Int64})
    missing = {"code_module", "code_presentation", "id_student", "id_site", "date", "sum_click"} - set(clicks.columns)
    if missing:
        raise DatasetError(f"{clicks_file} lacks the columns {sorted(missing)}")
    if clicks["sum_click"].min() is not None and clicks["sum_click"].min() < 0:
        raise DatasetError(f"{clicks_file}: negative click counts")
    clicks = _with_course(clicks.drop_nulls(["id_student", "id_site", "date"]))
    visit = ["id_student", "course_id", "id_site", "date"]
    clicks = clicks.sort(*visit, "sum_click").with_columns(pl.int_range(pl.len()).over(visit).alias("repeat"))
    return clicks.join(_site_types(data_dir), on=["id_site", "code_module", "code_presentation"], how="left").select(
        pl.lit("viewed").alias("verb"), pl.col("object_type").fill_null("page"),
        pl.format("oulad:site:{}", "id_site").alias("object_id"), "course_id", "id_student",
        pl.format("{}:{}", "course_id", "id_student").alias("context_registration"),
        (pl.col("start") + pl.duration(days=pl.col("date"))).alias("timestamp"),
        pl.format('{{"oulad_event": "vle", "sum_click": {}}}', "sum_click").alias("payload"),
        pl.format("{}:{}", "date", "repeat").alias("visit"))


def load(data_dir: Path, pseudonym_key: str) -> DatasetLoad:
    info = _with_course(read_file(data_dir, "studentInfo.csv"))
    registrations = _with_course(read_file(data_dir, "studentRegistration.csv"))
    assessments = _with_course(read_file(data_dir, "assessments.csv"))
    submitted = read_file(data_dir, "studentAssessment.csv")
    clicks_file = clickstream(data_dir)
    views = [_vle_views(data_dir, clicks_file)] if clicks_file else []
    students = pl.concat([info["id_student"], registrations["id_student"], submitted["id_student"],
                          *(v["id_student"] for v in views)]).unique()
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
    events = pl.concat([registered, unregistered, graded, *views], how="diagonal_relaxed").sort("timestamp", "object_id")
    # The same site is viewed on many days: a visit's key adds its day and rank.
    key = pl.concat_str("context_registration", "verb", "object_id", separator=":")
    if "visit" in events.columns:
        key = key + pl.format(":{}", "visit").fill_null("")
    events = events.with_columns(
        event_ids(NAME, events.select(key).to_series()),
        pl.col("id_student").replace_strict(learners, return_dtype=pl.String).alias("learner_id"),
        pl.col("timestamp").dt.cast_time_unit("us"),
    ).drop("id_student", "visit", strict=False)
    if events["event_id"].n_unique() != events.height:
        raise DatasetError("the same student has two identical records for one assessment or registration")
    labels = info.select(
        pl.lit(NAME).alias("source"), enrollment.alias("enrollment_id"),
        pl.col("id_student").replace_strict(learners, return_dtype=pl.String).alias("learner_id"), "course_id",
        (pl.col("final_result") == "Withdrawn").alias("dropped_out"), "final_result",
    ).to_arrow()
    files = [next(iter(sorted(data_dir.rglob(name)))) for name in FILES]
    files += clickstream_files(data_dir)
    return DatasetLoad(NAME, to_bronze(events, NAME), labels={"labels.dropout": pa.Table.from_batches(
        labels.cast(DROPOUT_LABELS).to_batches(), schema=DROPOUT_LABELS)}, files=files)
