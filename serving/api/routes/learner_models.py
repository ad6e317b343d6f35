"""What the models say about learners: mastery, next items, and a course's learners at risk.

Each answer names the model version it came from. Before a model is registered the answer
is a 503 that says how to train one; a course the recommender has not seen yet (created
after its last training) gets its items in course order, which is all anyone knows of it.
"""

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lake.warehouse import query
from learnlake.errors import ModelNotFoundError
from serving.api.auth import bearer, require, require_on
from serving.api.course_access import CourseRef, require_learner_view, visible_course, visible_course_ref
from serving.api.deps import DatabaseDep, PseudonymsDep, SettingsDep, get_database, get_learner_models, get_pseudonyms
from serving.api.deps import LearnerModelsDep as ModelsDep
from serving.api.direct_route import DirectRoute, direct
from serving.api.responses import SIGNED_IN, documented
from serving.core.audit import record_access
from serving.core.courses import skill_names
from serving.core.db import Database
from serving.core.enums import EnrollmentStatus, ProgressStatus
from serving.core.permissions import Permission
from serving.core.tables import ContentItem, Course, Enrollment, User

router = APIRouter(prefix="/api/v1", tags=["learner models"], responses={**SIGNED_IN, **documented(404, 503)},
                   route_class=DirectRoute)
learner_viewer = require(Permission.VIEW_LEARNER_MODELS)
LearnerViewer = Annotated[User, Depends(learner_viewer)]
DEFAULT_K, MAX_K = 10, 100


class SkillMasteryOut(BaseModel):
    skill_id: str
    skill_name: str  # the course's name for it (its id when no course names it)
    mastery: float  # probability of answering this skill right next
    recent_answers: int  # answers on this skill among the recent ones the model read


class MasteryOut(BaseModel):
    user_id: str
    course_id: str | None
    model_version: str
    answers_as_of: datetime | None
    skills: list[SkillMasteryOut]  # weakest first


class RecommendationOut(BaseModel):
    item_id: str
    title: str
    score: float
    rank: int
    reason: str
    review: bool = False  # True: opened before, to practise again (the next new item looks too hard, or every item is opened)


class RecommendationsOut(BaseModel):
    user_id: str
    course_id: str
    model_version: str
    mastery_model_version: str | None
    cold_start: bool  # True: nothing of this learner in this course was known to the model
    items: list[RecommendationOut]


class SkillReviewOut(BaseModel):
    skill_id: str
    skill_name: str  # the course's name for it (its id when the course names none)
    chance: float  # predicted chance of a right answer now, on a question of average difficulty
    due: bool
    due_at: datetime | None  # when the chance falls under the review line; None: not within a year
    answers: int  # of the recent answers the model read
    right: int
    last_practised_at: datetime | None
    item_id: str | None  # the course's item to review it by, nearest the learner's level
    item_title: str | None
    reason: str  # read after the skill's name: "you answered 2 of 7 right; last practised 12 days ago"


class ReviewsOut(BaseModel):
    user_id: str
    course_id: str
    model_version: str
    as_of: datetime
    reviews: list[SkillReviewOut]  # due first, weakest first


class AtRiskLearnerOut(BaseModel):
    user_id: str
    name: str
    email: str
    rank: int
    risk: float  # calibrated probability of not studying in the model's horizon
    reasons: list[str]  # the features that raise this learner's risk most, beside a typical learner's
    rule_flag: bool | None  # the at-risk rule (no visit in 7 days, not passed); None: no activity in the lake
    days_since_last_activity: float | None
    progress_percent: float


class AtRiskOut(BaseModel):
    course_id: str
    model_version: str
    as_of: datetime  # the moment features and the rule are taken at: the warehouse's last event
    learners: list[AtRiskLearnerOut]


def _course_skills(session: Session, course_id: str) -> set[str]:
    return {skill for skills in session.scalars(select(ContentItem.skills).where(ContentItem.course_id == course_id))
            for skill in skills or []}


def _all_skill_names(session: Session) -> dict[str, str]:
    names: dict[str, str] = {}
    for meta in session.scalars(select(Course.meta)):
        names |= skill_names(meta)
    return names


