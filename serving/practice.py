"""Practice questions as the API serves them, from the passages of the tutor's current snapshot.

Questions built by rules from the passages' sentences (``models/practice/questions.py``) are made once
per course and snapshot, in memory: the same passages give the same questions on every replica.

With ``LEARNLAKE_LLM_URL`` set, a language model also writes questions on each passage
(``models/practice/written_by_model.py``); those come first. A request never waits for the model: it
gets what is written so far, and the passages not written yet are handed to one background thread,
a few per request. What the model wrote, after its checks, is stored in the core database
(``model_practice_questions``), so every replica serves and marks the same questions; every passage the
model answered on is recorded too (``model_practice_passages``), also when none of its questions passed
the checks, so no replica sends it again, even after a restart, until it changes. After an endpoint
failure (no answer, so nothing recorded) no passage is sent for ``PAUSE_AFTER_FAILURE_S``.

The course's instructor reads every question with its answer and may withdraw one, whoever wrote it
(``withdrawn_practice_questions``): it is then neither served nor marked, on every replica.
"""

import logging
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models.chat import ChatCompletionError
from models.practice.questions import PracticeQuestion, practice_questions, practised
from models.practice.written_by_model import GENERATOR, QuestionWriter
from models.tutor.chunks import Chunk
from serving.core.db import Database
from serving.core.tables import ModelPracticePassage, ModelPracticeQuestion, WithdrawnPracticeQuestion
from serving.tutor import Tutor

log = logging.getLogger(__name__)
PASSAGES_PER_REQUEST = 3  # passages handed to the model per request for questions
PAUSE_AFTER_FAILURE_S = 300.0


