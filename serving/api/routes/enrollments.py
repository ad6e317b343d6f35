"""Enrolment, progress, a course's learners and its aggregates, under ``/api/v1/courses/{id}``."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from serving.api.auth import require, require_on
from serving.api.course_access import visible_course
from serving.api.deps import DatabaseDep, HubDep, OutboxDep
from serving.api.pagination import Limit, Offset, sort_options
from serving.api.responses import SIGNED_IN
from serving.api.routes.courses import NOT_FOUND
from serving.api.schemas import (
    CourseLearnerOut,
    CourseStats,
    EnrollmentOut,
    ItemProgressOut,
    Page,
    ProgressBody,
    ProgressOut,
)
from serving.core import enrollments
from serving.core.audit import record_access
from serving.core.enums import CourseStatus, EnrollmentStatus
from serving.core.permissions import Permission
from serving.core.tables import ContentItem, Enrollment, ItemProgress, User
from serving.realtime.messages import (
    MessageType,
    ProgressUpdated,
    RecommendationsUpdated,
    instructors_room,
    user_room,
)

router = APIRouter(prefix="/api/v1/courses/{course_id}", tags=["enrollments"], responses=SIGNED_IN)

Student = Annotated[User, Depends(require(Permission.STUDY))]
LEARNER_SORTS = sort_options("enrolled_at", "progress_percent", "name")


@router.post("/enrollments", status_code=201, response_model=EnrollmentOut,
             responses={**NOT_FOUND, 200: {"model": EnrollmentOut, "description": "Already enrolled"},
                        409: {"description": "The course is not open for enrolment"}})
def enrol(course_id: str, user: Student, database: DatabaseDep, outbox: OutboxDep, response: Response) -> Enrollment:
    """Enrol myself. Enrolling again is harmless: the same enrollment comes back with 200."""
    try:
        with database.write() as session:
            course = visible_course(session, user, course_id)
            enrollment = _enrollment(session, user.id, course_id, lock=True)
            if enrollment is not None and enrollment.status != EnrollmentStatus.UNENROLLED:
                response.status_code = 200
                return enrollment
            if course.status != CourseStatus.PUBLISHED:
                raise HTTPException(409, f"the course is {course.status}: it does not take enrolments")
            return enrollments.enroll(session, outbox, user.id, course_id, existing=enrollment)
    except IntegrityError:
        # Another request enrolled this user in this course first: answer with that enrollment.
        with database.read() as session:
            enrollment = _enrollment(session, user.id, course_id)
        if enrollment is None:
            raise
        response.status_code = 200
        return enrollment


@router.delete("/enrollments/me", status_code=204, response_class=Response,
               responses={404: {"description": "Not enrolled in this course"}})
def unenrol(course_id: str, user: Student, database: DatabaseDep, outbox: OutboxDep) -> Response:
    """Leave a course. The enrollment and its progress stay on record, marked unenrolled."""
    with database.write() as session:
        enrollment = _enrollment(session, user.id, course_id, lock=True)
        if enrollment is None or enrollment.status == EnrollmentStatus.UNENROLLED:
            raise HTTPException(404, f"you are not enrolled in course {course_id}")
        enrollments.unenroll(session, outbox, enrollment, actor_id=user.id)
    return Response(status_code=204)


@router.get("/enrollments", response_model=Page[CourseLearnerOut], responses=NOT_FOUND)
def course_learners(
    course_id: str,
    user: Annotated[User, Depends(require(Permission.VIEW_COURSE_LEARNERS))],
    database: DatabaseDep,
    status: EnrollmentStatus | None = None,
    sort: Literal[LEARNER_SORTS] = "enrolled_at",  # type: ignore[valid-type]
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CourseLearnerOut]:
    """The course's learners, for its instructor and admins."""
    with database.read() as session:
        course = visible_course(session, user, course_id)
        require_on(user, Permission.VIEW_COURSE_LEARNERS, course.instructor_id)
        query = select(Enrollment, User.name, User.email).join(User, User.id == Enrollment.user_id).where(
            Enrollment.course_id == course_id)
        if status is not None:
            query = query.where(Enrollment.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        column = {"enrolled_at": Enrollment.enrolled_at, "progress_percent": Enrollment.progress_percent,
                  "name": User.name}[sort.removeprefix("-")]
        query = query.order_by(column.desc() if sort.startswith("-") else column.asc(), Enrollment.id)
        rows = session.execute(query.limit(limit).offset(offset)).all()
    items = [CourseLearnerOut(**EnrollmentOut.model_validate(e).model_dump(), name=name, email=email)
             for e, name, email in rows]
    record_access(database, user, "course_learners", f"/api/v1/courses/{course_id}/enrollments",
                  [item.user_id for item in items])
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/stats", response_model=CourseStats, responses=NOT_FOUND)
def course_stats(course_id: str, user: Annotated[User, Depends(require(Permission.VIEW_COURSE_STATS))],
                 database: DatabaseDep) -> CourseStats:
    """Enrolment counts and mean progress: aggregates, no one's identity."""
    with database.read() as session:
        course = visible_course(session, user, course_id)
        require_on(user, Permission.VIEW_COURSE_STATS, course.instructor_id)
        counts = dict(session.execute(select(Enrollment.status, func.count()).where(
            Enrollment.course_id == course_id).group_by(Enrollment.status)).all())
        mean = session.scalar(select(func.avg(Enrollment.progress_percent)).where(
            Enrollment.course_id == course_id, Enrollment.status != EnrollmentStatus.UNENROLLED))
        items = session.scalar(select(func.count()).where(ContentItem.course_id == course_id))
    return CourseStats(course_id=course_id, enrollments=sum(counts.values()),
                       active=counts.get(EnrollmentStatus.ACTIVE, 0),
                       completed=counts.get(EnrollmentStatus.COMPLETED, 0),
                       unenrolled=counts.get(EnrollmentStatus.UNENROLLED, 0),
                       mean_progress_percent=None if mean is None else round(float(mean), 2), items=items or 0)


@router.post("/progress", response_model=ProgressOut,
             responses={**NOT_FOUND, 409: {"description": "Not enrolled in this course"}})
def report_progress(course_id: str, body: ProgressBody, user: Student, database: DatabaseDep,
                    outbox: OutboxDep, hub: HubDep) -> ProgressOut:
    """Record progress on one content item and recompute the enrollment's percent.

    The enrollment row is locked first, so concurrent reports of one learner queue and
    the percent always counts every completed item exactly once. Once committed, the change is
    pushed live to the learner and to the course's instructors (``/api/v1/ws``).
    """
    with database.write() as session:
        visible_course(session, user, course_id)
        enrollment = _enrollment(session, user.id, course_id, lock=True)
        if enrollment is None or enrollment.status == EnrollmentStatus.UNENROLLED:
            raise HTTPException(409, f"enrol in course {course_id} before reporting progress")
        item = session.get(ContentItem, body.item_id)
        if item is None or item.course_id != course_id:
            raise HTTPException(404, f"no content item {body.item_id} in course {course_id}")
        progress = session.scalar(select(ItemProgress).where(
            ItemProgress.enrollment_id == enrollment.id, ItemProgress.item_id == item.id))
        progress = enrollments.record_progress(session, outbox, enrollment, item.id, actor_id=user.id,
                                               status=body.status, time_spent_s=body.time_spent_s, score=body.score,
                                               progress=progress)
        out = _progress_out(session, enrollment)
    update = ProgressUpdated(course_id=course_id, user_id=user.id, item_id=item.id, item_status=progress.status,
                             progress_percent=enrollment.progress_percent or 0.0, enrollment_status=enrollment.status)
    for room in (user_room(user.id), instructors_room(course_id)):
        hub.publish(room, MessageType.PROGRESS, update)
    hub.publish(user_room(user.id), MessageType.RECOMMENDATIONS,
                RecommendationsUpdated(course_id=course_id, reason="progress"))
    return out


@router.get("/progress", response_model=ProgressOut,
            responses={**NOT_FOUND, 409: {"description": "Not enrolled in this course"}})
def my_progress(course_id: str, user: Annotated[User, Depends(require(Permission.READ_SELF))],
                database: DatabaseDep) -> ProgressOut:
    with database.read() as session:
        visible_course(session, user, course_id)
        enrollment = _enrollment(session, user.id, course_id)
        if enrollment is None:
            raise HTTPException(409, f"you are not enrolled in course {course_id}")
        return _progress_out(session, enrollment)


def _enrollment(session: Session, user_id: str, course_id: str, *, lock: bool = False) -> Enrollment | None:
    query = select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
    return session.scalar(query.with_for_update() if lock else query)


def _progress_out(session: Session, enrollment: Enrollment) -> ProgressOut:
    items = session.scalars(select(ItemProgress).where(ItemProgress.enrollment_id == enrollment.id)
                            .order_by(ItemProgress.created_at, ItemProgress.id))
    return ProgressOut(enrollment=EnrollmentOut.model_validate(enrollment),
                       items=[ItemProgressOut.model_validate(p) for p in items])
