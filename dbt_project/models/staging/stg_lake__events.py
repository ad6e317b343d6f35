"""One row per learner activity event, typed and renamed (the domain events of the core API,
source 'outbox', are left to a staging model of their own).

Incremental, reading only what is new: the Delta log lists the table's data files; a run
reads just the files it has not staged before (each row keeps its ``delta_file``).
Compaction rewrites old rows into new files, always within their day's partition, and takes
the old files out of the log: for the days that have both new files and staged files that
have gone, the run skips any event id it already holds for those days, so nothing is staged
twice. Other days need no such check, which keeps a run from probing millions of ids (in a
lake compacted nightly, today's new files sit in a day not compacted yet). Arrival times would not do as a
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
    # Days with new files where compaction replaced staged files: those new files may repeat
    # staged rows. Only these days' staged ids are probed.
    rewritten = sorted(_days(new) & _days(staged - set(files)))
    if rewritten:
        days = ", ".join(f"date '{day}'" for day in rewritten)
        query += (f"    and (event_date not in ({days}) or event_id not in (select event_id from {dbt.this}"
                  f" where activity_date in ({days})))\n")
    return session.sql(query)


def _days(paths) -> set[str]:
    """The event days of Delta data files (their Hive partition folders)."""
    return {match.group(1) for path in paths if (match := re.search(r"event_date=(\d{4}-\d{2}-\d{2})", path))}
