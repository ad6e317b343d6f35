"""One row per learner activity event, typed and renamed (the domain events of the core API,
source 'outbox', are left to a staging model of their own).

Incremental, reading only what is new: the Delta log lists the table's data files; a run
reads just the files it has not staged before (each row keeps its ``delta_file``).
Compaction rewrites old rows into new files, always within their day's partition, and takes
the old files out of the log: on the days where a staged file has gone, the run skips any
event id it already holds, so nothing is staged twice (other days need no such check, which
keeps a run after an append from probing millions of ids). Arrival times would not do as a
watermark: simulated and imported events carry times of their own, and the API's committer
lands batches late by design.
"""

import os
import re

import polars as pl
from deltalake import DeltaTable

SELECT = """
select
    event_id,
    learner_id,
    verb,
    object_type,
    object_id,
    course_id,
    module_id,
    result_score as score,
    result_success as is_success,
    result_completion as is_completion,
    result_duration_s as duration_s,
    result_response as response,
    context_platform as platform,
    context_session_id as session_id,
    context_registration as enrollment_id,
    "timestamp" as occurred_at,
    received_at,
    event_date as activity_date,
    source,
    -- when this row was staged: downstream incremental models find the learners with new rows by it
    now() as staged_at,
    -- datasets without content items name the practised skill in the payload (ASSISTments)
    json_extract_string(payload, '$.skill_id') as payload_skill_id,
    delta_file
from new_files
where source <> 'outbox'
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    source = dbt.source("bronze", "events")  # the declared lineage; read below file by file
    lake = os.environ.get("LEARNLAKE_LAKE_URI", "../.learnlake/lake")  # as in _sources.yml
    files = DeltaTable(f"{lake.rstrip('/')}/bronze/events").file_uris()
    staged = set()
    if dbt.is_incremental:
        staged = {path for (path,) in session.sql(f"select distinct delta_file from {dbt.this}").fetchall()}
    new = [path for path in files if path not in staged]
    if new:
        frame = pl.scan_parquet(new, hive_partitioning=True, missing_columns="insert",
                                include_file_paths="delta_file", extra_columns="ignore").collect()
        session.register("new_files", frame.to_arrow())
    else:
        session.register("new_files", source.filter("false").project("*, '' as delta_file").arrow())
    query = SELECT
    # Days whose staged files compaction replaced: their new files may repeat staged rows.
    rewritten = sorted({match.group(1) for path in staged - set(files)
                        if (match := re.search(r"event_date=(\d{4}-\d{2}-\d{2})", path))})
    if rewritten:
        days = ", ".join(f"date '{day}'" for day in rewritten)
        query += (f"    and (event_date not in ({days}) or not exists (select 1 from {dbt.this} staged"
                  f" where staged.activity_date = new_files.event_date and staged.event_id = new_files.event_id))\n")
    return session.sql(query)
