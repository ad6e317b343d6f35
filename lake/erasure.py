"""Erasing learners from the lake's Delta tables, old versions included.

For every catalogued table, in one pass for any number of learners: the rows whose person
columns hold one of their pseudonyms are deleted (their events, enrollments, labels), and their
pseudonyms inside free text (a statement naming them as instructor, a domain event about them)
become ``lrn_erased``. Delta keeps the old data files and log entries for time travel; after
the grace period (``LEARNLAKE_ERASURE_GRACE_DAYS``, 0 allowed) ``forget_history`` vacuums the
files and cleans the log, whose statistics (a string column's min and max) could otherwise still
name them. The tables keep that much history from then on.
"""

import logging
import time
from pathlib import Path

from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError

from lake.catalog import TABLES, TableSpec, table_uri
from lake.privacy import ERASED_PSEUDONYM
from learnlake.settings import Settings

log = logging.getLogger(__name__)

COMMIT_ATTEMPTS = 8


def erase_learners(pseudonyms: list[str], settings: Settings) -> dict[str, dict[str, int]]:
    """Delete and redact ``pseudonyms`` in every lake table that exists; what was done, per table."""
    done: dict[str, dict[str, int]] = {}
    if not pseudonyms:
        return done
    for name, spec in sorted(TABLES.items()):
        uri = table_uri(name, settings)
        if DeltaTable.is_deltatable(uri) and (spec.person_columns or spec.mention_columns):
            done[name] = _erase_from_table(uri, spec, pseudonyms)
    return done


def forget_history(settings: Settings, *, grace_days: float) -> dict[str, dict[str, int]]:
    """Remove what only old versions hold: data files removed over ``grace_days`` ago, and log entries
    older than that (after a checkpoint, so the table still opens). Every table keeps that much history."""
    hours = max(0.0, grace_days * 24)
    done = {}
    for name in sorted(TABLES):
        uri = table_uri(name, settings)
        if not DeltaTable.is_deltatable(uri):
            continue
        table = DeltaTable(uri)
        retention = f"interval {round(hours * 3600)} seconds"
        properties = {"delta.logRetentionDuration": retention, "delta.deletedFileRetentionDuration": retention}
        if table.metadata().configuration.get("delta.logRetentionDuration") != retention:
            retry_commit(lambda: DeltaTable(uri).alter.set_table_properties(properties))  # noqa: B023 - called at once
            table = DeltaTable(uri)
        removed = table.vacuum(retention_hours=round(hours), enforce_retention_duration=False, dry_run=False)
        table = DeltaTable(uri)
        table.create_checkpoint()
        table.cleanup_metadata()
        logs = _remove_expired_log_entries(uri, table.version(), time.time() - hours * 3600)
        done[name] = {"files_removed": len(removed), "log_entries_removed": logs}
    return done


def _remove_expired_log_entries(uri: str, checkpoint_version: int, cutoff: float) -> int:
    """Log entries before the checkpoint and older than ``cutoff`` (seconds since the epoch), at that exact
    moment: delta-rs's own clean-up rounds its cut-off down to a whole day, as Spark's does, so an entry
    from the grace period's last day would outlive it by up to a day. Local tables only; on object
    storage the day's rounding stands."""
    if "://" in uri and not uri.startswith("file://"):
        return 0
    log_dir = Path(uri.removeprefix("file://")) / "_delta_log"
    removed = 0
    for path in log_dir.iterdir():
        version = path.name.split(".", 1)[0]
        if version.isdigit() and int(version) < checkpoint_version and path.stat().st_mtime < cutoff:
            path.unlink()
            removed += 1
    return removed


def _erase_from_table(uri: str, spec: TableSpec, pseudonyms: list[str]) -> dict[str, int]:
    quoted = ", ".join(f"'{p}'" for p in pseudonyms)  # pseudonyms are lrn_ and hex: nothing to escape
    pattern = "|".join(pseudonyms)
    counts = {"deleted": 0, "redacted": 0}
    if spec.person_columns:
        predicate = " OR ".join(f"{column} IN ({quoted})" for column in spec.person_columns)
        counts["deleted"] = retry_commit(lambda: DeltaTable(uri).delete(predicate)).get("num_deleted_rows", 0)
    if spec.mention_columns:
        predicate = " OR ".join(f"regexp_like({column}, '{pattern}')" for column in spec.mention_columns)
        updates = {column: f"regexp_replace({column}, '{pattern}', '{ERASED_PSEUDONYM}', 'g')"
                   for column in spec.mention_columns}
        counts["redacted"] = retry_commit(lambda: DeltaTable(uri).update(updates=updates, predicate=predicate)) \
            .get("num_updated_rows", 0)
    return counts


def retry_commit(operation):
    """Run a Delta operation, again when another writer (the committer, say) committed first."""
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            return operation()
        except CommitFailedError:
            if attempt == COMMIT_ATTEMPTS:
                raise
            log.info("concurrent commit during an erasure, retrying (%s/%s)", attempt, COMMIT_ATTEMPTS)
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")
