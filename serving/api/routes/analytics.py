"""Learning analytics over the published warehouse: a course's cohort report, platform aggregates.

Aggregates only: no answer here names a learner or carries a learner id. The figures are as
of the warehouse's last event (``as_of``), not of the request.
"""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from lake.warehouse import query
from serving.api.auth import require, require_on
from serving.api.course_access import visible_course
from serving.api.deps import DatabaseDep, SettingsDep
from serving.api.responses import SIGNED_IN, documented
from serving.core.permissions import Permission
from serving.core.tables import User

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"], responses={**SIGNED_IN, **documented(404, 503)})
STRUGGLING_SKILLS = 10


class Funnel(BaseModel):
    enrolled: int = 0
    started: int = 0
    reached_25_pct: int = 0
    reached_50_pct: int = 0
    reached_75_pct: int = 0
    completed: int = 0


class WeekCount(BaseModel):
    week: date
    learners: int


class Band(BaseModel):
    band_start: int  # percent: the band is [band_start, band_start + 10)
    learners: int


class SkillStruggle(BaseModel):
    skill_id: str
    skill_name: str  # the course's name for it (its id when the course names none)
    learners: int  # who practised it
    mean_accuracy: float  # their mean share of right answers
    struggling_share: float  # share of them below 50 % right


class RetentionCell(BaseModel):
    cohort_week: date
    weeks_since_enrollment: int
    cohort_learners: int
    retention_rate: float


class DailyActivity(BaseModel):
    day: date
    active_learners: int
    events: int


class TutorWeek(BaseModel):
    week: date  # its Monday
    questions: int  # asked to the tutor
    answered_from_material: int  # the others were "I don't know", with pointers
    ratings: int  # answers whose latest rating, given this week, says whether they helped
    rated_helpful: int


class CohortReport(BaseModel):
    course_id: str
    as_of: datetime | None
    enrollments_by_status: dict[str, int]
    enrollments_by_week: list[WeekCount]
    funnel: Funnel
    progress_distribution: list[Band]
    grade_distribution: list[Band]
    struggling_skills: list[SkillStruggle]  # lowest mean accuracy first
    retention: list[RetentionCell]
    daily_activity: list[DailyActivity]  # the last 28 days up to as_of
    tutor_by_week: list[TutorWeek]  # the tutor's use and how its answers were rated


class CourseSummary(BaseModel):
    course_id: str
    title: str | None
    enrolled: int
    completed: int
    completion_rate: float | None
    active_learners_7d: int


class PlatformReport(BaseModel):
    as_of: datetime | None
    learners: int
    courses: int
    enrollments: int
    events: int
    active_learners_7d: int
    active_learners_28d: int
    daily_activity: list[DailyActivity]  # the last 28 days up to as_of, all courses
    courses_summary: list[CourseSummary]


def _rows(settings, sql: str, params: dict | None = None) -> list[dict]:
    return query(settings, sql, params).to_dicts()


