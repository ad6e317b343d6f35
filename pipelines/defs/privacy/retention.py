"""Retention: raw events, tutor conversations, access records, notifications and landing segments are kept only as
long as ``LEARNLAKE_RETENTION_*`` says (the ``privacy_retention`` job, daily).

Raw events go by whole days (their Delta partitions); the questions learners asked the tutor go
with the conversations. The marts keep their aggregates: an incremental build leaves what it
built from events that are gone (a full rebuild would lose them). Each run is appended to
``<home>/retention.jsonl``, which the Operations page shows.
"""

from datetime import UTC, datetime, timedelta

from deltalake import DeltaTable

from lake.catalog import table_uri
from lake.erasure import retry_commit
from lake.landing import LandingLog, writer_alive
from lake.retention_log import record_retention
from lake.sources.core_privacy import delete_older, engine_for
from learnlake.settings import Settings


def apply_retention(settings: Settings, now: datetime | None = None) -> dict:
    """Remove what is older than its retention; returns (and logs) what went where, with the cut-offs."""
    now = now or datetime.now(UTC)
    removed: dict[str, dict] = {}
    if (days := settings.retention_events_days) is not None:
        cutoff = now - timedelta(days=days)
        removed["bronze.events"] = _delete(settings, "bronze.events", f"event_date < '{cutoff.date().isoformat()}'",
                                           cutoff)
        removed["bronze.dead_letters"] = _delete(settings, "bronze.dead_letters",
                                                 f"received_at < '{cutoff.isoformat()}'", cutoff)
        removed["graded_answers"] = _delete_in_core(settings, "graded_answers", cutoff)  # answers are events too
    if (days := settings.retention_tutor_days) is not None:
        cutoff = now - timedelta(days=days)
        removed["tutor questions in bronze.events"] = _delete(
            settings, "bronze.events", f"verb = 'asked' AND \"timestamp\" < '{cutoff.isoformat()}'", cutoff)
        removed["tutor_turns"] = _delete_in_core(settings, "tutor_turns", cutoff)
    if (days := settings.retention_audit_days) is not None:
        removed["access_log"] = _delete_in_core(settings, "access_log", now - timedelta(days=days))
    if (days := settings.retention_notifications_days) is not None:
        for table in ("notifications", "email_deliveries"):
            removed[table] = _delete_in_core(settings, table, now - timedelta(days=days))
    removed["landing segments"] = _prune_landing(settings)
    # The replicas' claims on event ids matter as long as a replay can still come (lake/event_claims.py).
    removed["event_claims"] = _delete_in_core(settings, "event_claims", now - timedelta(seconds=settings.landing_keep_s))
    entry = {"at": now.isoformat(), "removed": removed}
    record_retention(settings, entry)
    return entry


def _delete(settings: Settings, table: str, predicate: str, cutoff: datetime) -> dict:
    uri = table_uri(table, settings)
    if not DeltaTable.is_deltatable(uri):
        return {"rows": 0, "before": cutoff.isoformat()}
    found = retry_commit(lambda: DeltaTable(uri).delete(predicate))
    return {"rows": found.get("num_deleted_rows", 0), "before": cutoff.isoformat()}


def _delete_in_core(settings: Settings, table: str, cutoff: datetime) -> dict:
    engine = engine_for(settings.database_url)
    if engine is None:
        return {"rows": 0, "before": cutoff.isoformat()}
    try:
        return {"rows": delete_older(engine, table, cutoff), "before": cutoff.isoformat()}
    finally:
        engine.dispose()


def _prune_landing(settings: Settings) -> dict:
    """Committed segments past ``LEARNLAKE_LANDING_KEEP_S`` in logs no live API writes (a live one prunes
    its own every minute)."""
    removed = 0
    for directory in sorted(p for p in settings.landing_dir.glob("*") if p.is_dir()) \
            if settings.landing_dir.exists() else []:
        if not writer_alive(directory):
            log = LandingLog(directory, directory.name)
            try:
                removed += log.prune(keep_s=settings.landing_keep_s)
            finally:
                log.close()
    return {"segments": removed, "kept_s": settings.landing_keep_s}
