"""Written answers to free-text items: graded automatically, checked by a person when the grader is unsure.

- ``PUT|GET /api/v1/courses/{id}/items/{item}/assessment``: how the item is graded (reference answer, key
  points, scale). Only those who may edit the course: learners never see the reference answer.
- ``GET /api/v1/courses/{id}/written-items``: the items that take a written answer, for those who study it.
- ``POST /api/v1/courses/{id}/items/{item}/answers``: grade a learner's answer: a score, feedback that cites
  the course's material, and a confidence; under ``REVIEW_BELOW`` it waits in the review queue. The
  answer lands in the lake as an ``answered`` event on the item, so mastery and reviews count it.
- ``GET .../items/{item}/answers``: the caller's own answers to the item, with any person's grade.
- ``GET /api/v1/courses/{id}/review-queue``, ``POST .../review-queue/{answer_id}``: the instructor's queue of
  answers to check, and their grade. The grade reaches the lake with the core tables' snapshot
  (``bronze.core_answer_reviews``) and replaces the automatic one in ``fct_graded_answers``, so mastery,
  reviews and item statistics count the instructor's grade.
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func, select

from models.assessment.short_answers import Assessment
from models.tutor.chunks import section_path
from serving.api.auth import require
from serving.api.course_access import editable_course, item_of, require_studying, visible_course
from serving.api.deps import StateDep
from serving.api.own_events import land_own_event
from serving.api.pagination import Limit, Offset
from serving.api.responses import SIGNED_IN, documented
from serving.api.schemas import Body, Page
from serving.core.permissions import Permission
from serving.core.tables import ContentItem, GradedAnswer, ItemAssessment, Module, User

router = APIRouter(prefix="/api/v1/courses", tags=["answers"], responses={**SIGNED_IN, **documented(404, 422)})
Student = Annotated[User, Depends(require(Permission.ASK_TUTOR))]  # who may study a course's material
Editor = Annotated[User, Depends(require(Permission.EDIT_COURSE))]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
KeyPoint = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Status = Literal["graded", "pending_review", "reviewed"]


class AssessmentBody(Body):
    reference: Text  # the answer a full-marks learner would give
    key_points: list[KeyPoint] = Field(default_factory=list, max_length=20)  # none: the reference is the one point
    points: int = Field(default=2, ge=1, le=10)


class AssessmentOut(BaseModel):
    item_id: str
    reference: str
    key_points: list[str]
    points: int
    updated_at: datetime


class AnswerBody(Body):
    answer: Text


class CitationOut(BaseModel):
    item_id: str
    title: str
    heading: str
    section: str  # the title and heading path, once: how a page names it
    location: str
    text: str


class GradedAnswerOut(BaseModel):
    answer_id: str
    item_id: str
    answer: str
    score: int  # the grade that counts: the person's once reviewed, else the automatic one
    points: int
    automatic_score: int
    confidence: float
    status: Status
    feedback: str
    covered: list[str]
    missed: list[str]  # shown to the learner only once some point was made (not the whole reference)
    conflicts: list[str]
    citation: CitationOut | None
    reviewer_comment: str | None
    created_at: datetime


class QueuedAnswerOut(GradedAnswerOut):
    learner_id: str
    learner_name: str
    item_title: str
    reference: str


class ReviewBody(Body):
    score: int = Field(ge=0, le=10)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


def _citation(kept: dict | None) -> dict | None:
    """A graded answer's citation as kept (title and heading), with its section named from them."""
    return None if kept is None else {**kept, "section": section_path(kept["title"], kept["heading"])}


def _out(row: GradedAnswer, *, for_editor: bool) -> dict:
    found = row.feedback or {}
    covered = found.get("covered", [])
    return {"answer_id": row.id, "item_id": row.item_id, "answer": row.answer,
            "score": row.reviewed_score if row.reviewed_score is not None else row.score, "points": row.points,
            "automatic_score": row.score, "confidence": row.confidence, "status": row.status,
            "feedback": found.get("text", ""), "covered": covered,
            "missed": found.get("missed", []) if covered or for_editor else [],
            "conflicts": found.get("conflicts", []), "citation": _citation(found.get("citation")),
            "reviewer_comment": row.reviewer_comment, "created_at": row.created_at}


