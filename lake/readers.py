"""Reading lake tables: eager ``read_*``, lazy ``scan_*``, DuckDB registration, versions."""

import duckdb
import polars as pl
from deltalake import DeltaTable

from lake.catalog import table_uri
from learnlake.errors import TableNotFoundError
from learnlake.settings import Settings


def open_table(name: str, settings: Settings | None = None, version: int | None = None) -> DeltaTable:
    """The Delta table behind a catalogued name; TableNotFoundError before its first commit."""
    uri = table_uri(name, settings)
    if not DeltaTable.is_deltatable(uri):
        msg = f"table {name!r} has not been written yet (looked in {uri})"
        raise TableNotFoundError(msg)
    return DeltaTable(uri, version=version)


def table_exists(name: str, settings: Settings | None = None) -> bool:
    """Whether the table has at least one commit."""
    return DeltaTable.is_deltatable(table_uri(name, settings))


def table_version(name: str, settings: Settings | None = None) -> int:
    """The current Delta version of a table; models record it for reproducibility."""
    return open_table(name, settings).version()


def scan_table(name: str, *, version: int | None = None, settings: Settings | None = None) -> pl.LazyFrame:
    """A lazy polars frame over a table, optionally at a past version (time travel)."""
    return pl.scan_delta(open_table(name, settings, version))


def read_table(name: str, *, version: int | None = None, settings: Settings | None = None) -> pl.DataFrame:
    """A table (or a past version of it) as a polars DataFrame."""
    return scan_table(name, version=version, settings=settings).collect()


def register_duckdb(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    view_name: str | None = None,
    version: int | None = None,
    settings: Settings | None = None,
) -> str:
    """Expose a table (read eagerly) to DuckDB under ``view_name``; returns the view name."""
    view_name = view_name or name.replace(".", "_")
    # Through polars: deltalake's own pyarrow dataset makes the interpreter abort at exit.
    con.register(view_name, read_table(name, version=version, settings=settings).to_arrow())
    return view_name


def read_added_since(name: str, version: int | None, *, settings: Settings | None = None) -> tuple[pl.DataFrame, int]:
    """Rows in data files added after ``version`` (all rows when None), and the table's current version.

    Compaction rewrites old rows into new files, so callers that must not see a row twice
    deduplicate on its id.
    """
    table = open_table(name, settings)
    current = table.version()
    files = table.file_uris()
    if version is not None:
        seen = set(open_table(name, settings, version).file_uris())
        files = [path for path in files if path not in seen]
    if not files:
        return scan_table(name, settings=settings).head(0).collect(), current
    frame = pl.scan_parquet(files, hive_partitioning=True, missing_columns="insert", extra_columns="ignore").collect()
    return frame, current
