"""``learnlake eval practice``: how well the practice questions made from a book hide their answers.

The book's sections are one course's passages, as the tutor indexes them, and the questions are
made from them as a course's are (``questions.py``). A multiple-choice question tests the passage
only if a reader who has not read it cannot pick the answer by its topic. Two guessers play that
reader, never seeing the passage: one takes the option closest in meaning to the prompt (MiniLM
cosine, the packaged model), the other the option with the largest share of its words (stemmed)
in the prompt. Their shares right are reported for the distractors LearnLake chooses (from the
passages closest to the question's own, of the same form) beside distractors from anywhere in the
book alike in length only; chance is one in four. Nothing is fitted to the book.

Each question is also checked again as a learner would need it: its answer is in the passage it
cites, and none of its distractors is (reading the passage settles the choice).
"""

import time
from pathlib import Path

import numpy as np

from lake.sources.datasets.common import DatasetError
from lake.sources.datasets.openstax import read_book
from models.embeddings import embed
from models.headline import HEADLINE, comparison
from models.practice.questions import DISTRACTORS, WORD, DistractorOrder, PracticeQuestion, practice_questions
from models.tutor.content import book_chunks
from models.tutor.retrieval import stem

ORDERS: dict[DistractorOrder, str] = {"near": "distractors from nearby passages, of the same form",
                                      "length": "distractors from anywhere, alike in length"}


def guessed_by_meaning(questions: list[PracticeQuestion]) -> float:
    """The share of ``questions`` (multiple choice) whose answer is the option closest in meaning to the prompt."""
    prompts = embed([q.prompt for q in questions])
    options = embed([option for q in questions for option in q.options])
    right, start = 0, 0
    for prompt, question in zip(prompts, questions, strict=True):
        closeness = options[start:start + len(question.options)] @ prompt
        right += question.options[int(np.argmax(closeness))] == question.answer
        start += len(question.options)
    return right / len(questions)


def guessed_by_words(questions: list[PracticeQuestion]) -> float:
    """The share of ``questions`` whose answer is the option with most of its words in the prompt (ties: the
    first option, in the order the learner sees them)."""
    def stems(text: str) -> set[str]:
        return {stem(word.lower()) for word in WORD.findall(text)}

    right = 0
    for question in questions:
        prompt = stems(question.prompt)
        right += max(question.options, key=lambda o: len(stems(o) & prompt) / max(1, len(stems(o)))) == question.answer
    return right / len(questions)


def settled_by_the_passage(question: PracticeQuestion) -> bool:
    text = question.chunk.text.lower()
    return question.answer.lower() in text and not any(
        option.lower() in text for option in question.options if option != question.answer)


def evaluate(content_dir: Path) -> dict:
    book = read_book(content_dir)
    chunks = book_chunks(book)
    figures = {}
    for order in ORDERS:
        started = time.perf_counter()
        questions = practice_questions(chunks, distractors=order)
        built_s = time.perf_counter() - started
        choices = [q for q in questions if q.kind == "multiple_choice"]
        if not choices:
            raise DatasetError(f"no multiple-choice question could be made from the book in {content_dir}")
        figures[order] = {"questions": len(questions), "multiple_choice": len(choices),
                          "guessed_without_the_passage": guessed_by_meaning(choices),
                          "guessed_by_shared_words": guessed_by_words(choices),
                          "settled_by_the_passage": float(np.mean([settled_by_the_passage(q) for q in choices])),
                          "build_s": built_s}
    near, length = figures["near"], figures["length"]
    return {"book": book.title, "passages": len(chunks), **near, "chance": 1 / (DISTRACTORS + 1),
            "guesser": "the option closest in meaning to the prompt (MiniLM cosine), the passage unread",
            "second_guesser": "the option with the largest share of its words in the prompt",
            "distractors": ORDERS, "by_distractors": figures,
            HEADLINE: {"not_guessed": comparison(
                "multiple-choice questions not guessed without the passage", ORDERS["near"],
                1 - near["guessed_without_the_passage"], ORDERS["length"], 1 - length["guessed_without_the_passage"])}}
