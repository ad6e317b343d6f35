"""Imports course material into the core database: an OpenStax book becomes a published course.

The book is taught by a system account (``openstax@learnlake.example``, an instructor who
cannot sign in); chapters become modules and sections become lesson items whose body is the
section's Markdown and whose ``source`` says which book, module and file it came from. Each chapter
is a skill its sections practise (the sections of the front and back matter practise none), named by the
chapter's title (the course's ``skill_names``), so mastery, reviews and practice questions speak of "Loops",
not of an id.
Importing a book again updates the sections whose text changed and adds new ones; every
change is written with its domain event, like any other.
"""

from dataclasses import dataclass

from sqlalchemy import select

from lake.sources.datasets.openstax import Book
from serving.core import courses, users
from serving.core.db import Database
from serving.core.enums import ContentType, CourseStatus, Role
from serving.core.outbox import Outbox
from serving.core.tables import ContentItem, Course, Module, User

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
            importer = users.register_user(session, outbox, email=IMPORTER_EMAIL, name="OpenStax import",
                                           role=Role.INSTRUCTOR, password_hash=None)
        course = next((c for c in session.scalars(select(Course).where(Course.instructor_id == importer.id))
                       if c.meta.get("book_uuid") == book.uuid), None)
        created = course is None
        if created:
            course = courses.create_course(
                session, outbox, actor_id=importer.id, title=book.title, instructor_id=importer.id,
                description=f"OpenStax: {book.title}", status=CourseStatus.PUBLISHED,
                meta={"source": "openstax", "book_uuid": book.uuid, "slug": book.slug, "license": book.license_url})
        names = {chapter.skill_id: chapter.title for chapter in book.chapters if chapter.skill_id}
        if courses.skill_names(course.meta) != names:
            courses.update_course(session, outbox, course, {"metadata": {**course.meta, courses.SKILL_NAMES: names}},
                                  actor_id=importer.id)
        added = updated = 0
        modules = {m.title: m for m in session.scalars(select(Module).where(Module.course_id == course.id))}
        items = {(i.source or {}).get("module"): i
                 for i in session.scalars(select(ContentItem).where(ContentItem.course_id == course.id))}
        for position, chapter in enumerate(book.chapters, start=1):
            module = modules.get(chapter.title)
            if module is None:
                module = courses.create_module(session, outbox, course.id, actor_id=importer.id, title=chapter.title,
                                               position=position)
            skills = [chapter.skill_id] if chapter.skill_id else []
            for item_position, section in enumerate(chapter.sections, start=1):
                item = items.get(section.module_id)
                minutes = max(1, round(len(section.markdown.split()) * MINUTES_PER_WORD))
                if item is None:
                    courses.create_item(session, outbox, module, {
                        "content_type": ContentType.LESSON, "title": section.title, "body": section.markdown,
                        "estimated_minutes": minutes, "skills": skills, "prerequisites": [],
                        "source": {"kind": "openstax-cnxml", "book": book.slug, "module": section.module_id,
                                   "path": section.path, "chapter": chapter.title}},
                        actor_id=importer.id, position=item_position)
                    added += 1
                elif item.body != section.markdown or item.title != section.title or item.skills != skills:
                    courses.update_item(session, outbox, item, {"body": section.markdown, "title": section.title,
                                                                "estimated_minutes": minutes, "skills": skills},
                                        actor_id=importer.id)
                    updated += 1
    return ImportReport(course.id, created, added, updated)
