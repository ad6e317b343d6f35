"""What the tutor remembers of its askers' ratings: a course's rated turns as ``retrieval.RatedAnswers``.

A rating is kept with its turn (``tutor_turns.helpful``), so every API replica reads the same ratings from the
database. Each replica keeps the questions' vectors it has embedded (a turn's question never changes) and, at
each question, reads which turns of the course are rated now: a new rating counts from the next question on,
and a turn erased with its asker (or taken back) is forgotten at once. A replica that has just started takes a
course's ratings in over its first few questions (``EMBEDDED_PER_ASK`` each).
"""

import threading
from typing import NamedTuple

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models.tutor.retrieval import RatedAnswers, question_vectors
from serving.core.tables import TutorTurn

MOST_RECENT = 2000  # rated turns of a course remembered: the newest, when there are more
# Questions embedded for one ask at most (10 to 15 ms each here: ``learnlake bench tutor-ratings``), newest first:
# after a restart, a course's first questions each take a share of its ratings in, rather than the first waiting
# for all of them.
EMBEDDED_PER_ASK = 50


def rated_turns(course_id: str, *columns, limit: int) -> Select:
    """The ``columns`` of a course's rated turns, newest rating first (``ix_tutor_turns_course_rated``): what the
    tutor remembers, and what its report counts per section."""
    return (select(*columns).where(TutorTurn.course_id == course_id, TutorTurn.rated_at.is_not(None),
                                   TutorTurn.helpful.is_not(None))
            .order_by(TutorTurn.rated_at.desc()).limit(limit))


class _Rated(NamedTuple):
    turn_id: str
    helpful: bool
    documents: tuple[str, ...]
    asker: str


class RatedAnswersCache:
    def __init__(self):
        self._vectors: dict[str, dict[str, np.ndarray]] = {}  # course id -> rated turn id -> its question's vector
        self._lock = threading.Lock()

    def for_course(self, session: Session, course_id: str) -> RatedAnswers:
        """The course's rated turns whose answers cited documents (turns kept before citations named their
        document have none, and say nothing to retrieval)."""
        rows = session.execute(rated_turns(course_id, TutorTurn.id, TutorTurn.helpful, TutorTurn.citations,
                                           TutorTurn.user_id, limit=MOST_RECENT)).all()
        rated = [_Rated(turn_id, helpful, documents, asker) for turn_id, helpful, citations, asker in rows
                 if (documents := tuple(dict.fromkeys(c["document_id"] for c in citations or []
                                                      if isinstance(c, dict) and c.get("document_id"))))]
        with self._lock:
            known = self._vectors.get(course_id, {})
        missing = [r.turn_id for r in rated if r.turn_id not in known][:EMBEDDED_PER_ASK]
        if missing:
            questions = dict(session.execute(select(TutorTurn.id, TutorTurn.question)
                                             .where(TutorTurn.id.in_(missing))).all())
            found = [turn_id for turn_id in missing if turn_id in questions]
            known = {**known, **dict(zip(found, question_vectors([questions[t] for t in found]) if found else [],
                                         strict=True))}
        # Only the turns rated now are kept: one erased with its asker, or whose rating was taken back, is forgotten.
        rated = [r for r in rated if r.turn_id in known]
        with self._lock:
            self._vectors[course_id] = {r.turn_id: known[r.turn_id] for r in rated}
        vectors = np.array([known[r.turn_id] for r in rated], dtype=np.float32) if rated else np.zeros((0, 0))
        return RatedAnswers(vectors, [r.documents for r in rated], [r.helpful for r in rated], [r.asker for r in rated])
