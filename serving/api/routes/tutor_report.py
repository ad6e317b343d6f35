"""``GET /api/v1/courses/{course_id}/tutor-report``: how the tutor does in a course, for its instructor.

How many questions it was asked, how many it answered from the material, how its askers rated the
answers, the sections whose answers were rated (the most often unhelpful first), and the questions to look
at: those it could not answer from the material and those whose asker said the answer did not help. They
show the instructor what the material is missing or says unclearly. Askers are not named, and an e-mail
address in a question or an answer is masked, as the lake masks it; reading their questions is noted in the
access log.
"""

from collections import defaultdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import case, func, or_, select

from lake.privacy import mask_emails_in
from models.tutor.chunks import section_path
from serving.api.auth import require, require_on
from serving.api.course_access import visible_course
from serving.api.deps import DatabaseDep
from serving.api.pagination import Limit, Offset
from serving.api.responses import SIGNED_IN, documented
from serving.core.audit import record_access
from serving.core.permissions import Permission
from serving.core.tables import TutorTurn, User
from serving.tutor_ratings import rated_turns

SECTIONS = 20
RATED_READ = 5000  # the newest rated turns counted per section


router = APIRouter(prefix="/api/v1/courses", tags=["tutor"], responses={**SIGNED_IN, **documented(404, 422)})


class TurnToLookAt(BaseModel):
    turn_id: str
    question: str
    answer: str
    grounded: bool  # False: the material did not answer it
    helpful: bool | None  # the asker's rating; None: not rated
    cited: list[str]  # the section of each passage cited: "title > heading", once
    asked_at: datetime


class SectionRatings(BaseModel):
    section: str  # its title
    rated_helpful: int  # rated answers citing it that helped
    rated_unhelpful: int  # and that did not


class TutorReportOut(BaseModel):
    asked: int
    answered_from_material: int
    rated: int
    rated_helpful: int
    sections: list[SectionRatings]  # cited by rated answers: the most often unhelpful first (at most SECTIONS)
    to_look_at: list[TurnToLookAt]  # newest first
    total_to_look_at: int
    limit: int
    offset: int


@router.get("/{course_id}/tutor-report")
def tutor_report(course_id: str, user: Annotated[User, Depends(require(Permission.VIEW_COURSE_LEARNERS))],
                 database: DatabaseDep, limit: Limit = 50, offset: Offset = 0) -> TutorReportOut:
    """The tutor's questions in the course, counted, and those it could not help with (not answered from the
    material, or rated unhelpful), newest first."""
    with database.read() as session:
        course = visible_course(session, user, course_id)
        require_on(user, Permission.VIEW_COURSE_LEARNERS, course.instructor_id)
        in_course = TutorTurn.course_id == course.id
        asked, grounded, rated, helpful = session.execute(select(
            func.count(), func.count(case((TutorTurn.grounded, 1))), func.count(TutorTurn.helpful),
            func.count(case((TutorTurn.helpful, 1)))).where(in_course)).one()
        to_look_at = select(TutorTurn).where(in_course, or_(~TutorTurn.grounded, TutorTurn.helpful.is_(False)))
        total = session.scalar(select(func.count()).select_from(to_look_at.subquery()))
        turns = session.scalars(to_look_at.order_by(TutorTurn.created_at.desc(), TutorTurn.id)
                                .limit(limit).offset(offset)).all()
        # Askers are not named, nor given away by an address typed into a question (or echoed in an answer).
        questions, answers = (mask_emails_in([getattr(t, text) for t in turns]) for text in ("question", "answer"))
        listed = [TurnToLookAt(turn_id=t.id, question=question, answer=answer, grounded=t.grounded,
                               helpful=t.helpful, asked_at=t.created_at,
                               cited=[section_path(c.get("title", ""), c.get("heading", "")) for c in t.citations or []])
                  for t, question, answer in zip(turns, questions, answers, strict=True)]
        askers = [t.user_id for t in turns]
        sections = _section_ratings(session.execute(
            rated_turns(course.id, TutorTurn.helpful, TutorTurn.citations, limit=RATED_READ)).all())
    record_access(database, user, "tutor_report", f"/api/v1/courses/{course_id}/tutor-report", askers)
    return TutorReportOut(asked=asked, answered_from_material=grounded, rated=rated, rated_helpful=helpful,
                          sections=sections, to_look_at=listed, total_to_look_at=total, limit=limit, offset=offset)


def _section_ratings(rated: list[tuple[bool, list]]) -> list[SectionRatings]:
    """Per section cited, the rated answers citing it that helped and that did not: a section often cited by
    unhelpful answers is one the tutor, or the material, gets wrong. Sections are told apart by id (by title in
    turns kept before citations named their section)."""
    titles: dict[str, str] = {}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for helpful, citations in rated:
        cited_here = {(c.get("document_id") or c.get("title", "")): c.get("title", "")
                      for c in citations or [] if isinstance(c, dict)}
        for key, title in cited_here.items():
            titles[key] = title
            counts[key][0 if helpful else 1] += 1
    ranked = sorted(counts, key=lambda key: (-counts[key][1], counts[key][0], titles[key]))[:SECTIONS]
    return [SectionRatings(section=titles[key], rated_helpful=counts[key][0], rated_unhelpful=counts[key][1])
            for key in ranked]
