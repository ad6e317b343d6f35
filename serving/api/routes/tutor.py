"""``POST /api/v1/tutor/ask``: a question about a course, answered from its material with citations.

Who may ask: the course's learners (enrolled), its instructor, and admins. Each turn is kept
in the core database (so a conversation can go on) and goes to the lake as an ``asked``
event through the landing log: what learners ask is analytics too.

``PUT /api/v1/tutor/turns/{turn_id}/rating``: the asker says whether an answer helped. The
ratings, with the question and the sections cited, are the relevance labels a reranker of the
tutor's retrieval needs: without them the logs say what was cited, never whether it was right.
Each rating goes to the lake as a ``rated`` event too (analysts' weekly helpfulness), naming
the turn its ``asked`` event names.
"""

import time
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select

from learnlake.errors import ModelNotFoundError
from models.tutor.answers import AnswerGenerationError
from models.tutor.index import TutorIndexBusyError
from serving.api.auth import require
from serving.api.course_access import require_studying, visible_course
from serving.api.deps import StateDep
from serving.api.own_events import land_own_event
from serving.api.responses import SIGNED_IN, documented
from serving.api.schemas import Body
from serving.core.permissions import Permission
from serving.core.tables import TutorTurn, User, new_id, utcnow
from serving.telemetry.metrics import TUTOR_RATINGS

router = APIRouter(prefix="/api/v1/tutor", tags=["tutor"], responses={**SIGNED_IN, **documented(404, 422, 502, 503)})
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AskBody(Body):  # unknown keys and NUL characters refused, as in every core API body
    course_id: str = Field(min_length=1, max_length=36)
    question: Question = Field(description="Plain text; code in Markdown backticks or fences is searched with "
                                           "an outline of what it uses (types of its literals, keywords)")
    conversation_id: str | None = Field(None, max_length=36, description="Continue a conversation this user started")


class CitationOut(BaseModel):
    number: int  # as cited in the answer: [1]
    title: str  # the section or lesson
    heading: str
    section: str  # the title and heading path, once: how a page names it
    location: str  # where to read it
    passage: str


def tutor_event(learner_id: str, verb: str, about: dict, result: dict, conversation_id: str, tutor: dict) -> dict:
    """A tutor event for the lake: ``asked`` (about the conversation) or ``rated`` (about one answer, a turn). The
    ``tutor`` extension of both names the turn, so a rating joins the question, the answer and what it cited."""
    return {"event_id": str(uuid.uuid4()), "learner_id": learner_id, "verb": verb, "object": about, "result": result,
            "context": {"platform": "learnlake-tutor", "session_id": conversation_id},
            "timestamp": datetime.now(UTC).isoformat(), "tutor": tutor}


class AskOut(BaseModel):
    conversation_id: str
    turn_id: str  # to rate this answer: PUT /api/v1/tutor/turns/{turn_id}/rating
    answer: str
    grounded: bool  # False: the material does not answer it; the citations are the closest sections
    generator: str
    citations: list[CitationOut]


@router.post("/ask")
def ask(body: AskBody, user: Annotated[User, Depends(require(Permission.ASK_TUTOR))], state: StateDep) -> AskOut:
    """Answer from the course's indexed material only, citing it; "I don't know" with pointers otherwise."""
    return answer_turn(state, user, body)


