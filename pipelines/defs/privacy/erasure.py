"""Carrying erasures into every store outside the core database (the ``privacy_erasure`` job).

The API (or ``learnlake privacy forget``) erased the core database at once and recorded the
erasure. Here, for all pending erasures together (one rewrite per table, however many learners):

1. landing logs: everything landed is committed (the committer drops erased learners' events),
   then committed bodies are stripped, by the API process that writes a log when one is alive;
2. the xAPI statement store: statements they made go, they become anonymous in the others;
3. the lake: their rows deleted, their pseudonyms in free text redacted, in every Delta table;
4. the warehouse: the same, then copied fresh and published;
5. the online feature store (SQLite or Redis), Redis rate-limit counters, MLflow's and the data
   checks' text files;
6. history: once the grace period (``LEARNLAKE_ERASURE_GRACE_DAYS``) has passed, old Delta files
   and log entries are removed; the erasure is then done and its clear identifiers forgotten.

Every step is safe to run again; stores already done are not redone.
"""

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feature_store.online import SQLITE_FILE, RedisOnlineStore, SQLiteOnlineStore
from lake.committer import Committer
from lake.erasure import erase_learners, forget_history
from lake.landing import LandingLog, request_strip, strip_requested, writer_alive
from lake.privacy import ERASED_PSEUDONYM
from lake.sources.core_privacy import PendingErasure, engine_for, pending_erasures, record_progress
from lake.statement_store import StatementStore
from learnlake.settings import Settings
from learnlake.sqlite import truncate_wal
from pipelines.defs.privacy.warehouse import erase_from_warehouse

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".json", ".md", ".txt", ".yaml", ".yml", ".csv"}
STORES = ("landing_logs", "statement_store", "lake", "warehouse", "online_features", "files", "redis")


def carry_out_erasures(settings: Settings, *, strip_wait_s: float = 60, now: datetime | None = None) -> list[dict]:
    """Carry every pending erasure as far as it can go; what was done, per erasure."""
    engine = engine_for(settings.database_url)
    if engine is None:
        return []
    try:
        pending = pending_erasures(engine)
        if not pending:
            return []
        done_now = _erase_everywhere(settings, pending, strip_wait_s)
        now = now or datetime.now(UTC)
        stores_of = {e.id: {**e.stores, **{k: v for k, v in done_now.items() if not _done(e.stores, k)}}
                     for e in pending}
        # Old versions hold a learner until the grace period has passed since the lake step removed them.
        grace = timedelta(days=settings.erasure_grace_days)
        after = {e.id: datetime.fromisoformat(stores_of[e.id]["lake"]["done_at"]) + grace
                 for e in pending if _done(stores_of[e.id], "lake")}
        due = [e for e in pending if e.id in after and now >= after[e.id]]
        history = forget_history(settings, grace_days=settings.erasure_grace_days) if due else None
        results = []
        for erasure in pending:
            stores = stores_of[erasure.id]
            if erasure in due and history is not None:
                stores["lake_history"] = {"done_at": now.isoformat(), "tables": len(history)}
            finished = all(_done(stores, store) for store in (*STORES, "lake_history"))
            record_progress(engine, erasure.id, stores, done=finished)
            forgotten_after = after.get(erasure.id)
            results.append({"erasure": erasure.id, "done": finished, "stores": stores,
                            "history_forgotten_after": forgotten_after.isoformat() if forgotten_after else None})
        _checkpoint(engine)
        return results
    finally:
        engine.dispose()


def _done(stores: dict, store: str) -> bool:
    return "done_at" in stores.get(store, {})