@router.get("/learners/{user_id}/mastery")
def learner_mastery(user_id: str, user: LearnerViewer, database: DatabaseDep, models: ModelsDep, pseudonyms: PseudonymsDep,
                    course_id: str | None = None) -> MasteryOut:
    """Per-skill mastery from the knowledge-tracing champion, weakest first (a course's skills with ``course_id``)."""
    with database.read() as session:
        course = visible_course(session, user, course_id) if course_id else None
        require_learner_view(session, user, user_id, course)
        skills = _course_skills(session, course_id) if course_id else None
        names = skill_names(course.meta) if course else _all_skill_names(session)
    mastery = models.mastery(pseudonyms.learner_id(user_id))
    record_access(database, user, "learner_mastery", f"/api/v1/learners/{user_id}/mastery", [user_id])
    shown = sorted((s for s in mastery.skills.items() if skills is None or s[0] in skills), key=lambda s: s[1])
    return MasteryOut(user_id=user_id, course_id=course_id, model_version=mastery.model_version,
                      answers_as_of=mastery.answers_as_of,
                      skills=[SkillMasteryOut(skill_id=s, skill_name=names.get(s, s), mastery=round(m, 4),
                                              recent_answers=mastery.practised.get(s, 0)) for s, m in shown])


def _reviews(database: Database, user: User, user_id: str, course_id: str, models, pseudonyms
             ) -> tuple[str, list[SkillReviewOut]]:
    """The learner's reviews in a course (access checked, the course's skills and their names from the core)."""
    with database.read() as session:
        course = visible_course(session, user, course_id)
        require_learner_view(session, user, user_id, course)
        skills, names = _course_skills(session, course_id), skill_names(course.meta)
    version, found = models.reviews(pseudonyms.learner_id(user_id), course_id, skills, names, datetime.now(UTC))
    return version, [SkillReviewOut(**{**vars(r), "chance": round(r.chance, 4)}) for r in found]


@router.get("/learners/{user_id}/reviews")
def learner_reviews(user_id: str, user: LearnerViewer, course_id: str, database: DatabaseDep, models: ModelsDep,
                    pseudonyms: PseudonymsDep) -> ReviewsOut:
    """The skills of a course the learner has practised, due for review first, each with the chance of a right
    answer now (the forgetting model), when it falls due, the item to review it by and a reason in words."""
    version, reviews = _reviews(database, user, user_id, course_id, models, pseudonyms)
    if user_id != user.id:
        record_access(database, user, "learner_reviews", f"/api/v1/learners/{user_id}/reviews", [user_id])
    return ReviewsOut(user_id=user_id, course_id=course_id, model_version=version, as_of=datetime.now(UTC),
                      reviews=reviews)


async def _plain_recommendations_request(request: Request) -> dict | None:
    """The recommendations endpoint's arguments, when the query is plainly well formed (``DirectRoute``):
    a ``course_id``, and ``k`` absent or a plain number in range. Anything else goes to FastAPI."""
    query = request.query_params
    course_id, k = query.get("course_id"), query.get("k", str(DEFAULT_K))
    if not course_id or not (k.isascii() and k.isdigit()) or str(int(k)) != k or not 1 <= int(k) <= MAX_K:
        return None
    user = await learner_viewer(request, await bearer(request))
    # The same dependencies the endpoint declares, from the same getters: only FastAPI's solving is skipped.
    return {"user_id": request.path_params["user_id"], "user": user, "course_id": course_id, "k": int(k),
            "database": await get_database(request), "models": await get_learner_models(request),
            "pseudonyms": await get_pseudonyms(request)}