@router.put("/{course_id}/items/{item_id}/assessment")
def set_assessment(course_id: str, item_id: str, body: AssessmentBody, user: Editor, state: StateDep) -> AssessmentOut:
    """Make the item a free-text item graded against this reference answer (and key points), or change how."""
    with state.database.write() as session:
        item = item_of(session, editable_course(session, user, course_id, lock=True), item_id)
        assessment = session.get(ItemAssessment, item.id) or ItemAssessment(item_id=item.id, course_id=course_id)
        assessment.reference, assessment.key_points, assessment.points = body.reference, body.key_points, body.points
        session.add(assessment)
        session.flush()
        return _assessment_out(assessment)


@router.get("/{course_id}/items/{item_id}/assessment")
def read_assessment(course_id: str, item_id: str, user: Editor, state: StateDep) -> AssessmentOut:
    """How the item is graded (only for those who may edit the course)."""
    with state.database.read() as session:
        item = item_of(session, editable_course(session, user, course_id), item_id)
        return _assessment_out(_assessment_of(session, item))


def _assessment_out(assessment: ItemAssessment) -> AssessmentOut:
    return AssessmentOut(item_id=assessment.item_id, reference=assessment.reference,
                         key_points=assessment.key_points, points=assessment.points, updated_at=assessment.updated_at)


def _assessment_of(session, item: ContentItem) -> ItemAssessment:
    assessment = session.get(ItemAssessment, item.id)
    if assessment is None:
        raise HTTPException(404, f"item {item.id} takes no written answer (it has no reference answer)")
    return assessment


class WrittenItemOut(BaseModel):
    item_id: str
    title: str
    question: str  # the item's text: what to answer
    points: int


@router.get("/{course_id}/written-items")
def written_items(course_id: str, user: Student, state: StateDep) -> list[WrittenItemOut]:
    """The course's items that take a written answer, in course order (never their reference answers)."""
    with state.database.read() as session:
        course = visible_course(session, user, course_id)
        require_studying(session, user, course, Permission.ASK_TUTOR)
        rows = session.execute(select(ContentItem, ItemAssessment.points)
                               .join(ItemAssessment, ItemAssessment.item_id == ContentItem.id)
                               .join(Module, Module.id == ContentItem.module_id)
                               .where(ContentItem.course_id == course_id)
                               .order_by(Module.position, ContentItem.position, ContentItem.id)).all()
        return [WrittenItemOut(item_id=item.id, title=item.title, question=_question(item), points=points)
                for item, points in rows]


def _question(item: ContentItem) -> str:
    return "\n".join(part for part in (item.title, item.body) if part)


@router.post("/{course_id}/items/{item_id}/answers", status_code=201)
def answer(course_id: str, item_id: str, body: AnswerBody, user: Student, state: StateDep) -> GradedAnswerOut:
    """Grade a written answer: score, feedback citing the material, confidence; unsure grades go to a person."""
    with state.database.read() as session:
        course = visible_course(session, user, course_id)
        require_studying(session, user, course, Permission.ASK_TUTOR)
        item = item_of(session, course, item_id)
        stored = _assessment_of(session, item)
        question = _question(item)
        assessment = Assessment(reference=stored.reference, key_points=tuple(stored.key_points), points=stored.points)
    reply = state.grader.grade(course_id, question, assessment, body.answer)
    result = reply.grade
    row = GradedAnswer(user_id=user.id, course_id=course_id, item_id=item_id, answer=body.answer, score=result.score,
                       points=result.points, confidence=result.confidence,
                       status="pending_review" if result.needs_review else "graded",
                       feedback={"text": reply.feedback, "covered": result.covered, "missed": result.missed,
                                 "conflicts": result.conflicts, "citation": reply.citation})
    with state.database.write() as session:
        session.add(row)
        session.flush()
        out = _out(row, for_editor=False)
    land_own_event(state.landing, {
        "event_id": str(uuid.uuid4()), "learner_id": state.pseudonyms.learner_id(user.id), "verb": "answered",
        "object": {"type": "question", "id": item_id, "course_id": course_id},
        "result": {"success": result.score == result.points, "score": round(result.share, 4), "response": body.answer},
        "context": {"platform": "learnlake-grading", "session_id": row.id},
        "timestamp": datetime.now(UTC).isoformat(),
    }, source="grading")
    return GradedAnswerOut(**out)


