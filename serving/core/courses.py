"""Course, module and content item writes, each with its domain event in the same transaction.

The routes, the seeder and the book importer all write the catalogue through these functions, so a
change has one implementation and one event shape whoever makes it. Who may make a change (roles,
ownership, 404s) is the caller's to decide; ``at`` and explicit ids are for writing a past that
happened elsewhere (the simulator's platform), ``flush=False`` for bulk writes in one transaction.
"""

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from learnlake.errors import LearnLakeError
from serving.core.enums import CourseStatus
from serving.core.outbox import Outbox
from serving.core.progress import recompute_course
from serving.core.tables import ContentItem, Course, Enrollment, Module, new_id, utcnow

SKILL_NAMES = "skill_names"  # in a course's metadata: {skill id: the name people read}, set by its instructor


def skill_names(meta: dict | None) -> dict[str, str]:
    """The names of a course's skills from its metadata (``skill_names``); a skill without one is shown by its id."""
    found = (meta or {}).get(SKILL_NAMES)
    return {str(k): v for k, v in found.items() if isinstance(v, str)} if isinstance(found, dict) else {}


class CourseHasLearners(LearnLakeError):
    """Learners have enrolled: the course can be archived, not deleted."""


def create_course(session: Session, outbox: Outbox, *, actor_id: str, title: str, instructor_id: str,
                  description: str | None = None, meta: dict | None = None,
                  status: CourseStatus = CourseStatus.DRAFT, course_id: str | None = None,
                  at: datetime | None = None, flush: bool = True) -> Course:
    at = at or utcnow()
    course = Course(id=course_id or new_id(), title=title, description=description, meta=meta or {},
                    instructor_id=instructor_id, status=status, created_at=at, updated_at=at,
                    published_at=at if status == CourseStatus.PUBLISHED else None)
    session.add(course)
    if flush:
        session.flush()
    _record(session, outbox, "course.created", actor_id, course, at, flush, title=title,
            instructor_learner_id=outbox.pseudonyms.learner_id(instructor_id))
    if status == CourseStatus.PUBLISHED:
        _record(session, outbox, "course.published", actor_id, course, at, flush)
    return course


def update_course(session: Session, outbox: Outbox, course: Course, changes: dict, *, actor_id: str) -> None:
    """``changes``: the API's field names (``metadata`` is the column ``meta``)."""
    for field, value in changes.items():
        setattr(course, "meta" if field == "metadata" else field, value)
    if changes:
        _record(session, outbox, "course.updated", actor_id, course, None, True, changed=sorted(changes))


def delete_course(session: Session, outbox: Outbox, course: Course, *, actor_id: str) -> None:
    if session.scalar(select(exists().where(Enrollment.course_id == course.id))):
        raise CourseHasLearners("learners have enrolled in this course; archive it instead of deleting it")
    session.delete(course)
    _record(session, outbox, "course.deleted", actor_id, course, None, True)


def set_course_status(session: Session, outbox: Outbox, course: Course, status: CourseStatus, *,
                      actor_id: str) -> None:
    if course.status == status:
        return
    course.status = status
    if status == CourseStatus.PUBLISHED:
        course.published_at = utcnow()
    _record(session, outbox, f"course.{status.value}", actor_id, course, None, True)


def create_module(session: Session, outbox: Outbox, course_id: str, *, actor_id: str, title: str,
                  position: int | None = None, module_id: str | None = None, at: datetime | None = None,
                  flush: bool = True) -> Module:
    """A module at ``position`` (default: after the last)."""
    at = at or utcnow()
    position = position or _after_the_last(session, Module.position, Module.course_id == course_id)
    module = Module(id=module_id or new_id(), course_id=course_id, position=position, title=title, created_at=at,
                    updated_at=at)
    session.add(module)
    if flush:
        session.flush()
    outbox.record(session, "module.created", actor_id=actor_id, entity_type="module", entity_id=module.id,
                  course_id=course_id, occurred_at=at, flush=flush, position=position)
    return module


def update_module(session: Session, outbox: Outbox, module: Module, changes: dict, *, actor_id: str) -> None:
    _update(session, outbox, "module", module, changes, actor_id)


def delete_module(session: Session, outbox: Outbox, module: Module, *, actor_id: str) -> None:
    _delete(session, outbox, "module", module, actor_id)


def create_item(session: Session, outbox: Outbox, module: Module, fields: dict, *, actor_id: str,
                position: int | None = None, item_id: str | None = None, at: datetime | None = None,
                flush: bool = True) -> ContentItem:
    """A content item of ``module`` (``fields``: title, content_type, body, skills...), at ``position``
    (default: after the last). Its course's enrollments are recomputed when ``flush`` (one item added live)."""
    at = at or utcnow()
    position = position or _after_the_last(session, ContentItem.position, ContentItem.module_id == module.id)
    item = ContentItem(id=item_id or new_id(), module_id=module.id, course_id=module.course_id, position=position,
                       created_at=at, updated_at=at, **fields)
    session.add(item)
    if flush:
        session.flush()
    outbox.record(session, "content_item.created", actor_id=actor_id, entity_type="content_item",
                  entity_id=item.id, course_id=module.course_id, occurred_at=at, flush=flush, module_id=module.id,
                  content_type=item.content_type, skills=item.skills, difficulty=item.difficulty,
                  estimated_minutes=item.estimated_minutes)
    if flush:
        recompute_enrollments(session, outbox, module.course_id, actor_id=actor_id)
    return item


def update_item(session: Session, outbox: Outbox, item: ContentItem, changes: dict, *, actor_id: str) -> None:
    _update(session, outbox, "content_item", item, changes, actor_id)


def delete_item(session: Session, outbox: Outbox, item: ContentItem, *, actor_id: str) -> None:
    _delete(session, outbox, "content_item", item, actor_id)


def recompute_enrollments(session: Session, outbox: Outbox, course_id: str, *, actor_id: str) -> None:
    """The course's items changed, so its learners' percents may have."""
    for enrollment, event_type in recompute_course(session, course_id):
        outbox.record(session, event_type, actor_id=actor_id, entity_type="enrollment", entity_id=enrollment.id,
                      course_id=course_id, status=enrollment.status, progress_percent=enrollment.progress_percent)


def _record(session: Session, outbox: Outbox, event_type: str, actor_id: str, course: Course,
            at: datetime | None, flush: bool, **facts) -> None:
    outbox.record(session, event_type, actor_id=actor_id, entity_type="course", entity_id=course.id,
                  course_id=course.id, occurred_at=at, flush=flush, **facts)


def _update(session: Session, outbox: Outbox, entity_type: str, entity: Module | ContentItem, changes: dict,
            actor_id: str) -> None:
    for field, value in changes.items():
        setattr(entity, field, value)
    if changes:
        outbox.record(session, f"{entity_type}.updated", actor_id=actor_id, entity_type=entity_type,
                      entity_id=entity.id, course_id=entity.course_id, changed=sorted(changes))
    session.flush()


def _delete(session: Session, outbox: Outbox, entity_type: str, entity: Module | ContentItem, actor_id: str) -> None:
    """A module or an item goes; its course's percents are recomputed."""
    session.delete(entity)
    outbox.record(session, f"{entity_type}.deleted", actor_id=actor_id, entity_type=entity_type, entity_id=entity.id,
                  course_id=entity.course_id)
    session.flush()
    recompute_enrollments(session, outbox, entity.course_id, actor_id=actor_id)


def _after_the_last(session: Session, position, among) -> int:
    return 1 + (session.scalar(select(func.max(position)).where(among)) or 0)
