"""Lake maintenance: compaction of small files, vacuum with retention, checkpoints, history."""

import logging
from datetime import timedelta

from lake.readers import open_table
from learnlake.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_RETENTION = timedelta(days=7)


def optimize(name: str, *, target_size_bytes: int | None = None, partition: dict[str, str] | None = None,
             settings: Settings | None = None) -> dict:
    """Rewrite small files into larger ones (a new version; readers of old versions are unaffected).

    ``partition`` (column -> value) limits the rewrite to one partition, e.g. one event day.
    """
    filters = [(column, "=", value) for column, value in (partition or {}).items()] or None
    metrics = open_table(name, settings).optimize.compact(partition_filters=filters, target_size=target_size_bytes)
    log.info("%s: compacted %s files into %s", name, metrics.get("numFilesRemoved"), metrics.get("numFilesAdded"))
    return metrics


def vacuum(name: str, *, retention: timedelta = DEFAULT_RETENTION, dry_run: bool = True,
           settings: Settings | None = None) -> list[str]:
    """Files no longer referenced by any version within ``retention``; deleted unless ``dry_run``.

    Time travel to versions older than the retention stops working once they are deleted,
    which is also how a forgotten learner's rows really leave the disk.
    """
    hours = int(retention.total_seconds() // 3600)
    # delta-rs refuses a retention below the table's default unless told not to check;
    # asking for a shorter one here is that explicit choice.
    return open_table(name, settings).vacuum(
        retention_hours=hours, dry_run=dry_run, enforce_retention_duration=hours >= DEFAULT_RETENTION.days * 24
    )


def checkpoint(name: str, *, settings: Settings | None = None) -> int:
    """Write a checkpoint of the transaction log at the current version (faster opening)."""
    table = open_table(name, settings)
    table.create_checkpoint()
    return table.version()


def history(name: str, *, limit: int | None = 20, settings: Settings | None = None) -> list[dict]:
    """The most recent commits, newest first: version, time, operation, parameters, metrics."""
    return open_table(name, settings).history(limit)


def file_count(name: str, *, settings: Settings | None = None) -> int:
    """Data files in the current version."""
    return len(open_table(name, settings).file_uris())


SMALL_FILE_BYTES = 8 * 1024 * 1024  # files below this are what `lake optimize` compacts away


def table_files(settings: Settings | None = None) -> list[dict]:
    """Each catalogued table that exists: its version, data files, small files and bytes (the
    Operations page, ``/metrics`` and ``learnlake doctor`` read these same figures)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from lake.catalog import TABLES
    from lake.readers import table_exists

    found = []
    for name in sorted(TABLES):
        if not table_exists(name, settings):
            continue
        table = open_table(name, settings)
        sizes = pa.table(table.get_add_actions(flatten=True))["size_bytes"]  # the current version's files
        found.append({"table": name, "version": table.version(), "files": len(sizes),
                      "small_files": pc.sum(pc.less(sizes, SMALL_FILE_BYTES)).as_py() or 0,
                      "size_bytes": pc.sum(sizes).as_py() or 0})
    return found
