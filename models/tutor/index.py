"""The tutor's passage index: chunks with their MiniLM vectors in Qdrant, one collection.

Qdrant runs in local mode (a folder under the LearnLake home) unless ``LEARNLAKE_QDRANT_URL``
names a server. Each point is one chunk; its payload holds the chunk (text, document,
heading, location) and a fingerprint, and every query filters on ``course_id``.
``sync_course`` makes a course's points equal to the chunks given: new and changed chunks
are embedded and written, chunks that left are deleted, unchanged ones are not touched
(embedding is the slow part).
"""

import uuid
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import orjson
import pyarrow as pa
from qdrant_client import QdrantClient
from qdrant_client import models as qm  # not to be confused with our models package

from lake.schemas import TUTOR_PASSAGES
from learnlake.errors import LearnLakeError
from learnlake.settings import Settings
from models.embeddings import embed_kept
from models.tutor.chunks import Chunk

COLLECTION = "learnlake_tutor"
DIMENSIONS = 384  # MiniLM-L6


class TutorIndexBusyError(LearnLakeError):
    """Another process holds the local-mode index."""


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    removed: int
    unchanged: int


def qdrant_client(settings: Settings) -> QdrantClient:
    """A server when LEARNLAKE_QDRANT_URL is set, else local mode under the home."""
    if settings.qdrant_url:
        return QdrantClient(url=settings.qdrant_url)
    settings.qdrant_path.mkdir(parents=True, exist_ok=True)
    try:
        return QdrantClient(path=str(settings.qdrant_path))
    except RuntimeError as exc:  # local mode locks its folder to one process
        raise TutorIndexBusyError(f"the tutor index {settings.qdrant_path} is open in another process (Qdrant "
                                  "local mode serves one at a time); try again, or set LEARNLAKE_QDRANT_URL") from exc


def _point_id(chunk_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, chunk_id))  # Qdrant ids are integers or UUIDs


def _course(course_id: str) -> qm.Filter:
    return qm.Filter(must=[qm.FieldCondition(key="course_id", match=qm.MatchValue(value=course_id))])


class TutorIndex:
    def __init__(self, client: QdrantClient, collection: str = COLLECTION):
        self.client = client
        self.collection = collection
        if not client.collection_exists(collection):
            client.create_collection(collection, vectors_config=qm.VectorParams(
                size=DIMENSIONS, distance=qm.Distance.COSINE))
            with warnings.catch_warnings():  # local mode has no payload indexes, and says so; a server uses it
                warnings.simplefilter("ignore", UserWarning)
                client.create_payload_index(collection, "course_id", qm.PayloadSchemaType.KEYWORD)

    def _points(self, payload, course_id: str | None = None):
        """Every point's payload (the fields asked for), of one course or of all, page by page."""
        offset = None
        while True:
            points, offset = self.client.scroll(self.collection, scroll_filter=_course(course_id) if course_id else None,
                                                limit=1000, offset=offset, with_payload=payload, with_vectors=False)
            yield from (p.payload for p in points)
            if offset is None:
                return

    def course_ids(self) -> set[str]:
        """The courses that have passages in the index."""
        return {payload["course_id"] for payload in self._points(["course_id"])}

    def course_chunks(self, course_id: str) -> list[Chunk]:
        """Every chunk indexed for a course, in document and reading order."""
        chunks = [Chunk(**{k: tuple(v) if k == "skills" else v for k, v in payload.items() if k != "fingerprint"})
                  for payload in self._points(True, course_id)]
        return sorted(chunks, key=lambda c: (c.document_id, int(c.chunk_id.rsplit("#", 1)[1])))

    def course_vectors(self, course_id: str) -> dict[str, np.ndarray]:
        """Every indexed chunk's vector for a course, by chunk id."""
        vectors, offset = {}, None
        while True:
            points, offset = self.client.scroll(self.collection, scroll_filter=_course(course_id), limit=1000,
                                                offset=offset, with_payload=["chunk_id"], with_vectors=True)
            vectors.update({p.payload["chunk_id"]: np.asarray(p.vector, dtype=np.float32) for p in points})
            if offset is None:
                return vectors

    def sync_course(self, course_id: str, chunks: list[Chunk]) -> SyncReport:
        """Make the course's indexed chunks exactly ``chunks``, embedding only what is new or changed."""
        if any(c.course_id != course_id for c in chunks):
            raise ValueError(f"every chunk must belong to course {course_id!r}")
        if len({c.chunk_id for c in chunks}) != len(chunks):
            raise ValueError("chunk ids must be unique")
        indexed = {p["chunk_id"]: p["fingerprint"] for p in self._points(["chunk_id", "fingerprint"], course_id)}
        changed = [c for c in chunks if indexed.get(c.chunk_id) != c.fingerprint]
        if changed:
            vectors = embed_kept([c.indexed_text for c in changed])  # an evaluation or a re-index finds them kept
            self.client.upsert(self.collection, points=[
                qm.PointStruct(id=_point_id(c.chunk_id), vector=vector.tolist(),
                               payload={**asdict(c), "fingerprint": c.fingerprint})
                for c, vector in zip(changed, vectors, strict=True)])
        current = {c.chunk_id for c in chunks}
        gone = [chunk_id for chunk_id in indexed if chunk_id not in current]
        if gone:
            self.client.delete(self.collection, points_selector=qm.PointIdsList(
                points=[_point_id(chunk_id) for chunk_id in gone]))
        added = sum(c.chunk_id not in indexed for c in changed)
        return SyncReport(added=added, updated=len(changed) - added, removed=len(gone),
                          unchanged=len(chunks) - len(changed))

    def export(self) -> pa.Table:
        """Every point (id, course, payload as JSON, vector), in ``TUTOR_PASSAGES``'s schema: a snapshot."""
        ids, courses, payloads, vectors, offset = [], [], [], [], None
        while True:
            points, offset = self.client.scroll(self.collection, limit=1000, offset=offset, with_payload=True,
                                                with_vectors=True)
            for p in points:
                ids.append(str(p.id))
                courses.append(p.payload["course_id"])
                payloads.append(orjson.dumps(p.payload).decode())
                vectors.append(p.vector)
            if offset is None:
                return pa.table({"point_id": ids, "course_id": courses, "payload": payloads,
                                 "vector": pa.array(vectors, pa.list_(pa.float32()))}, schema=TUTOR_PASSAGES)

    @classmethod
    def in_memory(cls, points: pa.Table | None = None, collection: str = COLLECTION) -> "TutorIndex":
        """An index in this process's memory (nothing else can lock it) holding ``points``, an ``export()``."""
        index = cls(QdrantClient(":memory:"), collection)
        if points is not None:
            for batch in points.to_batches(1000):
                rows = batch.to_pydict()
                index.client.upsert(collection, points=[
                    qm.PointStruct(id=point_id, vector=vector, payload=orjson.loads(payload))
                    for point_id, payload, vector in zip(rows["point_id"], rows["payload"], rows["vector"],
                                                         strict=True)])
        return index

    def dense_search(self, course_id: str, vector: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the nearest chunks of one course."""
        hits = self.client.query_points(self.collection, query=vector.tolist(), query_filter=_course(course_id),
                                        limit=limit, with_payload=["chunk_id"]).points
        return [(hit.payload["chunk_id"], float(hit.score)) for hit in hits]