def answer_turn(state, user: User, body: AskBody) -> AskOut:
    """One turn of a conversation with the tutor (``state``: the app's), kept and sent to the lake: the HTTP
    route and the WebSocket's ``tutor.ask`` both answer with it. HTTPException for what the caller may not do."""
    started = time.perf_counter()
    database, tutor, models, pseudonyms, landing = state.database, state.tutor, state.learner_models, \
        state.pseudonyms, state.landing
    with database.read() as session:
        course = visible_course(session, user, body.course_id)
        require_studying(session, user, course, Permission.ASK_TUTOR)
        previous = None
        if body.conversation_id:
            previous = session.scalars(select(TutorTurn).where(TutorTurn.conversation_id == body.conversation_id)
                                       .order_by(TutorTurn.created_at.desc()).limit(1)).first()
            if previous is None or previous.user_id != user.id or previous.course_id != course.id:
                raise HTTPException(404, f"no conversation {body.conversation_id} of yours in this course")
        rated = state.tutor_ratings.for_course(session, course.id)
    learner_id = pseudonyms.learner_id(user.id)
    try:
        mastery = models.mastery(learner_id).skills
    except ModelNotFoundError:
        mastery = None  # no knowledge-tracing model yet: passages in relevance order
    try:
        reply = tutor.ask(course.id, body.question, previous_question=previous.question if previous else None,
                          mastery=mastery, rated=rated)
    except TutorIndexBusyError as exc:
        raise HTTPException(503, str(exc)) from exc
    except AnswerGenerationError as exc:
        raise HTTPException(502, str(exc)) from exc
    answer = reply.answer
    conversation_id = body.conversation_id or str(uuid.uuid4())
    citations = [CitationOut(number=c.number, title=c.title, heading=c.heading, section=c.section,
                             location=c.location, passage=c.passage) for c in answer.citations]
    turn_id = new_id()
    with database.write() as session:
        session.add(TutorTurn(id=turn_id, conversation_id=conversation_id, user_id=user.id, course_id=course.id,
                              question=body.question, answer=answer.text, grounded=answer.grounded,
                              citations=[{**shown.model_dump(exclude={"passage"}), "document_id": c.document_id}
                                         for shown, c in zip(citations, answer.citations, strict=True)]))
    land_own_event(landing, tutor_event(
        learner_id, "asked", {"type": "tutor", "id": conversation_id, "course_id": course.id},
        {"response": body.question, "success": answer.grounded, "duration_s": round(time.perf_counter() - started, 3)},
        conversation_id, {"turn_id": turn_id, "generator": answer.generator, "answer": answer.text,
                          "cited": [c.section for c in answer.citations]}), source="tutor")
    return AskOut(conversation_id=conversation_id, turn_id=turn_id, answer=answer.text, grounded=answer.grounded,
                  generator=answer.generator, citations=citations)


class RatingBody(Body):
    helpful: bool | None = Field(description="true: the answer helped; false: it did not; null: take the rating back",
                                 strict=True)


RATINGS = {True: "helpful", False: "unhelpful", None: "withdrawn"}  # a rating's name, by its ``helpful``


class RatingOut(BaseModel):
    turn_id: str
    helpful: bool | None
    rated_at: datetime | None


@router.put("/turns/{turn_id}/rating")
def rate(turn_id: Annotated[str, Path(min_length=1, max_length=36)], body: RatingBody,
         user: Annotated[User, Depends(require(Permission.ASK_TUTOR))], state: StateDep) -> RatingOut:
    """Whether one of your tutor answers helped; you may change your mind. Another's answer is a 404, as a
    missing one."""
    with state.database.write() as session:
        turn = session.get(TutorTurn, turn_id)
        if turn is None or turn.user_id != user.id:
            raise HTTPException(404, f"no tutor answer {turn_id} of yours")
        turn.helpful, turn.rated_at = body.helpful, None if body.helpful is None else utcnow()
        rated = RatingOut(turn_id=turn.id, helpful=turn.helpful, rated_at=turn.rated_at)
        conversation_id, course_id = turn.conversation_id, turn.course_id
    rating = RATINGS[body.helpful]
    # In the lake too, for analysts: a rating taken back is an event with neither score nor success.
    result = {} if body.helpful is None else {"success": body.helpful, "score": float(body.helpful)}
    land_own_event(state.landing, tutor_event(
        state.pseudonyms.learner_id(user.id), "rated", {"type": "tutor_answer", "id": turn_id, "course_id": course_id},
        result, conversation_id, {"turn_id": turn_id, "rating": rating}), source="tutor")
    TUTOR_RATINGS.labels(rating).inc()
    return rated
