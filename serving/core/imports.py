"""Imports course material into the core database: an OpenStax book becomes a published course.

The book is taught by a system account (``openstax@learnlake.example``, an instructor who
cannot sign in); chapters become modules and sections become lesson items whose body is the
section's Markdown and whose ``source`` says which book, module and file it came from.
Importing a book again updates the sections whose text changed and adds new ones; every
change is written with its domain event, like any other.
"""

from dataclasses import dataclass

from sqlalchemy import select

from lake.sources.datasets.openstax import Book
from serving.core.db import Database
from serving.core.outbox import Outbox
from serving.core.tables import ContentItem, ContentType, Course, CourseStatus, Module, Role, User, utcnow

IMPORTER_EMAIL = "openstax@learnlake.example"
MINUTES_PER_WORD = 1 / 200  # reading speed for the estimated time of a section


@dataclass(frozen=True)
class ImportReport:
    course_id: str
    created: bool
    sections_added: int
    sections_updated: int


def import_book(database: Database, outbox: Outbox, book: Book) -> ImportReport:
    with database.write() as session:
        importer = session.scalar(select(User).where(User.email == IMPORTER_EMAIL))
        if importer is None:
            importer = User(email=IMPORTER_EMAIL, name="OpenStax import", role=Role.INSTRUCTOR, password_hash=None)
            session.add(importer)
            session.flush()
        course = next((c for c in session.scalars(select(Course).where(Course.instructor_id == importer.id))
                       if c.meta.get("book_uuid") == book.uuid), None)
        created = course is None
        if created:
            course = Course(title=book.title, description=f"OpenStax: {book.title}", instructor_id=importer.id,
                            status=CourseStatus.PUBLISHED, published_at=utcnow(),
                            meta={"source": "openstax", "book_uuid": book.uuid, "slug": book.slug,
                                  "license": book.license_url})
            session.add(course)
            session.flush()
            outbox.record(session, "course.created", actor_id=importer.id, entity_type="course", entity_id=course.id,
                          course_id=course.id, title=course.title, instructor_learner_id=outbox.pseudonyms.learner_id(importer.id))
            outbox.record(session, "course.published", actor_id=importer.id, entity_type="course",
                          entity_id=course.id, course_id=course.id)
        added = updated = 0
        modules = {m.title: m for m in session.scalars(select(Module).where(Module.course_id == course.id))}
        items = {(i.source or {}).get("module"): i
                 for i in session.scalars(select(ContentItem).where(ContentItem.course_id == course.id))}
        for position, chapter in enumerate(book.chapters, start=1):
            module = modules.get(chapter.title)
            if module is None:
                module = Module(course_id=course.id, position=position, title=chapter.title)
                session.add(module)
                session.flush()
                outbox.record(session, "module.created", actor_id=importer.id, entity_type="module",
                              entity_id=module.id, course_id=course.id, position=position)
            for item_position, section in enumerate(chapter.sections, start=1):
                item = items.get(section.module_id)
                minutes = max(1, round(len(section.markdown.split()) * MINUTES_PER_WORD))
                if item is None:
                    item = ContentItem(
                        module_id=module.id, course_id=course.id, position=item_position,
                        content_type=ContentType.LESSON, title=section.title, body=section.markdown,
                        estimated_minutes=minutes, skills=[], prerequisites=[],
                        source={"kind": "openstax-cnxml", "book": book.slug, "module": section.module_id,
                                "path": section.path, "chapter": chapter.title})
                    session.add(item)
                    session.flush()
                    added += 1
                    outbox.record(session, "content_item.created", actor_id=importer.id,
                                  entity_type="content_item", entity_id=item.id, course_id=course.id,
                                  module_id=module.id, content_type=item.content_type,
                                  estimated_minutes=minutes)
                elif item.body != section.markdown or item.title != section.title:
                    item.body, item.title, item.estimated_minutes = section.markdown, section.title, minutes
                    updated += 1
                    outbox.record(session, "content_item.updated", actor_id=importer.id,
                                  entity_type="content_item", entity_id=item.id, course_id=course.id,
                                  changed=["body", "title"])
    return ImportReport(course.id, created, added, updated)
