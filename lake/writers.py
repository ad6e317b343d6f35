"""Writing lake tables: idempotent appends and whole-table overwrites.

Appends can carry a Delta transaction identifier (app id + version): Delta stores it in the
same commit as the data, so replaying a batch after a crash is recognised and skipped.
"""

import collections
import logging
import time
from pathlib import Path

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError

from lake.catalog import TableSpec, get_spec, table_uri
from lake.privacy import mask_emails
from learnlake.errors import SchemaMismatchError
from learnlake.settings import Settings

log = logging.getLogger(__name__)

COMMIT_ATTEMPTS = 8
# Commits that lost to a concurrent writer and were retried, per table, in this process (the committer
# reports its own in its health file, where the API's metrics read them).
CONFLICTS: collections.Counter[str] = collections.Counter()


def conform(spec: TableSpec, data: pa.Table) -> pa.Table:
    """Select and cast ``data`` to the table's schema; missing required columns are an error.

    Every write goes through here, so here is where e-mail addresses are masked: no lake table
    holds one, whatever a client typed into free text (``lake.privacy``).
    """
    columns = []
    for field in spec.schema:
        if field.name in data.column_names:
            column = data.column(field.name)
        elif field.nullable:
            column = pa.nulls(data.num_rows, field.type)
        else:
            msg = f"{spec.name}: required column {field.name!r} is missing"
            raise SchemaMismatchError(msg)
        try:
            column = column.cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            msg = f"{spec.name}: column {field.name!r} cannot be cast to {field.type}: {exc}"
            raise SchemaMismatchError(msg) from exc
        if not field.nullable and column.null_count:
            msg = f"{spec.name}: column {field.name!r} has {column.null_count} null value(s)"
            raise SchemaMismatchError(msg)
        columns.append(column)
    return mask_emails(pa.Table.from_arrays(columns, schema=spec.schema))


def lacks_required(spec: TableSpec, data: pa.Table) -> bool:
    """Whether ``conform`` would refuse ``data`` for a null where the table requires a value."""
    return any(not field.nullable and (field.name not in data.column_names or data.column(field.name).null_count)
               for field in spec.schema)


def _write(spec: TableSpec, uri: str, data: pa.Table, *, mode: str, commit: CommitProperties | None = None) -> None:
    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(
        uri,
        data,
        mode=mode,
        partition_by=list(spec.partition_by) or None,
        # Appends may add optional columns (schema evolution); an overwrite sets the schema anew.
        schema_mode="merge" if mode == "append" else "overwrite",
        commit_properties=commit,
    )


def append(
    name: str,
    data: pa.Table,
    *,
    app_id: str | None = None,
    batch_version: int | None = None,
    settings: Settings | None = None,
) -> bool:
    """Append rows to a table, creating it on first use.

    Args:
        name: catalogued table name, e.g. ``bronze.events``.
        data: rows to append; conformed to the table schema first.
        app_id: writer identity for exactly-once appends (with ``batch_version``).
        batch_version: monotonically increasing batch number of that writer.
        settings: where the lake is; defaults to the process settings.

    Returns:
        False when the batch had already been committed (nothing written), else True.
    """
    spec = get_spec(name)
    uri = table_uri(name, settings)
    if (app_id is None) != (batch_version is None):
        raise ValueError("app_id and batch_version go together")
    data = conform(spec, data)
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        commit = None
        if app_id is not None:
            if DeltaTable.is_deltatable(uri):
                done = DeltaTable(uri).transaction_version(app_id)
                if done is not None and done >= batch_version:
                    log.info("%s: batch %s of %s already committed, skipped", name, batch_version, app_id)
                    return False
            commit = CommitProperties(app_transactions=[Transaction(app_id=app_id, version=batch_version)])
        try:
            _write(spec, uri, data, mode="append", commit=commit)
            return True
        except CommitFailedError:
            # Another writer committed first (optimistic concurrency): look again, then retry.
            CONFLICTS[name] += 1
            if attempt == COMMIT_ATTEMPTS:
                raise
            log.info("%s: concurrent commit, retrying (%s/%s)", name, attempt, COMMIT_ATTEMPTS)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def overwrite(name: str, data: pa.Table, *, settings: Settings | None = None) -> None:
    """Replace a table's contents in one commit (earlier versions stay readable by time travel)."""
    spec = get_spec(name)
    _write(spec, table_uri(name, settings), conform(spec, data), mode="overwrite")


def merge(name: str, data: pa.Table, *, delete_keys: list[str] | None = None,
          settings: Settings | None = None) -> dict:
    """Upsert rows into a table on its primary key (creating it on first use), then delete ``delete_keys``.

    Returns the counts Delta reports (rows inserted, updated, deleted).
    """
    spec = get_spec(name)
    if not spec.primary_key:
        raise ValueError(f"{name} has no primary key to merge on")
    uri = table_uri(name, settings)
    data = conform(spec, data)
    counts = {"inserted": 0, "updated": 0, "deleted": 0}
    if not DeltaTable.is_deltatable(uri):
        _write(spec, uri, data, mode="append")
        counts["inserted"] = data.num_rows
    elif data.num_rows:
        predicate = " AND ".join(f"t.{key} = s.{key}" for key in spec.primary_key)
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                # merge_schema: a new optional column (schema evolution) joins the table on the way.
                result = (DeltaTable(uri).merge(data, predicate, source_alias="s", target_alias="t",
                                                merge_schema=True)
                          .when_matched_update_all().when_not_matched_insert_all().execute())
                break
            except CommitFailedError:
                CONFLICTS[name] += 1
                if attempt == COMMIT_ATTEMPTS:
                    raise
                time.sleep(0.05 * attempt)
        counts["inserted"] = result.get("num_target_rows_inserted", 0)
        counts["updated"] = result.get("num_target_rows_updated", 0)
    if delete_keys:
        (key,) = spec.primary_key
        quoted = ", ".join("'" + k.replace("'", "''") + "'" for k in delete_keys)
        counts["deleted"] = DeltaTable(uri).delete(f"{key} IN ({quoted})").get("num_deleted_rows", 0)
    return counts
