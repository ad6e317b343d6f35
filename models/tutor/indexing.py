"""Index the lake's course content for the tutor (the ``tutor_index`` asset, ``learnlake tutor index``).

Each course's passages in Qdrant become exactly its current content: new and edited lessons
are embedded, removed ones leave the index, unchanged ones are not touched. Courses that no
longer have any content are emptied too. Whenever the passages changed (or none were published
yet), the index is published as a new snapshot for the API replicas (``models/tutor/published.py``).
"""

import logging

from learnlake.settings import Settings
from models.tutor import published
from models.tutor.content import chunk_documents, lake_documents
from models.tutor.index import SyncReport, TutorIndex, qdrant_client

log = logging.getLogger(__name__)


def index_lake_content(settings: Settings) -> dict[str, SyncReport]:
    """Sync every course's passages with its content in the lake; a report per course."""
    documents = lake_documents(settings)
    client = qdrant_client(settings)
    try:
        index = TutorIndex(client)
        reports = {}
        for course_id in sorted(set(documents) | set(index.course_ids())):
            reports[course_id] = index.sync_course(course_id, chunk_documents(documents.get(course_id, [])))
            log.info("tutor index: course %s: %s", course_id, reports[course_id])
        changed = any(r.added or r.updated or r.removed for r in reports.values())
        if changed or published.latest_version(settings) is None:
            log.info("tutor index: published as snapshot %s", published.publish(settings, index))
        return reports
    finally:
        client.close()
