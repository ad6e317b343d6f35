"""Grading a learner's written answer as the API does: the grader's score and confidence
(``models/assessment/short_answers.py``), and feedback in words that cites the course's material
(the passage of the tutor's index that best answers the question with its reference answer)."""

from dataclasses import dataclass

from models.assessment.short_answers import Assessment, Grade, grade
from models.tutor.chunks import section_path
from models.tutor.index import TutorIndexBusyError
from serving.tutor import Tutor


@dataclass(frozen=True)
class GradedReply:
    grade: Grade
    feedback: str
    citation: dict | None  # {item_id, title, heading, location, text} of the passage cited


def _feedback(result: Grade, citation: dict | None) -> str:
    if result.score == result.points and not result.conflicts:
        words = "Right: your answer makes every point the reference answer makes."
    elif result.covered:
        words = f"Partly right: you made {len(result.covered)} of {len(result.covered) + len(result.missed)} points."
    else:
        words = "Not yet right: your answer does not make the point the question asks for."
    if result.missed and result.covered:
        words += " Missing: " + "; ".join(result.missed) + "."
    if result.conflicts:
        words += " You also gave " + ", ".join(result.conflicts) + ", which the reference answer does not."
    if citation is not None:
        words += f" Read \"{section_path(citation['title'], citation['heading'])}\" ({citation['location']})."
    if result.needs_review:
        words += " Your instructor will check this grade."
    return words


class AnswerGrader:
    def __init__(self, tutor: Tutor):
        self.tutor = tutor

    def grade(self, course_id: str, question: str, assessment: Assessment, answer: str) -> GradedReply:
        result = grade(question, assessment, answer)
        try:
            passages = self.tutor.retriever().search(course_id, f"{question}\n{assessment.reference}", k=1)
        except TutorIndexBusyError:
            passages = []  # the grade does not wait for the index: it goes without a citation
        citation = None
        if passages:
            chunk = passages[0].chunk
            citation = {"item_id": chunk.document_id, "title": chunk.title, "heading": chunk.heading,
                        "location": chunk.location, "text": chunk.text}
        return GradedReply(result, _feedback(result, citation), citation)
