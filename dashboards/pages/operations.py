"""Operators: is data flowing? Ingestion rate, landing backlog, the Delta tables, pipeline runs and checks.

Read straight from the platform's own state (the lake, the landing logs, the Dagster instance),
not from the warehouse: this page must work when the transforms do not.
"""

from datetime import UTC, datetime, timedelta

import altair as alt
import pandas as pd
import polars as pl
import streamlit as st

from dashboards.tables import show_table
from lake.committer_health import STALLED_STATES, every_ingestion_report
from lake.maintenance import table_files
from lake.readers import scan_table, table_exists
from lake.retention_log import retention_runs
from lake.sources.core_privacy import engine_for, pending_erasures
from learnlake.settings import get_settings

CACHE_S = 15
RUNS = 20


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def ingestion_by_hour(hours: int) -> pd.DataFrame:
    since = datetime.now(UTC) - timedelta(hours=hours)
    if not table_exists("bronze.events"):
        return pd.DataFrame(columns=["hour", "source", "events"])
    return (scan_table("bronze.events").select("received_at", "source")
            .filter(pl.col("received_at") >= since)
            .group_by(pl.col("received_at").dt.truncate("1h").alias("hour"), "source").len("events")
            .sort("hour").collect().to_pandas())


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def last_received() -> tuple[datetime | None, int]:
    if not table_exists("bronze.events"):
        return None, 0
    found = scan_table("bronze.events").select(pl.col("received_at").max(), pl.len()).collect()
    return found.item(0, 0), found.item(0, 1)


