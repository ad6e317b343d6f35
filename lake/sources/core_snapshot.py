"""Snapshots the core API's tables into ``bronze.core_*`` Delta tables, incrementally.

Each run reads the rows changed since the newest ``updated_at`` already in the lake and
merges them on their key; rows deleted from the database (courses, modules, content items
can be) are deleted from the lake too. User ids become pseudonymous learner ids on the way,
and e-mail and name are never read (ARCHITECTURE.md decision 6).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from lake import writers
from lake.catalog import get_spec
from lake.privacy import learner_id_for
from lake.readers import scan_table, table_exists
from learnlake.settings import Settings, get_settings


@dataclass(frozen=True)
class SnapshotQuery:
    table: str  # lake table
    sql: str  # selects the lake columns; ``:since`` bounds updated_at
    keys_sql: str | None  # all current keys, for tables whose rows can be deleted
    pseudonymise: tuple[tuple[str, str], ...] = ()  # (user id column, learner id column)


QUERIES = (
    SnapshotQuery("bronze.core_users",
                  "SELECT id AS user_id, role, is_active, created_at, updated_at FROM users WHERE updated_at >= :since",
                  None, (("user_id", "learner_id"),)),
    SnapshotQuery("bronze.core_courses",
                  "SELECT id AS course_id, title, description, instructor_id, status, metadata, published_at, "
                  "created_at, updated_at FROM courses WHERE updated_at >= :since",
                  "SELECT id FROM courses", (("instructor_id", "instructor_learner_id"),)),
    SnapshotQuery("bronze.core_modules",
                  "SELECT id AS module_id, course_id, position, title, created_at, updated_at FROM modules "
                  "WHERE updated_at >= :since", "SELECT id FROM modules"),
    SnapshotQuery("bronze.core_content_items",
                  "SELECT id AS item_id, module_id, course_id, position, content_type, title, body, url, skills, "
                  "difficulty, estimated_minutes, prerequisites, source, created_at, updated_at FROM content_items "
                  "WHERE updated_at >= :since", "SELECT id FROM content_items"),
    SnapshotQuery("bronze.core_enrollments",
                  "SELECT id AS enrollment_id, user_id, course_id, status, progress_percent, enrolled_at, "
                  "completed_at, unenrolled_at, updated_at FROM enrollments WHERE updated_at >= :since",
                  None, (("user_id", "learner_id"),)),
    SnapshotQuery("bronze.core_item_progress",
                  "SELECT p.id AS progress_id, p.enrollment_id, e.user_id, p.item_id, p.status, p.score, "
                  "p.time_spent_s, p.completed_at, p.created_at, p.updated_at FROM item_progress p "
                  "JOIN enrollments e ON e.id = p.enrollment_id WHERE p.updated_at >= :since",
                  "SELECT id FROM item_progress", (("user_id", "learner_id"),)),
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def snapshot_core_tables(database_url: str, settings: Settings | None = None) -> dict[str, dict]:
    """Bring every ``bronze.core_*`` table up to date; returns per table the rows read and merge counts."""
    settings = settings or get_settings()
    key = settings.pseudonym_key.get_secret_value()
    engine = sa.create_engine(database_url)
    report = {}
    try:
        with engine.connect() as connection:
            for query in QUERIES:
                report[query.table] = _snapshot(connection, query, key, settings)
    finally:
        engine.dispose()
    return report


def _snapshot(connection, query: SnapshotQuery, key: str, settings: Settings) -> dict:
    spec = get_spec(query.table)
    since = _watermark(query.table, settings)
    if connection.dialect.name == "sqlite":
        since = since.replace(tzinfo=None)
    rows = [dict(row._mapping) for row in connection.execute(sa.text(query.sql), {"since": since})]
    for row in rows:
        for user_column, learner_column in query.pseudonymise:
            row[learner_column] = learner_id_for(row.pop(user_column), key)
        for column, value in row.items():
            row[column] = _to_arrow_value(value, spec.schema.field(column).type)
    table = pa.Table.from_pylist(rows, schema=spec.schema)
    deleted = []
    if query.keys_sql is not None and table_exists(query.table, settings):
        current = {k for (k,) in connection.execute(sa.text(query.keys_sql))}
        in_lake = scan_table(query.table, settings=settings).select(spec.primary_key[0]).collect()
        deleted = sorted(set(in_lake.to_series().to_list()) - current)
    counts = writers.merge(query.table, table, delete_keys=deleted, settings=settings)
    return {"read": len(rows), **counts}


def empty_table(name: str) -> pa.Table:
    """No rows, the table's columns: merging it creates the table and changes nothing else."""
    schema = get_spec(name).schema
    return pa.table({f.name: pa.array([], f.type) for f in schema}, schema=schema)


def _to_arrow_value(value, arrow_type: pa.DataType):
    """A database value as the lake column wants it (SQLite hands back text and integers)."""
    if value is None:
        return None
    if pa.types.is_timestamp(arrow_type):
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if pa.types.is_boolean(arrow_type):
        return bool(value)
    if pa.types.is_list(arrow_type) and isinstance(value, str):
        return json.loads(value)
    if pa.types.is_string(arrow_type) and not isinstance(value, str):
        return json.dumps(value)  # a JSON column read by PostgreSQL's driver
    return value


def _watermark(table: str, settings: Settings) -> datetime:
    """The newest ``updated_at`` the lake holds (rows at exactly that time are read again: merges are idempotent)."""
    if not table_exists(table, settings):
        return EPOCH
    newest = scan_table(table, settings=settings).select(pl.col("updated_at").max()).collect().item()
    return EPOCH if newest is None else newest.astimezone(UTC)


def course_content(settings: Settings) -> pl.DataFrame:
    """The current content items that have a body to read (lessons, book sections), in course order."""
    if not table_exists("bronze.core_content_items", settings):
        return pl.from_arrow(empty_table("bronze.core_content_items"))
    return (scan_table("bronze.core_content_items", settings=settings).collect()
            .filter(pl.col("body").is_not_null() & (pl.col("body").str.strip_chars() != ""))
            .sort("course_id", "module_id", "position"))
