"""The tutor's passages as published snapshots: what every API replica reads.

The ``tutor_index`` asset keeps the working index (Qdrant local mode: one process at a time may
open it), then publishes its passages with their vectors to the lake table
``published.tutor_passages``, one overwrite per change. Each Delta version is an immutable, whole
snapshot, on a local lake and on S3 alike, as the published warehouse is for the marts. Each API
replica loads the newest version into an index in its own memory, and swaps to a newer one when it
appears, without a restart and without ever opening the working index. With a Qdrant server
(``LEARNLAKE_QDRANT_URL``) the replicas search the server instead.
"""

from lake import readers, writers
from learnlake.settings import Settings
from models.tutor.index import TutorIndex

TABLE = "published.tutor_passages"


def publish(settings: Settings, index: TutorIndex) -> int:
    """Publish every passage of ``index`` as the newest snapshot; returns its version."""
    writers.overwrite(TABLE, index.export(), settings=settings)
    return readers.table_version(TABLE, settings)


def latest_version(settings: Settings) -> int | None:
    """The newest published snapshot's version (None before the first)."""
    return readers.table_version(TABLE, settings) if readers.table_exists(TABLE, settings) else None


def load(settings: Settings, version: int | None) -> TutorIndex:
    """Snapshot ``version`` as an index in this process's memory (an empty one for None)."""
    if version is None:
        return TutorIndex.in_memory()
    return TutorIndex.in_memory(readers.open_table(TABLE, settings, version=version).to_pyarrow_table())
