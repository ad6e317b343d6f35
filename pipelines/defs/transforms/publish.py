"""Publishing the warehouse: the read-only copy dashboards and serving read (ARCHITECTURE.md decision 4)."""

import os
import shutil
import tempfile
from pathlib import Path

import duckdb


def publish_warehouse(source: Path, target: Path) -> int:
    """Copy the warehouse next to ``target``, then rename it over: readers see the old file or
    the new one, never half of either. Returns the number of tables published."""
    with duckdb.connect(str(source)) as con:
        con.execute("CHECKPOINT")  # everything in the main file, nothing left in the WAL
        tables = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts')"
        ).fetchone()[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".warehouse-", suffix=".duckdb")
    os.close(fd)
    shutil.copyfile(source, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return tables
