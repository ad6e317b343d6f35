"""What every dataset loader shares: the result type, event rows, the content fingerprint."""

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from lake.privacy import learner_id_for
from lake.schemas import EVENT_SCHEMA_VERSION
from learnlake.errors import LearnLakeError

ID_CHUNK = 1_000_000


class DatasetError(LearnLakeError):
    """A data directory is missing files, or a file is not in the format its dataset uses."""


@dataclass
class DatasetLoad:
    """What a loader read: events for ``bronze.events``, and label tables by lake name."""

    name: str
    events: pa.Table
    labels: dict[str, pa.Table] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def fingerprint(files: list[Path]) -> str:
    """A hash of the files' names and contents: the identity of one load."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def dataset_learner_id(dataset: str, raw_id: str, key: str) -> str:
    """A pseudonymous learner id for a dataset's own learner id (namespaced: ids of two datasets never meet)."""
    return learner_id_for(f"{dataset}:{raw_id}", key)


def event_ids(dataset: str, keys: pl.Series | list[str]) -> pl.Series:
    """Stable UUIDs for a dataset's events (the ``event_id`` column): loading the same files twice
    gives the same ids. Keys become Python strings a million at a time, so that a clickstream of
    ten million rows does not hold twenty million of them at once."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"https://learnlake.dev/datasets/{dataset}")
    keys = pl.Series(keys, dtype=pl.String)
    chunks = [pl.Series([str(uuid.uuid5(namespace, key)) for key in keys.slice(start, ID_CHUNK).to_list()],
                        dtype=pl.String) for start in range(0, len(keys), ID_CHUNK)]
    return (pl.concat(chunks) if chunks else pl.Series([], dtype=pl.String)).alias("event_id")


def to_bronze(events: pl.DataFrame, dataset: str) -> pa.Table:
    """Events with the columns every ``bronze.events`` row has that a dataset does not say."""
    return events.with_columns(
        pl.lit(datetime.now(UTC)).dt.cast_time_unit("us").alias("received_at"),
        pl.col("timestamp").dt.date().alias("event_date"),
        pl.lit(EVENT_SCHEMA_VERSION, pl.Int32).alias("schema_version"),
        pl.lit(dataset).alias("source"),
    ).to_arrow()
