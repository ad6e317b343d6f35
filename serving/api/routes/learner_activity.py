"""One learner's activity in a course, for the course's instructor: the drill-down behind the at-risk list.

Read from the published warehouse, so it is as of the warehouse's last event. Only the
course's instructor (or an admin) may ask, and only about a learner enrolled in the course:
anyone else gets 403, an unknown learner or one not in the course 404.
"""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select

from lake.warehouse import query
from serving.api.auth import require, require_on
from serving.api.course_access import visible_course
from serving.api.deps import DatabaseDep, PseudonymsDep, SettingsDep
from serving.api.responses import SIGNED_IN, documented
from serving.core.audit import record_access
from serving.core.permissions import Permission
from serving.core.tables import Enrollment, User

router = APIRouter(prefix="/api/v1", tags=["learner activity"], responses={**SIGNED_IN, **documented(404, 503)})


class LearnerDay(BaseModel):
    day: date
    events: int
    study_minutes: float
    answers: int
    right_answers: int


class LearnerEvent(BaseModel):
    occurred_at: datetime
    verb: str
    object_type: str | None
    item_id: str | None
    title: str | None  # the content item's title, when the event names one or one of its questions
    success: bool | None
    score: float | None


class LearnerActivityOut(BaseModel):
    course_id: str
    user_id: str
    name: str
    enrolled_at: datetime
    status: str
    progress_percent: float
    as_of: datetime | None  # the warehouse's last event
    days: list[LearnerDay]  # every day with activity in this course, oldest first
    recent_events: list[LearnerEvent]  # newest first


@router.get("/courses/{course_id}/learners/{user_id}/activity")
def learner_activity(course_id: str, user_id: str,
                     user: Annotated[User, Depends(require(Permission.VIEW_COURSE_LEARNERS))],
                     database: DatabaseDep, pseudonyms: PseudonymsDep, settings: SettingsDep,
                     events: int = Query(50, ge=0, le=500, description="How many of the latest events to list")
                     ) -> LearnerActivityOut:
    """A learner's timeline in a course: activity and answers per day, and their latest events."""
    with database.read() as session:
        course = visible_course(session, user, course_id)
        require_on(user, Permission.VIEW_COURSE_LEARNERS, course.instructor_id)
        enrolled = session.execute(
            select(User.name, Enrollment.enrolled_at, Enrollment.status, Enrollment.progress_percent)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.course_id == course_id, Enrollment.user_id == user_id)).first()
    if enrolled is None:
        raise HTTPException(404, f"no learner {user_id} in course {course_id}")
    record_access(database, user, "learner_activity", f"/api/v1/courses/{course_id}/learners/{user_id}/activity",
                  [user_id])
    params = {"learner": pseudonyms.learner_id(user_id), "course": course_id}
    days = query(settings, """
        select d.activity_date as day, d.study_events as events, d.duration_s / 60.0 as study_minutes,
               coalesce(a.answers, 0) as answers, coalesce(a.right_answers, 0) as right_answers
        from intermediate.int_learner_course_days as d
        left join (select activity_date, count(*) as answers, count(*) filter (where is_success) as right_answers
                   from staging.stg_lake__events
                   where learner_id = $learner and course_id = $course and verb = 'answered'
                   group by activity_date) as a using (activity_date)
        where d.learner_id = $learner and d.course_id = $course and d.study_events > 0
        order by day""", params)
    latest = query(settings, """
        select e.occurred_at, e.verb, e.object_type, coalesce(i.item_id, q.item_id) as item_id,
               coalesce(i.title, q.title) as title, e.is_success as success, e.score
        from staging.stg_lake__events as e
        left join marts.dim_content_items as i on i.item_id = e.object_id
        -- else a question "<quiz id>/q2" belongs to its quiz, as in fct_graded_answers
        left join marts.dim_content_items as q on i.item_id is null and q.item_id = split_part(e.object_id, '/', 1)
        where e.learner_id = $learner and e.course_id = $course
        order by e.occurred_at desc, e.event_id desc
        limit $limit""", params | {"limit": events})
    as_of = query(settings, "select max(as_of_at) as as_of from marts.fct_enrollments")["as_of"][0]
    return LearnerActivityOut(
        course_id=course_id, user_id=user_id, name=enrolled.name, enrolled_at=enrolled.enrolled_at,
        status=enrolled.status, progress_percent=enrolled.progress_percent, as_of=as_of,
        days=[LearnerDay(**row) for row in days.to_dicts()],
        recent_events=[LearnerEvent(**row) for row in latest.to_dicts()])