class PracticeBank:
    def __init__(self, tutor: Tutor, database: Database | None = None, writer: QuestionWriter | None = None):
        self.tutor, self.database, self.writer = tutor, database, writer
        self._made: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # index -> {course: (passages, questions)}
        self._lock = threading.Lock()
        self._asked: set[str] = set()  # passage versions handed to the model by this process
        self._paused_until = 0.0
        self._writing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="practice-writer") if writer else None

    def close(self) -> None:
        """Drop the passages not sent yet; wait for the one being written (its reply is stored)."""
        if self._writing is not None:
            self._writing.shutdown(wait=True, cancel_futures=True)

    def _course(self, course_id: str) -> tuple[list[Chunk], list[PracticeQuestion]]:
        """The course's passages in the current snapshot, and the questions rules build from them."""
        index = self.tutor.retriever().index
        with self._lock:
            made = self._made.setdefault(index, {})
            if course_id not in made:
                chunks = index.course_chunks(course_id)
                made[course_id] = (chunks, practice_questions(chunks))
            return made[course_id]

    def questions(self, course_id: str, skill_id: str | None = None, *, withdrawn: bool = False
                  ) -> list[PracticeQuestion]:
        """The course's checked questions (on ``skill_id`` when given): the model's first, in passage order;
        those its instructor withdrew are left out (or, with ``withdrawn``, they alone are given)."""
        chunks, built = self._course(course_id)
        built = [q for q in built if skill_id is None or skill_id in q.skills]
        if self.writer is not None and self.database is not None:
            chunks = [c for c in chunks if practised(c, skill_id)]
            written = self._stored(course_id, chunks)
            done = self._answered_on(course_id, chunks) | {q.chunk.fingerprint for q in written}
            self._ask_for(course_id, [c for c in chunks if c.fingerprint not in done])
            built = written + built
        taken_out = self.withdrawn(course_id)
        return [q for q in built if (q.question_id in taken_out) == withdrawn]

    def withdrawn(self, course_id: str) -> dict[str, str | None]:
        """The ids of the questions the course's instructor withdrew, each with the reason given (or None)."""
        if self.database is None:
            return {}
        with self.database.read() as session:
            rows = session.execute(select(WithdrawnPracticeQuestion.question_id, WithdrawnPracticeQuestion.reason)
                                   .where(WithdrawnPracticeQuestion.course_id == course_id)).tuples().all()
            return dict(rows)

    def question(self, course_id: str, question_id: str) -> PracticeQuestion | None:
        """A question the course's passages give now, withdrawn or not (None once its passage has changed)."""
        chunks, built = self._course(course_id)
        found = next((q for q in built if q.question_id == question_id), None)
        if found is not None or self.database is None:
            return found
        with self.database.read() as session:
            row = session.get(ModelPracticeQuestion, question_id)
            if row is None or row.course_id != course_id:
                return None
            chunk = next((c for c in chunks if c.fingerprint == row.fingerprint), None)
            return _question(row, chunk) if chunk else None

    def _stored(self, course_id: str, chunks: list[Chunk]) -> list[PracticeQuestion]:
        by_version = {c.fingerprint: (position, c) for position, c in enumerate(chunks)}
        with self.database.read() as session:
            rows = session.scalars(select(ModelPracticeQuestion).where(
                ModelPracticeQuestion.course_id == course_id,
                ModelPracticeQuestion.fingerprint.in_(list(by_version)))).all()
            rows = sorted(rows, key=lambda r: (by_version[r.fingerprint][0], r.created_at, r.question_id))
            return [_question(row, by_version[row.fingerprint][1]) for row in rows]

    def _answered_on(self, course_id: str, chunks: list[Chunk]) -> set[str]:
        """The versions of these passages the model has answered on, by any replica."""
        with self.database.read() as session:
            return set(session.scalars(select(ModelPracticePassage.fingerprint).where(
                ModelPracticePassage.course_id == course_id,
                ModelPracticePassage.fingerprint.in_([c.fingerprint for c in chunks]))))

    def _ask_for(self, course_id: str, unwritten: list[Chunk]) -> None:
        """Hand a few passages the model has not written on to the background thread."""
        with self._lock:
            if time.monotonic() < self._paused_until:
                return
            chosen = [c for c in unwritten if c.fingerprint not in self._asked][:PASSAGES_PER_REQUEST]
            self._asked.update(c.fingerprint for c in chosen)
        for chunk in chosen:
            self._writing.submit(self._write, course_id, chunk)

    def _write(self, course_id: str, chunk: Chunk) -> None:
        if time.monotonic() < self._paused_until:
            with self._lock:
                self._asked.discard(chunk.fingerprint)  # asked again after the pause
            return
        try:
            written = self.writer.write(chunk)
        except Exception as exc:  # a background thread: say what failed, and pause
            if not isinstance(exc, ChatCompletionError):
                log.exception("practice questions not written for %s", chunk.chunk_id)
            log.warning("practice questions not written for %s, pausing %.0f s: %s", chunk.chunk_id,
                        PAUSE_AFTER_FAILURE_S, exc)
            with self._lock:
                self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_S
                self._asked.discard(chunk.fingerprint)
            return
        if written.dropped:
            log.info("model questions dropped on %s: %s", chunk.chunk_id, "; ".join(written.dropped))
        self._store(course_id, chunk, written.questions, written.dropped)

    def _store(self, course_id: str, chunk: Chunk, questions: list[PracticeQuestion], dropped: list[str]) -> None:
        """The questions that passed, and a record that the model answered on this passage (in one write)."""
        try:
            with self.database.write() as session:
                if session.get(ModelPracticePassage, (course_id, chunk.fingerprint)) is None:
                    session.add(ModelPracticePassage(
                        course_id=course_id, fingerprint=chunk.fingerprint, chunk_id=chunk.chunk_id,
                        model=self.writer.endpoint.model[:200], questions=len(questions),
                        dropped=[reason[:500] for reason in dropped[:20]]))
                known = set(session.scalars(select(ModelPracticeQuestion.question_id).where(
                    ModelPracticeQuestion.question_id.in_([q.question_id for q in questions]))))
                session.add_all(ModelPracticeQuestion(
                    question_id=q.question_id, course_id=course_id, fingerprint=chunk.fingerprint,
                    chunk_id=chunk.chunk_id, kind=q.kind, prompt=q.prompt, options=list(q.options), answer=q.answer,
                    evidence=q.sentence, model=self.writer.endpoint.model[:200])
                    for q in questions if q.question_id not in known)
        except IntegrityError:
            pass  # another replica stored the same questions (or the course was deleted) meanwhile
        except Exception:  # a background thread: nobody else would hear of it
            log.exception("practice questions written for %s not stored", chunk.chunk_id)


def _question(row: ModelPracticeQuestion, chunk: Chunk) -> PracticeQuestion:
    return PracticeQuestion(row.question_id, row.kind, row.prompt, tuple(row.options), row.answer, row.evidence,
                            chunk, chunk.skills, GENERATOR)