BACKLOG_COLUMNS = ["writer", "committer", "lag_s", "landed_batches", "committed_batches", "backlog_batches",
                   "backlog_events", "dead_letters", "failures_in_a_row", "last_error", "last_commit"]


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def landing_backlog() -> pd.DataFrame:
    """Each API process's landing log, and the health its committer last reported (the figures of /metrics)."""
    rows = []
    for report in every_ingestion_report(get_settings()):
        health = report["committer"]
        last_commit = health["last_commit_at"]
        rows.append({"writer": report["writer_id"], "committer": health["state"], "lag_s": health["lag_s"],
                     "landed_batches": report["landed_seq"], "committed_batches": report["committed_seq"],
                     "backlog_batches": report["backlog_batches"], "backlog_events": report["backlog_events"],
                     "dead_letters": health["dead_letters"], "failures_in_a_row": health["consecutive_failures"],
                     "last_error": health["last_error"],
                     "last_commit": datetime.fromtimestamp(last_commit, UTC) if last_commit else None})
    return pd.DataFrame(rows, columns=BACKLOG_COLUMNS)


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def privacy_state() -> tuple[pd.DataFrame, int]:
    """What retention removed, run by run, and how many erasures are still being carried out."""
    settings = get_settings()
    rows = [{"run": run["at"][:19].replace("T", " "), "store": store, "removed": figures.get("rows", figures.get(
        "segments", 0)), "older_than": str(figures.get("before", ""))[:19].replace("T", " ")}
        for run in retention_runs(settings) for store, figures in run["removed"].items()]
    engine = engine_for(settings.database_url)
    pending = 0
    if engine is not None:
        try:
            pending = len(pending_erasures(engine))
        finally:
            engine.dispose()
    return pd.DataFrame(rows, columns=["run", "store", "removed", "older_than"]), pending


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def delta_tables() -> pd.DataFrame:
    found = pd.DataFrame(table_files(), columns=["table", "version", "files", "small_files", "size_bytes"])
    found["size_mb"] = (found["size_bytes"] / 1e6).round(2)
    return found.drop(columns="size_bytes")


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def pipeline_runs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last runs of the Dagster instance, and the data-quality checks of the latest one that ran any."""
    from dagster import DagsterEventType, DagsterInstance

    home = get_settings().dagster_home
    if not (home / "dagster.yaml").exists() and not (home / "storage").exists():
        return pd.DataFrame(), pd.DataFrame()
    with DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records(limit=RUNS)
        runs = pd.DataFrame([{
            "job": r.dagster_run.job_name, "status": r.dagster_run.status.value,
            "started": datetime.fromtimestamp(r.start_time, UTC) if r.start_time else None,
            "minutes": round((r.end_time - r.start_time) / 60, 1) if r.start_time and r.end_time else None,
            "run_id": r.dagster_run.run_id} for r in records])
        checks = []
        for record in records:
            logs = instance.all_logs(record.dagster_run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
            for entry in logs:
                evaluation = entry.dagster_event.event_specific_data
                checks.append({"asset": evaluation.asset_key.to_user_string(), "check": evaluation.check_name,
                               "passed": evaluation.passed, "severity": evaluation.severity.value.lower(),
                               "run_id": record.dagster_run.run_id})
            if checks:
                break
    return runs, pd.DataFrame(checks, columns=["asset", "check", "passed", "severity", "run_id"])


st.title("Operations")
latest, total = last_received()
left, middle, right = st.columns(3)
left.metric("Events in the lake", f"{total:,}")
# Short enough for a third of the page (a whole timestamp was cut off); the full one on hovering.
middle.metric("Last event received (UTC)", f"{latest:%b %d, %H:%M}" if latest else "none yet",
              help=f"{latest:%Y-%m-%d %H:%M:%S} UTC" if latest else None)
backlog = landing_backlog()
right.metric("Landing backlog (batches)", f"{int(backlog['backlog_batches'].sum()):,}" if not backlog.empty else "0")
for writer in backlog.itertuples() if not backlog.empty else ():
    if writer.committer in STALLED_STATES:
        st.error(f"Ingestion is {writer.committer.replace('_', ' ')} on {writer.writer}: the oldest batch has waited "
                 f"{writer.lag_s:,.0f} s, {writer.failures_in_a_row} failed commits in a row"
                 + (f"; last error: {writer.last_error}" if writer.last_error else ""))

st.subheader("Ingestion")
hours = st.select_slider("Window", options=[6, 24, 48, 168], value=48, format_func=lambda h: f"last {h} h")
with st.spinner("Counting events..."):
    rate = ingestion_by_hour(hours)
if rate.empty:
    st.info(f"No data yet: no event received in the last {hours} hours.")
else:
    st.altair_chart(alt.Chart(rate).mark_bar().encode(
        x=alt.X("hour:T", title="Hour received"), y=alt.Y("events:Q", title="Events"),
        color=alt.Color("source:N", title="Source"), tooltip=["hour:T", "source", "events"]), width="stretch")
if not backlog.empty:
    show_table(backlog)

st.subheader("Privacy: retention and erasures")
retention, pending = privacy_state()
st.caption(f"{pending} erasure(s) still being carried out (the privacy_erasure job; old lake versions go "
           "after LEARNLAKE_ERASURE_GRACE_DAYS).")
if retention.empty:
    st.caption("Retention has not run yet: the privacy_retention job runs daily at 02:15 UTC.")
else:
    show_table(retention)

st.subheader("Delta tables")
with st.spinner("Reading the Delta logs..."):
    tables = delta_tables()
if tables.empty:
    st.info("No data yet: no Delta table has been written.")
else:
    show_table(tables)
    st.download_button("Download CSV", tables.to_csv(index=False), "delta_tables.csv", "text/csv")

st.subheader("Pipeline runs and data-quality checks")
with st.spinner("Reading the Dagster instance..."):
    runs, checks = pipeline_runs()
if runs.empty:
    st.info("No data yet: no pipeline has run (`learnlake pipeline run`).")
else:
    show_table(runs)
    if checks.empty:
        st.info("The recent runs evaluated no data-quality check.")
    else:
        failed = checks[~checks["passed"]]
        # A failed blocking (error) check stopped what was built after it; a warning (drift) is worth a look.
        shown = st.error if (failed["severity"] == "error").any() else st.warning if len(failed) else st.success
        shown(f"{len(checks) - len(failed)} of {len(checks)} checks passed in the latest run that evaluated any"
              + (f"; failed: {', '.join(failed['check'])}" if len(failed) else "."))
        show_table(checks.sort_values("passed", kind="stable"))  # the failed first, not somewhere in a hundred rows