@router.get("/learners/{user_id}/recommendations")
@direct(_plain_recommendations_request)
async def learner_recommendations(user_id: str, user: LearnerViewer, course_id: str, database: DatabaseDep,
                                  models: ModelsDep, pseudonyms: PseudonymsDep,
                                  k: int = Query(DEFAULT_K, ge=1, le=MAX_K)) -> RecommendationsOut:
    """What the learner should do next in a course, best first, each with a reason they can read."""
    # The hot path runs inline, not in the thread pool: a few short reads and a kept (or fresh) ranking
    # cost less than the hop (bench serve). Only a pass of the knowledge-tracing network goes to a thread.
    with database.read_connection() as connection:
        course = visible_course_ref(database, connection, user, course_id)
        require_learner_view(connection, user, user_id, course)
    learner_id = pseudonyms.learner_id(user_id)
    if user_id != user.id:  # a learner reading their own list is not an access to audit (nor a write per request)
        await run_in_threadpool(record_access, database, user, "learner_recommendations",
                                f"/api/v1/learners/{user_id}/recommendations", [user_id])
    names = _skill_names_of(database, course_id)
    found = (models.recommendations(learner_id, course_id, k, names, trace=False)
             or await run_in_threadpool(models.recommendations, learner_id, course_id, k, names))
    items = [RecommendationOut(item_id=i.item_id, title=i.title, score=round(i.score, 6), rank=rank, reason=i.reason,
                               review=i.review) for rank, i in enumerate(found.items, start=1)]
    if not items and found.items_opened:
        # Every item opened: reviews of the skills practised, due and weakest first.
        items = await run_in_threadpool(_review_items, database, user, user_id, course_id, models, pseudonyms, k)
    if not items:
        # The model knows no item of this course, or the learner has opened every one and has nothing to review.
        reason = ("opened, not completed yet" if found.items_opened
                  else "next in the course (the model has not seen this course yet)")
        items = _in_course_order(database, course, user_id, k, reason)
    return RecommendationsOut(user_id=user_id, course_id=course_id, model_version=found.model_version,
                              mastery_model_version=found.mastery_model_version, cold_start=found.items_opened == 0,
                              items=items)


SKILL_NAMES_KEPT_S = 10.0  # a renamed skill reads by its new name in recommendations' reasons this soon
_skill_names_kept: dict[str, tuple[float, dict[str, str]]] = {}


def _skill_names_of(database: Database, course_id: str) -> dict[str, str]:
    """The course's skill names, read at most every SKILL_NAMES_KEPT_S seconds (the recommendations' hot path)."""
    now = time.monotonic()
    kept = _skill_names_kept.get(course_id)
    if kept is None or now - kept[0] > SKILL_NAMES_KEPT_S:
        with database.read() as session:
            kept = (now, skill_names(session.scalar(select(Course.meta).where(Course.id == course_id))))
        if len(_skill_names_kept) > 10_000:
            _skill_names_kept.clear()
        _skill_names_kept[course_id] = kept
    return kept[1]


def _review_items(database: Database, user: User, user_id: str, course_id: str, models, pseudonyms, k: int
                  ) -> list[RecommendationOut]:
    """The items that review the learner's due skills, one per item, as recommendations (none without any due)."""
    try:
        _, reviews = _reviews(database, user, user_id, course_id, models, pseudonyms)
    except ModelNotFoundError:
        return []  # a recommender trained before reviews existed
    by_item = {}
    for review in (r for r in reviews if r.due):
        if review.item_id is not None and review.item_id not in by_item:
            by_item[review.item_id] = review
    return [RecommendationOut(item_id=item_id, title=r.item_title or item_id, score=round(1 - r.chance, 6),
                              rank=rank, reason=f"review {r.skill_name}: {r.reason}", review=True)
            for rank, (item_id, r) in enumerate(list(by_item.items())[:k], start=1)]


# Plain SQL, so SQLite's driver can run it without SQLAlchemy: on SQLite the Core execution of this
# statement cost three times the read itself (60 against 26 us), 9 % of all recommendation requests' time.
_NOT_COMPLETED_IN_ORDER = """
    select ci.id, ci.title from content_items as ci join modules as m on m.id = ci.module_id
    where ci.course_id = :course_id and ci.id not in (
        select p.item_id from item_progress as p join enrollments as e on e.id = p.enrollment_id
        where e.user_id = :user_id and e.course_id = :course_id and p.status = :completed)
    order by m.position, ci.position limit :k"""


