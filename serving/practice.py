"""Practice questions as the API serves them: made from the passages of the tutor's current snapshot
(``models/practice/questions.py``), once per course and snapshot."""

import threading
import weakref

from models.practice.questions import PracticeQuestion, practice_questions
from serving.tutor import Tutor


class PracticeBank:
    def __init__(self, tutor: Tutor):
        self.tutor = tutor
        self._made: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # index -> {course: questions}
        self._lock = threading.Lock()

    def questions(self, course_id: str) -> list[PracticeQuestion]:
        """Every checked question of the course, in passage order (new ones when its passages change)."""
        index = self.tutor.retriever().index
        with self._lock:
            made = self._made.setdefault(index, {})
            if course_id not in made:
                made[course_id] = practice_questions(index.course_chunks(course_id))
            return made[course_id]

    def question(self, course_id: str, question_id: str) -> PracticeQuestion | None:
        return next((q for q in self.questions(course_id) if q.question_id == question_id), None)
