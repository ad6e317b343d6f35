"""Content search as the API runs it: ``models/search``'s index over the core's content items, with
the tutor's passages for its semantic half.

The items (titles, text, modules, types, difficulty, skills and their names) are read from the core
database, so an edit is searchable within ``CHECK_EVERY_S`` seconds; the passages' vectors are the
tutor's current snapshot (``serving/tutor.py``), refreshed when it is. Without a snapshot yet the
search is keyword only, and says so. Which courses a user may see is decided per request by the
caller, never from this cache.
"""

import threading
import time

from sqlalchemy import func, select

from models.search.content_search import ContentSearch, SearchDocument, index_passages
from serving.core.courses import skill_names
from serving.core.db import Database
from serving.core.tables import ContentItem, Course, Module
from serving.tutor import Tutor

CHECK_EVERY_S = 2.0

_SIGNATURE = select(func.count(ContentItem.id), func.max(ContentItem.updated_at),
                    select(func.count(Module.id)).scalar_subquery(), select(func.max(Module.updated_at)).scalar_subquery(),
                    select(func.max(Course.updated_at)).scalar_subquery())
_DOCUMENTS = (select(ContentItem.id, ContentItem.course_id, Course.title, ContentItem.module_id, Module.title,
                     ContentItem.content_type, ContentItem.title, ContentItem.body, ContentItem.difficulty,
                     ContentItem.skills, Course.meta)
              .join(Module, Module.id == ContentItem.module_id).join(Course, Course.id == ContentItem.course_id)
              .order_by(ContentItem.course_id, Module.position, ContentItem.position))


def _documents(database: Database) -> list[SearchDocument]:
    with database.read() as session:
        rows = session.execute(_DOCUMENTS).all()
    documents = []
    for item_id, course_id, course_title, module_id, module_title, kind, title, body, difficulty, skills, meta in rows:
        names = skill_names(meta)
        documents.append(SearchDocument(item_id, course_id, course_title, module_id, module_title, kind, title,
                                        body or "", difficulty, tuple(names.get(s, s) for s in skills or ())))
    return documents


class ContentSearchService:
    def __init__(self, database: Database, tutor: Tutor):
        self.database = database
        self.tutor = tutor
        self._search: ContentSearch | None = None
        self._built_from: tuple | None = None  # (the content's signature, the tutor's retriever)
        self._checked_at = float("-inf")
        self._lock = threading.Lock()  # held for a glance at the clock
        self._building = threading.Lock()  # one build at a time; the one before keeps answering

    def current(self) -> ContentSearch:
        """The index over the current content: rebuilt when an item, module or course changed, or when the
        tutor loaded a newer snapshot of the passages."""
        with self._lock:
            now = time.monotonic()
            if self._search is not None and now - self._checked_at < CHECK_EVERY_S:
                return self._search
            self._checked_at = now
        with self._building:
            with self.database.read() as session:
                signature = tuple(session.execute(_SIGNATURE).one())
            retriever = self.tutor.retriever()
            built = self._built_from
            if self._search is None or built[0] != signature or built[1] is not retriever.index:
                self._search = ContentSearch(_documents(self.database), index_passages(retriever.index))
                self._built_from = (signature, retriever.index)
            return self._search
