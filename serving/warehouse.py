"""Read-only queries on the published warehouse, for the analytics and at-risk endpoints.

Each query opens its own read-only DuckDB connection: the pipeline publishes by renaming a
new file over the old one, so a query sees one whole warehouse, never half of a rebuild.
"""

from pathlib import Path

import duckdb
import polars as pl

from learnlake.errors import TableNotFoundError
from learnlake.settings import Settings


def query(settings: Settings, sql: str, params: dict | None = None) -> pl.DataFrame:
    """The rows of ``sql`` (named parameters ``$name``); TableNotFoundError before the first publish."""
    path = Path(settings.published_warehouse_path)
    if not path.exists():
        raise TableNotFoundError(f"no published warehouse at {path} yet: run `learnlake pipeline run`")
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            return con.sql(sql, params=params or {}).pl()
        except duckdb.CatalogException as exc:  # a warehouse from before a mart existed
            raise TableNotFoundError(f"the published warehouse lacks a table this answer needs: {exc}") from exc
