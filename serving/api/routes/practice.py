"""Practice questions made from a course's material, and answers to them.

``GET /api/v1/courses/{id}/practice`` gives cloze and multiple-choice questions built from the course's
passages (on one skill with ``skill_id``: the reviews point there when no quiz is left), each citing
its passage; with ``LEARNLAKE_LLM_URL`` set, a model's checked questions come first (``serving/practice.py``).
``POST .../practice/{question_id}/answers`` marks an answer, says why with the passage's sentence, and
records it in the lake as an ``answered`` event on the passage's item, so it counts toward mastery and
reviews like any quiz answer. Who may: the course's learners, its instructor, admins.

The course's instructor (and admins) see each question with its answer and the sentence that settles it,
and may take a question out of the course: ``PUT .../practice/{question_id}/withdrawal`` (with a reason),
``DELETE`` of the same to put it back, ``GET .../practice?withdrawn=true`` for those taken out.
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field, StringConstraints

from models.practice.questions import PracticeQuestion
from serving.api.auth import require
from serving.api.course_access import can_edit, editable_course, require_studying, visible_course
from serving.api.deps import StateDep
from serving.api.own_events import land_own_event
from serving.api.responses import SIGNED_IN, documented
from serving.api.schemas import Body
from serving.core.courses import skill_names
from serving.core.permissions import Permission
from serving.core.tables import Course, User, WithdrawnPracticeQuestion

router = APIRouter(prefix="/api/v1/courses", tags=["practice"], responses={**SIGNED_IN, **documented(404, 422)})
Student = Annotated[User, Depends(require(Permission.ASK_TUTOR))]  # who may study a course's material
Editor = Annotated[User, Depends(require(Permission.EDIT_COURSE))]


class SourceOut(BaseModel):
    item_id: str
    title: str
    heading: str
    section: str  # the title and heading path, once: how a page names it
    location: str  # where to read it


class PracticeQuestionOut(BaseModel):
    question_id: str
    kind: str  # "cloze" (type the missing words) or "multiple_choice" (pick one of the options)
    prompt: str  # a sentence of the material with a blank
    options: list[str]
    skill_ids: list[str]
    skill_names: list[str]
    source: SourceOut
    generator: str  # "extractive": a sentence of the passage, blanked by rules; "openai-compatible": a model's
    # For those who may edit the course only (learners get null): what it takes, to check before learners meet it.
    answer: str | None = None
    evidence: str | None = None  # the passage's sentence that settles it
    withdrawal_reason: str | None = None  # in the list of withdrawn questions: why the instructor took it out


class PracticeOut(BaseModel):
    course_id: str
    questions: list[PracticeQuestionOut]


class WithdrawalBody(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class WithdrawalOut(BaseModel):
    question_id: str
    reason: str | None
    withdrawn_by: str | None
    withdrawn_at: datetime


class AnswerBody(Body):
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class AnswerOut(BaseModel):
    question_id: str
    correct: bool
    expected: str
    feedback: str  # the passage's sentence that settles it
    source: SourceOut
    passage: str


def _source(question: PracticeQuestion) -> SourceOut:
    chunk = question.chunk
    return SourceOut(item_id=chunk.document_id, title=chunk.title, heading=chunk.heading, section=chunk.section,
                     location=chunk.location)


def _studied_course(state, user: User, course_id: str) -> Course:
    with state.database.read() as session:
        course = visible_course(session, user, course_id)
        require_studying(session, user, course, Permission.ASK_TUTOR)
        return course


QuestionId = Annotated[str, Field(max_length=64)]


@router.get("/{course_id}/practice")
def practice(course_id: str, user: Student, state: StateDep,
             skill_id: Annotated[str | None, Query(max_length=100)] = None,
             limit: Annotated[int, Query(ge=1, le=50)] = 5, withdrawn: bool = False) -> PracticeOut:
    """Questions made from the course's passages (on one skill with ``skill_id``), each citing its passage;
    with ``withdrawn``, those the instructor took out (for those who may edit the course)."""
    course = _studied_course(state, user, course_id)
    editor = can_edit(user, course)
    if withdrawn and not editor:
        raise HTTPException(403, "only those who may edit the course see the questions withdrawn from it")
    names = skill_names(course.meta)
    found = state.practice.questions(course_id, skill_id, withdrawn=withdrawn)
    reasons = state.practice.withdrawn(course_id) if withdrawn else {}
    return PracticeOut(course_id=course_id, questions=[PracticeQuestionOut(
        question_id=q.question_id, kind=q.kind, prompt=q.prompt, options=list(q.options), skill_ids=list(q.skills),
        skill_names=[names.get(s, s) for s in q.skills], source=_source(q), generator=q.generator,
        answer=q.answer if editor else None, evidence=q.sentence if editor else None,
        withdrawal_reason=reasons.get(q.question_id)) for q in found[:limit]])


@router.put("/{course_id}/practice/{question_id}/withdrawal")
def withdraw(course_id: str, question_id: QuestionId, body: WithdrawalBody, user: Editor,
             state: StateDep) -> WithdrawalOut:
    """Take a question out of the course (the reason is for the course's editors): learners no longer get it,
    and answers to it are refused. Withdrawing it again replaces the reason."""
    with state.database.read() as session:
        editable_course(session, user, course_id)
    if state.practice.question(course_id, question_id) is None:
        raise HTTPException(404, f"no practice question {question_id} in this course (its material may have changed)")
    with state.database.write() as session:
        editable_course(session, user, course_id, lock=True)  # still there, and still theirs
        row = session.get(WithdrawnPracticeQuestion, (course_id, question_id))
        if row is None:
            row = WithdrawnPracticeQuestion(course_id=course_id, question_id=question_id)
            session.add(row)
        row.reason, row.withdrawn_by, row.withdrawn_at = body.reason, user.id, datetime.now(UTC)
        session.flush()
        return WithdrawalOut(question_id=question_id, reason=row.reason, withdrawn_by=row.withdrawn_by,
                             withdrawn_at=row.withdrawn_at)


@router.delete("/{course_id}/practice/{question_id}/withdrawal", status_code=204, response_class=Response)
def put_back(course_id: str, question_id: QuestionId, user: Editor, state: StateDep) -> Response:
    """Put a withdrawn question back into the course."""
    with state.database.write() as session:
        editable_course(session, user, course_id, lock=True)
        row = session.get(WithdrawnPracticeQuestion, (course_id, question_id))
        if row is None:
            raise HTTPException(404, f"no practice question {question_id} is withdrawn from this course")
        session.delete(row)
    return Response(status_code=204)


@router.post("/{course_id}/practice/{question_id}/answers")
def answer(course_id: str, question_id: QuestionId, body: AnswerBody, user: Student, state: StateDep) -> AnswerOut:
    """Mark an answer, with the sentence of the material that settles it; the answer goes to the lake."""
    _studied_course(state, user, course_id)
    question = state.practice.question(course_id, question_id)
    if question is None:
        raise HTTPException(404, f"no practice question {question_id} in this course (its material may have changed)")
    if question_id in state.practice.withdrawn(course_id):
        raise HTTPException(404, f"practice question {question_id} was withdrawn from this course by its instructor")
    right = question.is_right(body.answer)
    land_own_event(state.landing, {
        "event_id": str(uuid.uuid4()), "learner_id": state.pseudonyms.learner_id(user.id), "verb": "answered",
        "object": {"type": "question", "id": f"{question.chunk.document_id}/practice-{question_id}",
                   "course_id": course_id},
        "result": {"success": right, "score": 1.0 if right else 0.0, "response": body.answer},
        "context": {"platform": "learnlake-practice", "session_id": question_id},
        "timestamp": datetime.now(UTC).isoformat(),
    }, source="practice")
    return AnswerOut(question_id=question_id, correct=right, expected=question.answer, feedback=question.sentence,
                     source=_source(question), passage=question.chunk.text)
