"""Snapshots the core API's tables into ``bronze.core_*`` Delta tables, incrementally.

Each run reads the rows changed since the newest ``updated_at`` already in the lake and
merges them on their key; rows deleted from the database (courses, modules, content items
can be) are deleted from the lake too. User ids become pseudonymous learner ids on the way,
and e-mail and name are never read (ARCHITECTURE.md decision 6).
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from lake import writers
from lake.catalog import get_spec
from lake.privacy import learner_id_for
from lake.readers import read_table, scan_table, table_exists
from learnlake.settings import Settings, get_settings


@dataclass(frozen=True)
class SnapshotQuery:
    """How one ``bronze.core_*`` table is read from the core database. Its columns are the lake table's
    Arrow schema (``lake.schemas``): the query is derived from it, so the two cannot drift apart."""

    table: str  # lake table
    source: str  # core database table, read as ``t``
    columns: dict[str, str] = field(default_factory=dict)  # lake (or user id) column -> SQL, where not t.<name>
    pseudonymise: tuple[tuple[str, str], ...] = ()  # (user id column, learner id column)
    deletable: bool = True  # rows can be deleted: the snapshot compares keys
    join: str = ""

    @property
    def sql(self) -> str:
        """Selects the lake columns (user ids under their own name, pseudonymised in Python); ``:since``
        bounds updated_at."""
        user_of = {learner: user for user, learner in self.pseudonymise}
        selected = []
        for column in (user_of.get(f.name, f.name) for f in get_spec(self.table).schema):
            selected.append(f"{self.columns.get(column, f't.{column}')} AS {column}")
        source = " ".join(filter(None, [f"{self.source} t", self.join]))
        updated = self.columns.get("updated_at", "t.updated_at")  # rows never changed (NULL) are not read
        return f"SELECT {', '.join(selected)} FROM {source} WHERE {updated} >= :since"

    @property
    def keys_sql(self) -> str | None:
        """All current keys, for tables whose rows can be deleted."""
        return f"SELECT id FROM {self.source}" if self.deletable else None


QUERIES = (
    SnapshotQuery("bronze.core_users", "users", {"user_id": "t.id"}, (("user_id", "learner_id"),), deletable=False),
    SnapshotQuery("bronze.core_courses", "courses", {"course_id": "t.id"},
                  (("instructor_id", "instructor_learner_id"),)),
    SnapshotQuery("bronze.core_modules", "modules", {"module_id": "t.id"}),
    SnapshotQuery("bronze.core_content_items", "content_items", {"item_id": "t.id"}),
    SnapshotQuery("bronze.core_enrollments", "enrollments", {"enrollment_id": "t.id"}, (("user_id", "learner_id"),),
                  deletable=False),
    SnapshotQuery("bronze.core_item_progress", "item_progress", {"progress_id": "t.id", "user_id": "e.user_id"},
                  (("user_id", "learner_id"),), join="JOIN enrollments e ON e.id = t.enrollment_id"),
    # Only the answers an instructor graded; an answer erased or past retention leaves the lake with its row.
    SnapshotQuery("bronze.core_answer_reviews", "graded_answers", {"answer_id": "t.id", "updated_at": "t.reviewed_at"},
                  (("user_id", "learner_id"),)),
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
    return (read_table("bronze.core_content_items", settings=settings)
            .filter(pl.col("body").is_not_null() & (pl.col("body").str.strip_chars() != ""))
            .sort("course_id", "module_id", "position"))
