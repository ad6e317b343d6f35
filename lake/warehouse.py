"""Reads of the published warehouse: the one way serving, the dashboards, models and pipelines query it.

Each read opens its own read-only DuckDB connection: the pipeline publishes by renaming a new file
over the old one, so a read sees one whole warehouse, never half of a rebuild, and never the file
the pipeline is writing.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import polars as pl

from learnlake.errors import TableNotFoundError
from learnlake.settings import Settings


class WarehouseNotPublished(TableNotFoundError):
    """The pipeline has not published a warehouse yet, or one that lacks a table the reader needs."""


@contextmanager
def published_warehouse(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published warehouse; WarehouseNotPublished before the first publish,
    and for a query on a table an older warehouse does not have."""
    path = Path(settings.published_warehouse_path)
    if not path.exists():
        raise WarehouseNotPublished(f"no published warehouse at {path} yet: run `learnlake pipeline run`")
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            yield con
        except duckdb.CatalogException as exc:  # published by an older version, before a mart existed
            raise WarehouseNotPublished(f"the published warehouse lacks a table this needs ({exc}): "
                                        "run `learnlake pipeline run`") from exc


def query(settings: Settings, sql: str, params: dict | list | None = None, *,
          frame: Literal["polars", "pandas"] = "polars") -> pl.DataFrame | pd.DataFrame:
    """The rows of ``sql`` (parameters ``$name`` from a dict, or ``$1``... from a list) as a data frame."""
    with published_warehouse(settings) as con:
        relation = con.sql(sql, params=params or None)
        return relation.pl() if frame == "polars" else relation.df()
