"""Moves rows that break a data-quality rule out of a table into ``bronze.dead_letters``.

Nothing is dropped silently (ARCHITECTURE.md decision 3): each row leaves with the reason it
broke, as JSON, and can be replayed once fixed. The rows are written to the dead letters
first and deleted second, so a crash in between leaves a copy, never a loss.
"""

from datetime import UTC, datetime

import polars as pl

from lake import writers
from lake.readers import open_table
from learnlake.settings import Settings


def quarantine(name: str, rows: pl.DataFrame, reasons: dict[str, str], *, key: str = "event_id",
               settings: Settings | None = None) -> int:
    """Move ``rows`` (which hold ``key``) out of table ``name``; ``reasons`` maps a key to why."""
    if rows.is_empty():
        return 0
    now = datetime.now(UTC)
    letters = rows.select(
        (pl.lit(f"quality:{name}:") + pl.col(key)).alias("dead_letter_id"),
        pl.lit(name).alias("target_table"),
        pl.col("source") if "source" in rows.columns else pl.lit("unknown").alias("source"),
        pl.col(key).replace_strict(reasons, default="failed a data-quality rule").alias("reason"),
        pl.col("received_at") if "received_at" in rows.columns else pl.lit(now).alias("received_at"),
        pl.lit(now).alias("failed_at"),
        pl.struct(pl.all()).struct.json_encode().alias("payload"),
    )
    writers.append("bronze.dead_letters", letters.to_arrow(), settings=settings)
    keys = ", ".join("'" + k.replace("'", "''") + "'" for k in rows[key].unique().to_list())
    return open_table(name, settings).delete(f"{key} IN ({keys})").get("num_deleted_rows", 0)
