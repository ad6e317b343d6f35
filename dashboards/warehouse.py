"""Read-only queries against the published warehouse (never the file the pipeline writes)."""

from pathlib import Path

import duckdb
import pandas as pd

from learnlake.errors import LearnLakeError
from learnlake.settings import get_settings


class WarehouseNotPublished(LearnLakeError):
    """The pipeline has not published a warehouse yet (or one this version can read)."""


def published_path() -> Path:
    return Path(get_settings().published_warehouse_path)


def query(sql: str, params: list | None = None) -> pd.DataFrame:
    """Run ``sql`` on a fresh read-only connection to the published warehouse."""
    path = published_path()
    if not path.exists():
        raise WarehouseNotPublished(f"no published warehouse at {path} yet; run `learnlake pipeline run`")
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            return con.execute(sql, params or []).df()
        except duckdb.CatalogException as exc:  # published by an older version, before a mart existed
            raise WarehouseNotPublished(f"the published warehouse lacks a table this page needs ({exc}); "
                                        "run `learnlake pipeline run`") from exc