@router.get("/{course_id}/items/{item_id}/answers")
def my_answers(course_id: str, item_id: str, user: Student, state: StateDep, limit: Limit = 20,
               offset: Offset = 0) -> Page[GradedAnswerOut]:
    """The caller's own answers to the item, newest first, with the instructor's grade where one was given."""
    with state.database.read() as session:
        item = item_of(session, visible_course(session, user, course_id), item_id)
        query = select(GradedAnswer).where(GradedAnswer.user_id == user.id, GradedAnswer.item_id == item.id)
        rows = session.scalars(query.order_by(GradedAnswer.created_at.desc()).limit(limit).offset(offset)).all()
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        return Page(items=[GradedAnswerOut(**_out(r, for_editor=False)) for r in rows], total=total, limit=limit,
                    offset=offset)


@router.get("/{course_id}/review-queue")
def review_queue(course_id: str, user: Editor, state: StateDep,
                 status: Annotated[Status | Literal["all"], Query()] = "pending_review",
                 limit: Limit = 50, offset: Offset = 0) -> Page[QueuedAnswerOut]:
    """Answers in the course the grader was unsure of (oldest first), or those of any ``status``."""
    with state.database.read() as session:
        editable_course(session, user, course_id)
        query = (select(GradedAnswer, User.name, ContentItem.title, ItemAssessment.reference)
                 .join(User, User.id == GradedAnswer.user_id).join(ContentItem, ContentItem.id == GradedAnswer.item_id)
                 .outerjoin(ItemAssessment, ItemAssessment.item_id == GradedAnswer.item_id)
                 .where(GradedAnswer.course_id == course_id))
        if status != "all":
            query = query.where(GradedAnswer.status == status)
        total = session.scalar(select(func.count()).select_from(query.with_only_columns(GradedAnswer.id).subquery()))
        rows = session.execute(query.order_by(GradedAnswer.created_at, GradedAnswer.id).limit(limit).offset(offset)).all()
        return Page(items=[QueuedAnswerOut(**_out(row, for_editor=True), learner_id=row.user_id, learner_name=name,
                                           item_title=title, reference=reference or "")
                           for row, name, title, reference in rows], total=total, limit=limit, offset=offset)


@router.post("/{course_id}/review-queue/{answer_id}")
def review(course_id: str, answer_id: Annotated[str, Field(max_length=36)], body: ReviewBody, user: Editor,
           state: StateDep) -> GradedAnswerOut:
    """Give the grade of a queued answer (or change any answer's grade): it replaces the automatic one."""
    with state.database.write() as session:
        editable_course(session, user, course_id, lock=True)
        row = session.get(GradedAnswer, answer_id)
        if row is None or row.course_id != course_id:
            raise HTTPException(404, f"no answer {answer_id} in course {course_id}")
        if body.score > row.points:
            raise HTTPException(422, f"score {body.score} is over this item's {row.points} points")
        row.reviewed_score, row.reviewer_comment = body.score, body.comment
        row.reviewed_by, row.reviewed_at, row.status = user.id, datetime.now(UTC), "reviewed"
        session.flush()
        return GradedAnswerOut(**_out(row, for_editor=True))
