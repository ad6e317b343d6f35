"""Incremental builds give the same marts as a build from scratch, also when new events
land in the middle of learners' histories and when compaction rewrites staged rows."""

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from lake import maintenance, writers
from lake.catalog import CORE_SNAPSHOTS
from lake.schemas import CORE_ANSWER_REVIEWS
from lake.sources.core_snapshot import empty_table
from lake.sources.simulator import SimulationConfig, simulate
from pipelines.defs.transforms.project import dbt_build

pytestmark = pytest.mark.integration

# Bookkeeping columns that say when a row was built, not what it holds.
BOOKKEEPING = {"staged_at", "delta_file"}


def _tables(path) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [f"{s}.{t}" for s, t in con.sql(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts')").fetchall()]
        tables = {}
        for name in names:
            frame = pl.from_arrow(con.sql(f"select * from {name}").to_arrow_table())
            frame = frame.drop([c for c in frame.columns if c in BOOKKEEPING])
            tables[name] = frame.sort(frame.columns, nulls_last=True)
        return tables


def _written_answer(events: pl.DataFrame) -> pl.DataFrame:
    """A learner's one written answer, graded half right by the grader (the API lands it so)."""
    answered = events.filter(pl.col("verb") == "answered").head(1)
    return answered.with_columns(
        pl.lit("written-answer-event").alias("event_id"), pl.lit("written-learner").alias("learner_id"),
        pl.lit("learnlake-grading").alias("context_platform"), pl.lit("answer-1").alias("context_session_id"),
        pl.lit(False).alias("result_success"), pl.lit(0.5).alias("result_score"),
        pl.lit(None, dtype=pl.String).alias("context_registration"))  # no enrollment of another learner's


def _instructor_grade(written: pl.DataFrame, score: int, points: int) -> pa.Table:
    row = written.row(0, named=True)
    return pa.Table.from_pylist([{
        "answer_id": "answer-1", "learner_id": row["learner_id"], "course_id": row["course_id"],
        "item_id": row["object_id"].split("/")[0], "reviewed_score": score, "points": points,
        "updated_at": row["timestamp"]}], schema=CORE_ANSWER_REVIEWS)


def test_an_incremental_build_equals_a_full_one(learnlake_home):
    settings = learnlake_home
    sim = simulate(SimulationConfig(learners=40, courses=2, days=21))
    for name in CORE_SNAPSHOTS:
        writers.merge(name, empty_table(name), settings=settings)
    events = sim.events.sort("timestamp")
    # The second delivery holds later events of the same learners, and some learners' first.
    cut = events["timestamp"].quantile(0.7)
    written = _written_answer(events)
    first = pl.concat([events.filter(pl.col("timestamp") <= cut), written])
    writers.append("bronze.events", first.to_arrow(), app_id="t", batch_version=1, settings=settings)
    dbt_build(settings)
    # An instructor then grades the written answer: its learner has no new event, yet their answers are rebuilt.
    writers.merge("bronze.core_answer_reviews", _instructor_grade(written, 2, 2), settings=settings)
    writers.append("bronze.events", events.filter(pl.col("timestamp") > cut).to_arrow(), app_id="t",
                   batch_version=2, settings=settings)
    # Compaction mixes staged rows with rows not staged yet in new files; then, a second time,
    # rewrites staged rows only.
    maintenance.optimize("bronze.events", settings=settings)
    dbt_build(settings)
    writers.append("bronze.events", events.head(50).with_columns(pl.col("event_id") + "-late").to_arrow(),
                   app_id="t", batch_version=3, settings=settings)
    maintenance.optimize("bronze.events", settings=settings)
    dbt_build(settings)
    events = pl.concat([events, events.head(50).with_columns(pl.col("event_id") + "-late"), written])
    incremental = _tables(settings.warehouse_path)
    graded = incremental["marts.fct_graded_answers"].filter(pl.col("event_id") == "written-answer-event")
    assert graded.select("is_correct", "score", "reviewed_answer_id").rows() == [(True, 1.0, "answer-1")], \
        "the instructor's grade replaces the grader's"

    scratch = settings.model_copy(update={"warehouse_path": settings.home / "scratch.duckdb"})
    dbt_build(scratch)
    full = _tables(scratch.warehouse_path)

    assert incremental.keys() == full.keys()
    assert incremental["staging.stg_lake__events"].height == events.height
    for name, table in full.items():
        # Sums of floats may differ in the last bits when added in another order.
        assert_frame_equal(incremental[name], table, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