@router.get("/courses/{course_id}/cohort-report")
def cohort_report(course_id: str, user: Annotated[User, Depends(require(Permission.VIEW_COURSE_STATS))],
                  database: DatabaseDep, settings: SettingsDep) -> CohortReport:
    """Enrolment, progress and grades, the skills the cohort struggles with, retention by weekly cohort, and
    the tutor's use week by week."""
    with database.read() as session:
        course = visible_course(session, user, course_id)
        require_on(user, Permission.VIEW_COURSE_STATS, course.instructor_id)
    p = {"course": course_id}
    as_of = query(settings, "select max(as_of_at) as as_of from marts.fct_enrollments")["as_of"][0]
    funnel = _rows(settings, "select * exclude (course_id) from marts.fct_course_funnel where course_id = $course", p)
    return CohortReport(
        course_id=course_id, as_of=as_of,
        enrollments_by_status={r["status"]: r["n"] for r in _rows(
            settings, "select status, count(*) as n from marts.fct_enrollments where course_id = $course "
                      "group by all order by status", p)},
        enrollments_by_week=_rows(settings, "select cast(date_trunc('week', enrolled_at) as date) as week, "
                                            "count(*) as learners from marts.fct_enrollments "
                                            "where course_id = $course group by all order by week", p),
        funnel=Funnel(**funnel[0]) if funnel else Funnel(),
        progress_distribution=_rows(settings, """
            select cast(least(floor(progress_percent / 10) * 10, 100) as integer) as band_start, count(*) as learners
            from marts.fct_learner_course_state where course_id = $course and unenrolled_at is null
            group by all order by band_start""", p),
        grade_distribution=_rows(settings, "select grade_band_start as band_start, learners "
                                           "from marts.fct_course_grade_distribution where course_id = $course "
                                           "order by band_start", p),
        struggling_skills=_rows(settings, f"""
            select s.skill_id, any_value(s.skill_name) as skill_name, count(*) as learners,
                   avg(p.accuracy) as mean_accuracy,
                   avg(cast(p.accuracy < 0.5 as double)) as struggling_share
            from marts.fct_learner_skill_practice as p
            join marts.dim_skills as s on s.skill_id = p.skill_id and s.course_id = $course
            group by all order by mean_accuracy, s.skill_id limit {STRUGGLING_SKILLS}""", p),
        retention=_rows(settings, "select cast(cohort_week as date) as cohort_week, weeks_since_enrollment, "
                                  "cohort_learners, retention_rate from marts.fct_retention_cohorts "
                                  "where course_id = $course order by cohort_week, weeks_since_enrollment", p),
        daily_activity=_rows(settings, """
            select activity_date as day, active_learners, events from marts.fct_course_daily_active_learners
            where course_id = $course
              and activity_date > (select cast(max(as_of_at) as date) from marts.fct_enrollments) - 28
            order by day""", p),
        tutor_by_week=_rows(settings, "select week_start as week, questions, answered_from_material, ratings, "
                                      "rated_helpful from marts.fct_course_tutor_weekly where course_id = $course "
                                      "order by week", p),
    )


@router.get("/platform")
def platform_report(_: Annotated[User, Depends(require(Permission.VIEW_PLATFORM_STATS))],
                    settings: SettingsDep) -> PlatformReport:
    """Platform-wide totals and activity, and a line per course: for analysts, without anyone's identity."""
    totals = _rows(settings, """
        with as_of as (select cast(max(activity_date) as date) as day from marts.fct_learner_daily_activity)
        select (select max(as_of_at) from marts.fct_enrollments) as as_of,
               (select count(*) from marts.dim_learners where role = 'learner') as learners,
               (select count(*) from marts.dim_courses) as courses,
               (select count(*) from marts.fct_enrollments) as enrollments,
               (select coalesce(sum(events), 0) from marts.fct_learner_daily_activity) as events,
               (select count(distinct learner_id) from marts.fct_learner_daily_activity, as_of
                where activity_date > as_of.day - 7) as active_learners_7d,
               (select count(distinct learner_id) from marts.fct_learner_daily_activity, as_of
                where activity_date > as_of.day - 28) as active_learners_28d""")[0]
    daily = _rows(settings, """
        select activity_date as day, count(distinct learner_id) as active_learners, sum(events) as events
        from marts.fct_learner_daily_activity
        where activity_date > (select max(activity_date) from marts.fct_learner_daily_activity) - 28
        group by all order by day""")
    courses = _rows(settings, """
        select c.course_id, c.title, coalesce(f.enrolled, 0) as enrolled, coalesce(f.completed, 0) as completed,
               f.completed / nullif(f.enrolled, 0) as completion_rate,
               coalesce((select count(*) from marts.fct_learner_course_state as s
                         where s.course_id = c.course_id and s.days_since_last_activity < 7), 0) as active_learners_7d
        from marts.dim_courses as c left join marts.fct_course_funnel as f using (course_id)
        order by enrolled desc, c.course_id""")
    return PlatformReport(**totals, daily_activity=daily, courses_summary=courses)