def _in_course_order(database: Database, course: CourseRef, user_id: str, k: int, reason: str
                     ) -> list[RecommendationOut]:
    """The course's items the learner has not completed, in course order: for courses the model has not
    seen, and for learners who have opened every item."""
    parameters = {"course_id": course.id, "user_id": user_id, "completed": ProgressStatus.COMPLETED.value, "k": k}
    with database.read_connection() as connection:
        driver = database.sqlite_driver(connection)
        ahead = (driver.execute(_NOT_COMPLETED_IN_ORDER, parameters).fetchall() if driver is not None
                 else connection.execute(text(_NOT_COMPLETED_IN_ORDER), parameters).all())
    return [RecommendationOut(item_id=item_id, title=title, score=0.0, rank=rank, reason=reason)
            for rank, (item_id, title) in enumerate(ahead, start=1)]


class LiveScoresOut(BaseModel):
    model_version: str
    as_of: datetime  # the moment features are taken at: the warehouse's last event
    scores: list[float]  # the dropout risk of every active enrolment, lowest first: no one is named


@router.get("/models/dropout/live-scores")
def dropout_live_scores(_: Annotated[User, Depends(require(Permission.MONITOR_MODELS))], database: DatabaseDep,
                        models: ModelsDep, pseudonyms: PseudonymsDep, settings: SettingsDep) -> LiveScoresOut:
    """Today's dropout risks of every active enrolment, for drift monitoring against the training scores."""
    models.dropout.get()  # no model, no scores: a 503 before anything is read
    with database.read() as session:
        enrolled = session.execute(select(Enrollment.user_id, Enrollment.course_id).where(
            Enrollment.status == EnrollmentStatus.ACTIVE)).all()
    as_of = query(settings, "select max(as_of_at) as as_of from marts.fct_enrollments")["as_of"][0] \
        or datetime.now(UTC)
    version, scores = models.risk_scores([(pseudonyms.learner_id(user_id), course_id) for user_id, course_id in enrolled],
                                         as_of=as_of)
    return LiveScoresOut(model_version=version, as_of=as_of, scores=sorted(round(float(s), 4) for s in scores))


@router.get("/courses/{course_id}/at-risk")
def course_at_risk(course_id: str, user: Annotated[User, Depends(require(Permission.VIEW_COURSE_LEARNERS))],
                   database: DatabaseDep, models: ModelsDep, pseudonyms: PseudonymsDep, settings: SettingsDep,
                   limit: int = Query(50, ge=1, le=1000)) -> AtRiskOut:
    """The course's active learners, riskiest first, with the model's reasons and the rule's flag beside them."""
    with database.read() as session:
        course = visible_course(session, user, course_id)
        require_on(user, Permission.VIEW_COURSE_LEARNERS, course.instructor_id)
        enrolled = session.execute(
            select(User.id, User.name, User.email, Enrollment.progress_percent).join(Enrollment).where(
                Enrollment.course_id == course_id, Enrollment.status == EnrollmentStatus.ACTIVE)).all()
    by_learner = {pseudonyms.learner_id(row.id): row for row in enrolled}
    models.dropout.get()  # no model, no list: a 503 before the warehouse is read
    rule = query(settings, "select r.learner_id, r.is_at_risk, e.as_of_at from marts.fct_at_risk_by_rule as r "
                           "join marts.fct_enrollments as e using (enrollment_id) where r.course_id = $course",
                 {"course": course_id})
    flags = dict(zip(rule["learner_id"].to_list(), rule["is_at_risk"].to_list(), strict=True))
    as_of = rule["as_of_at"].max() if rule.height else datetime.now(UTC)
    version, risks = models.risks(course_id, list(by_learner), as_of=as_of)
    record_access(database, user, "at_risk_list", f"/api/v1/courses/{course_id}/at-risk",
                  [by_learner[r.learner_id].id for r in risks[:limit]])
    learners = []
    for rank, r in enumerate(risks[:limit], start=1):
        row = by_learner[r.learner_id]
        learners.append(AtRiskLearnerOut(
            user_id=row.id, name=row.name, email=row.email, rank=rank, risk=round(r.risk, 4), reasons=r.reasons,
            rule_flag=flags.get(r.learner_id), progress_percent=row.progress_percent,
            days_since_last_activity=None if r.days_since_last_activity is None
            else round(r.days_since_last_activity, 1)))
    return AtRiskOut(course_id=course_id, model_version=version, as_of=as_of, learners=learners)
