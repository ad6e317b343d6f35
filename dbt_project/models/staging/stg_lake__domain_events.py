"""The core API's domain events (user.registered, course.published, enrollment.created,
progress.updated...), relayed from its outbox into bronze.events (source 'outbox').

Few next to activity: rebuilt whole on each run, but only from the data files that can hold
them. The Delta log keeps each file's min and max ``source``, so files of activity alone are
skipped unread (at 10 million events that is most of the table).
"""

import os
from urllib.parse import unquote

import polars as pl
from deltalake import DeltaTable

SELECT = """
select
    event_id,
    learner_id as actor_learner_id,
    verb as event_type,
    object_type as entity_type,
    object_id as entity_id,
    course_id,
    "timestamp" as occurred_at,
    received_at,
    json_extract(payload, '$.outbox_id')::bigint as outbox_id,
    payload
from outbox_rows
where source = 'outbox'
"""


def files_that_may_hold_outbox_rows(root: str) -> list[str]:
    files = pl.DataFrame(DeltaTable(root).get_add_actions(flatten=True))
    if "min.source" in files.columns:  # a file without statistics has nulls here: read it
        files = files.filter(pl.col("min.source").is_null() | pl.col("max.source").is_null()
                             | pl.lit("outbox").is_between(pl.col("min.source"), pl.col("max.source")))
    return [f"{root}/{unquote(path)}" for path in files["path"]]


def model(dbt, session):
    dbt.config(materialized="table")
    source = dbt.source("bronze", "events")  # the declared lineage; read below file by file
    lake = os.environ.get("LEARNLAKE_LAKE_URI", "../.learnlake/lake")  # as in _sources.yml
    paths = files_that_may_hold_outbox_rows(f"{lake.rstrip('/')}/bronze/events")
    if paths:
        frame = pl.scan_parquet(paths, hive_partitioning=True, missing_columns="insert", extra_columns="ignore")
        session.register("outbox_rows", frame.filter(pl.col("source") == "outbox").collect().to_arrow())
    else:
        session.register("outbox_rows", source.filter("false").arrow())
    return session.sql(SELECT)
