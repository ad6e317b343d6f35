"""Finding a course as a given user sees it: what they may not see does not exist (404)."""

from fastapi import HTTPException
from sqlalchemy.orm import Session

from serving.api.auth import require_on
from serving.core.permissions import Permission, allows
from serving.core.tables import Course, CourseStatus, User


def visible_course(session: Session, user: User, course_id: str, *, lock: bool = False) -> Course:
    """The course if ``user`` may see it: published or archived ones, and drafts they may edit."""
    course = session.get(Course, course_id, with_for_update=lock)
    if course is None or (course.status == CourseStatus.DRAFT and not can_edit(user, course)):
        raise HTTPException(404, f"no course {course_id}")
    return course


def editable_course(session: Session, user: User, course_id: str, *, lock: bool = False) -> Course:
    """The course if ``user`` may change it; 404 if they cannot see it, 403 if they only see it."""
    course = visible_course(session, user, course_id, lock=lock)
    require_on(user, Permission.EDIT_COURSE, course.instructor_id)
    return course


def can_edit(user: User, course: Course) -> bool:
    return allows(user.role, user.id, Permission.EDIT_COURSE, course.instructor_id)
