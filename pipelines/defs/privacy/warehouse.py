"""Erasing learners from the DuckDB warehouse, and publishing the result.

A row whose text column holds one of their pseudonyms is theirs (their events, sessions,
enrollments, a domain event about them) and is deleted; their pseudonym inside other text
(a payload naming them) becomes ``lrn_erased``. The file is then copied into a fresh one, so no
block of the old file keeps a deleted row, and published like any build. Aggregates stay as they
are until the next build recomputes them without the learner.
"""

import os
from pathlib import Path

import duckdb

from lake.privacy import ERASED_PSEUDONYM
from pipelines.defs.transforms.publish import publish_warehouse

USER_SCHEMAS = ("staging", "intermediate", "marts")


def erase_from_warehouse(path: Path, published: Path, pseudonyms: list[str]) -> dict[str, int]:
    """Delete and redact ``pseudonyms`` in every table of the warehouse at ``path``, then publish it."""
    if not pseudonyms or not path.exists():
        return {}
    pattern = "|".join(pseudonyms)
    done = {"rows_deleted": 0, "rows_redacted": 0}
    with duckdb.connect(str(path)) as con:
        for schema, table, columns in _text_columns(con):
            name = f'"{schema}"."{table}"'
            theirs = " or ".join(f'"{c}" in ({", ".join("?" * len(pseudonyms))})' for c in columns)
            done["rows_deleted"] += con.execute(f"delete from {name} where {theirs}",
                                                list(pseudonyms) * len(columns)).fetchone()[0]
            for column in columns:
                done["rows_redacted"] += con.execute(
                    f'update {name} set "{column}" = regexp_replace("{column}", ?, ?, \'g\') '
                    f'where regexp_matches("{column}", ?)', [pattern, ERASED_PSEUDONYM, pattern]).fetchone()[0]
        con.execute("checkpoint")
    _rewrite(path)
    if published.exists():
        publish_warehouse(path, published)
    return done


def _text_columns(con) -> list[tuple[str, str, list[str]]]:
    rows = con.execute(
        "select c.table_schema, c.table_name, list(c.column_name order by c.ordinal_position) "
        "from information_schema.columns c join information_schema.tables t using (table_schema, table_name) "
        f"where t.table_type = 'BASE TABLE' and c.table_schema in {USER_SCHEMAS} and c.data_type = 'VARCHAR' "
        "group by all order by all").fetchall()
    return [(schema, table, columns) for schema, table, columns in rows]


def _rewrite(path: Path) -> None:
    """Copy the warehouse into a fresh file and rename it over: freed blocks may still hold deleted rows."""
    fresh = path.with_name(f".{path.name}.erasing")
    fresh.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(f"attach '{fresh}' as fresh")
        con.execute(f"copy from database \"{path.stem}\" to fresh")
        con.execute("detach fresh")
    os.replace(fresh, path)
