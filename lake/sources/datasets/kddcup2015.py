"""KDD Cup 2015 (XuetangX) daily activity counts per enrollment -> events, and dropout labels.

``trainCourse<ID>.csv`` holds one row per enrollment and day with a count per event type;
each counted action becomes one event on that day (a second apart, in a fixed type order:
the counts carry no time of day). ``truth_train.csv`` gives the dropout label of each
enrollment. Enrollments are the only identity in the data, so each one is its own learner.
"""

from pathlib import Path

import polars as pl
import pyarrow as pa

from lake.schemas import DROPOUT_LABELS
from lake.sources.datasets.common import DatasetError, DatasetLoad, dataset_learner_id, event_ids, to_bronze

NAME = "kddcup2015"
# The log's event types, and what each one is in the native vocabulary.
EVENT_TYPES = {
    "access": ("viewed", "course"),
    "navigate": ("viewed", "page"),
    "page_close": ("other", "page"),
    "video": ("played", "video"),
    "problem": ("answered", "problem"),
    "discussion": ("other", "forum"),
    "wiki": ("viewed", "wiki"),
}


def course_files(data_dir: Path) -> list[Path]:
    files = sorted(data_dir.rglob("trainCourse*.csv"))
    if not files:
        raise DatasetError(f"no trainCourse<ID>.csv files under {data_dir}")
    return files


def read_course(path: Path) -> pl.DataFrame:
    """One course file: daily counts per enrollment, with ``course_id`` and ``time`` as a date."""
    wanted = ["enrollment_id", "time", *(f"event_{t}" for t in EVENT_TYPES)]
    try:
        frame = pl.read_csv(path, columns=wanted, schema_overrides={"enrollment_id": pl.String})
    except pl.exceptions.ColumnNotFoundError as exc:
        raise DatasetError(f"{path}: expected the columns {wanted}: {exc}") from exc
    return frame.with_columns(pl.lit(f"{NAME}:{path.stem.removeprefix('trainCourse')}").alias("course_id"),
                              pl.col("time").str.to_date("%Y-%m-%d"))


def load(data_dir: Path, pseudonym_key: str) -> DatasetLoad:
    files = course_files(data_dir)
    daily = pl.concat([read_course(path) for path in files])
    counts = daily.unpivot(index=["enrollment_id", "time", "course_id"], variable_name="kind", value_name="n")
    counts = counts.with_columns(pl.col("kind").str.strip_prefix("event_")).filter(pl.col("n") > 0)
    if counts["n"].min() is not None and counts["n"].min() < 0:
        raise DatasetError(f"negative event counts under {data_dir}")
    type_order = {kind: i for i, kind in enumerate(EVENT_TYPES)}
    actions = (
        counts.with_columns(pl.int_ranges(0, pl.col("n")).alias("k"))
        .explode("k")
        .with_columns(pl.col("kind").replace_strict(type_order, return_dtype=pl.Int64).alias("kind_order"))
        .sort("enrollment_id", "time", "kind_order", "k")
        .with_columns(pl.int_range(pl.len()).over("enrollment_id", "time").alias("second"))
    )
    learners = {e: dataset_learner_id(NAME, f"enrollment:{e}", pseudonym_key)
                for e in actions["enrollment_id"].unique().to_list()}
    keys = (actions["enrollment_id"] + ":" + actions["time"].cast(pl.String) + ":" + actions["kind"] + ":"
            + actions["k"].cast(pl.String))
    verbs = {kind: verb for kind, (verb, _) in EVENT_TYPES.items()}
    objects = {kind: obj for kind, (_, obj) in EVENT_TYPES.items()}
    events = actions.select(
        event_ids(NAME, keys),
        pl.col("enrollment_id").replace_strict(learners).alias("learner_id"),
        pl.col("kind").replace_strict(verbs).alias("verb"),
        pl.col("kind").replace_strict(objects).alias("object_type"),
        (pl.col("course_id") + ":" + pl.col("kind")).alias("object_id"),
        pl.col("course_id"),
        pl.col("enrollment_id").alias("context_registration"),
        (pl.col("time").cast(pl.Datetime("us", "UTC")) + pl.duration(seconds=pl.col("second"))).alias("timestamp"),
        pl.format('{{"kdd_event": "{}"}}', pl.col("kind")).alias("payload"),
    )
    labels = _labels(data_dir, daily, pseudonym_key)
    return DatasetLoad(NAME, to_bronze(events, NAME), labels={"labels.dropout": labels},
                       files=files + sorted(data_dir.rglob("truth_train.csv")))


def read_truth(data_dir: Path) -> pl.DataFrame | None:
    """``enrollment_id``, ``label`` (1 = dropped out) from the truth files, or None without any."""
    truth_files = sorted(data_dir.rglob("truth_train.csv"))
    if not truth_files:
        return None
    truth = pl.concat([pl.read_csv(p, schema_overrides={"enrollment_id": pl.String, "label": pl.Int64})
                       for p in truth_files]).unique("enrollment_id")
    if set(truth["label"].unique().to_list()) - {0, 1}:
        raise DatasetError(f"{truth_files[0]}: labels must be 0 or 1")
    return truth


def _labels(data_dir: Path, daily: pl.DataFrame, pseudonym_key: str) -> pa.Table:
    truth = read_truth(data_dir)
    if truth is None:
        return pa.table({f.name: pa.array([], f.type) for f in DROPOUT_LABELS}, schema=DROPOUT_LABELS)
    courses = daily.select("enrollment_id", "course_id").unique("enrollment_id")
    labelled = truth.join(courses, on="enrollment_id", how="inner")  # labels of enrollments we have logs of
    return pl.DataFrame({
        "source": NAME,
        "enrollment_id": labelled["enrollment_id"],
        "learner_id": [dataset_learner_id(NAME, f"enrollment:{e}", pseudonym_key) for e in labelled["enrollment_id"]],
        "course_id": labelled["course_id"],
        "dropped_out": labelled["label"] == 1,
        "final_result": None,
    }, schema_overrides={"final_result": pl.String}).to_arrow().cast(DROPOUT_LABELS)
