"""Finding a course as a given user sees it: what they may not see does not exist (404)."""

from dataclasses import dataclass
from typing import TypeVar

from fastapi import HTTPException
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from serving.api.auth import require_on
from serving.core.db import Database
from serving.core.enums import CourseStatus, EnrollmentStatus
from serving.core.permissions import Permission, Scope, allows, scope_of
from serving.core.tables import ContentItem, Course, Enrollment, User


@dataclass(frozen=True)
class CourseRef:
    """What the access checks read of a course, without an ORM object (hot read-only routes)."""

    id: str
    status: str
    instructor_id: str


AnyCourse = TypeVar("AnyCourse", Course, CourseRef)
_COURSE_REF = select(Course.id, Course.status, Course.instructor_id).where(Course.id == bindparam("course_id"))
_RAW_COURSE_REF = "select id, status, instructor_id from courses where id = ?"


def visible_course(session: Session, user: User, course_id: str, *, lock: bool = False) -> Course:
    """The course if ``user`` may see it: published or archived ones, and drafts they may edit."""
    return _visible(session.get(Course, course_id, with_for_update=lock), user, course_id)


def visible_course_ref(database: Database, connection: Connection, user: User, course_id: str) -> CourseRef:
    """``visible_course`` by one plain read (``connection`` from ``database.read_connection``), for
    read-only routes on the hot path: raw with SQLite's driver, whose strings need no processing."""
    driver = database.sqlite_driver(connection)
    row = (driver.execute(_RAW_COURSE_REF, (course_id,)).fetchone() if driver is not None
           else connection.execute(_COURSE_REF, {"course_id": course_id}).first())
    return _visible(CourseRef(*row) if row is not None else None, user, course_id)


def _visible(course: AnyCourse | None, user: User, course_id: str) -> AnyCourse:
    if course is None or (course.status == CourseStatus.DRAFT and not can_edit(user, course)):
        raise HTTPException(404, f"no course {course_id}")
    return course


def editable_course(session: Session, user: User, course_id: str, *, lock: bool = False) -> Course:
    """The course if ``user`` may change it; 404 if they cannot see it, 403 if they only see it."""
    course = visible_course(session, user, course_id, lock=lock)
    require_on(user, Permission.EDIT_COURSE, course.instructor_id)
    return course


def item_of(session: Session, course: Course, item_id: str) -> ContentItem:
    """The content item of the course, or 404."""
    item = session.get(ContentItem, item_id)
    if item is None or item.course_id != course.id:
        raise HTTPException(404, f"no content item {item_id} in course {course.id}")
    return item


def can_edit(user: User, course: Course | CourseRef) -> bool:
    return allows(user.role, user.id, Permission.EDIT_COURSE, course.instructor_id)


def require_learner_view(session: Session | Connection, user: User, learner_user_id: str,
                         course: Course | CourseRef | None) -> None:
    """403 unless ``user`` may see this learner's models: the learner themself, an admin, or the
    instructor of ``course`` when the learner is enrolled in it; 404 when no such learner exists."""
    # The route's ``require`` has already refused roles without the permission.
    if scope_of(user.role, Permission.VIEW_LEARNER_MODELS) is Scope.OWN and learner_user_id != user.id:
        teaches = course is not None and course.instructor_id == user.id
        enrolled = teaches and session.scalar(select(Enrollment.id).where(
            Enrollment.user_id == learner_user_id, Enrollment.course_id == course.id)) is not None
        if not enrolled:
            raise HTTPException(403, "you may see your own learner models, and those of learners in courses you teach")
    if learner_user_id != user.id and session.scalar(select(User.id).where(User.id == learner_user_id)) is None:
        raise HTTPException(404, f"no learner {learner_user_id}")


def require_studying(session: Session, user: User, course: Course, permission: Permission) -> None:
    """403 unless ``user`` may use ``permission`` in this course: enrolled in it, teaching it, or with the
    permission on every course (admins)."""
    if scope_of(user.role, permission) is Scope.OWN and not can_edit(user, course):
        enrolled = session.scalar(select(Enrollment.id).where(
            Enrollment.user_id == user.id, Enrollment.course_id == course.id,
            Enrollment.status != EnrollmentStatus.UNENROLLED))
        if enrolled is None:
            raise HTTPException(403, "enrol in this course first")
