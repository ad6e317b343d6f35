"""Finding a course as a given user sees it: what they may not see does not exist (404)."""

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from serving.api.auth import require_on
from serving.core.permissions import Permission, Scope, allows, scope_of
from serving.core.tables import Course, CourseStatus, Enrollment, User


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


def require_learner_view(session: Session, user: User, learner_user_id: str, course: Course | None) -> None:
    """403 unless ``user`` may see this learner's models: the learner themself, an admin, or the
    instructor of ``course`` when the learner is enrolled in it; 404 when no such learner exists."""
    # The route's ``require`` has already refused roles without the permission.
    if scope_of(user.role, Permission.VIEW_LEARNER_MODELS) is Scope.OWN and learner_user_id != user.id:
        teaches = course is not None and course.instructor_id == user.id
        enrolled = teaches and session.scalar(select(Enrollment.id).where(
            Enrollment.user_id == learner_user_id, Enrollment.course_id == course.id)) is not None
        if not enrolled:
            raise HTTPException(403, "you may see your own learner models, and those of learners in courses you teach")
    if learner_user_id != user.id and session.get(User, learner_user_id) is None:
        raise HTTPException(404, f"no learner {learner_user_id}")