def _erase_everywhere(settings: Settings, pending: list[PendingErasure], strip_wait_s: float) -> dict[str, dict]:
    """Each store for all pending erasures at once; a store every erasure has done already is skipped."""
    todo = [store for store in STORES if not all(_done(e.stores, store) for e in pending)]
    pseudonyms = sorted({p for e in pending for p in e.pseudonyms})
    at = datetime.now(UTC).isoformat()
    done: dict[str, dict] = {}
    steps = {
        "landing_logs": lambda: _landing_logs(settings, strip_wait_s),
        "statement_store": lambda: _statement_store(settings, sorted({k for e in pending for k in e.xapi_keys})),
        "lake": lambda: erase_learners(pseudonyms, settings),
        "warehouse": lambda: erase_from_warehouse(Path(settings.warehouse_path),
                                                  Path(settings.published_warehouse_path), pseudonyms),
        "online_features": lambda: _online_features(settings, pseudonyms),
        "files": lambda: _text_files(settings, pseudonyms),
        "redis": lambda: _redis(settings, [e.user_id for e in pending if e.user_id]),
    }
    for store in todo:
        started = time.monotonic()
        try:
            result = steps[store]()
        except Exception as exc:
            log.exception("erasure: %s failed; the next run tries again", store)
            done[store] = {"error": f"{type(exc).__name__}: {exc}"[:500], "failed_at": at}
            continue
        done[store] = {"done_at": datetime.now(UTC).isoformat(), "seconds": round(time.monotonic() - started, 2),
                       "result": result}
        log.info("erasure: %s done in %.1f s: %s", store, time.monotonic() - started, result)
    return done


def _landing_logs(settings: Settings, wait_s: float) -> dict:
    """Commit what landed, then strip committed bodies: the writing API process does its own log."""
    stripped, asked = 0, []
    directories = sorted(p for p in settings.landing_dir.glob("*") if p.is_dir()) if settings.landing_dir.exists() \
        else []
    for directory in directories:
        Committer(LandingLog(directory, directory.name, readonly=True), settings).flush()
        if writer_alive(directory):
            request_strip(directory)
            asked.append(directory)
        else:
            writer = LandingLog(directory, directory.name)
            try:
                stripped += writer.strip_committed()
            finally:
                writer.close()
    deadline = time.monotonic() + wait_s
    while any(strip_requested(d) for d in asked) and time.monotonic() < deadline:
        time.sleep(0.5)
    late = [d.name for d in asked if strip_requested(d)]
    if late:
        raise TimeoutError(f"the API writing landing log(s) {late} did not strip its committed bodies within "
                           f"{wait_s:.0f} s; the erasure will try again")
    return {"logs": len(directories), "segments_rewritten_here": stripped, "stripped_by_their_api": len(asked)}


def _online_features(settings: Settings, pseudonyms: list[str]) -> dict:
    """Both kinds of online store that may hold them: the SQLite file (written before Redis was configured,
    say) and Redis."""
    done = {}
    path = settings.home / SQLITE_FILE
    if path.exists():
        done["sqlite_entities"] = SQLiteOnlineStore(path).erase(pseudonyms)
    if settings.redis_url:
        done["redis_entities"] = RedisOnlineStore(settings.redis_url).erase(pseudonyms)
    return done


def _statement_store(settings: Settings, xapi_keys: list[str]) -> dict:
    store = StatementStore.existing(settings.lrs_database_url)
    if store is None:
        return {}
    try:
        return store.erase(xapi_keys)
    finally:
        store.close()


def _text_files(settings: Settings, pseudonyms: list[str]) -> dict:
    """MLflow's text artifacts (input examples logged before they held stand-ins) and the data checks'
    results: their pseudonyms become ``lrn_erased``."""
    pattern = re.compile("|".join(map(re.escape, pseudonyms)))
    changed = 0
    for root in (Path(settings.mlflow_artifacts_dir), settings.home / "quality"):
        for path in (p for p in root.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES) if root.exists() else ():
            text = path.read_text(errors="surrogateescape")
            if pattern.search(text):
                path.write_text(pattern.sub(ERASED_PSEUDONYM, text), errors="surrogateescape")
                changed += 1
    return {"files_redacted": changed}


def _redis(settings: Settings, user_ids: list[str]) -> dict:
    """Rate-limit counters are keyed by account id (``user:<id>``); the online features went above."""
    if not settings.redis_url or not user_ids:
        return {}
    import redis

    client = redis.Redis.from_url(settings.redis_url)
    try:
        doomed = [key for user_id in user_ids for key in client.scan_iter(f"*{user_id}*", count=1000)]
        return {"keys": client.delete(*doomed) if doomed else 0}
    finally:
        client.close()


def _checkpoint(engine) -> None:
    """On SQLite, empty the write-ahead log, which still holds pages from before the deletes."""
    if engine.dialect.name == "sqlite":
        connection = engine.raw_connection()  # outside any transaction: a checkpoint cannot run in one
        try:
            truncate_wal(connection)
        finally:
            connection.close()
