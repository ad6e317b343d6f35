"""Practice questions from the simulator's lesson texts: every question is answerable from the passage it
cites, distractors are ruled out by it, and the same material gives the same questions."""

import dataclasses
import re

import polars as pl
import pytest

from lake.sources.simulator import SimulationConfig, simulate
from models.practice.questions import BLANK, DISTRACTORS, practice_questions
from models.tutor.chunks import Chunk
from models.tutor.content import Document, chunk_documents


@pytest.fixture(scope="module")
def course_chunks() -> list[Chunk]:
    sim = simulate(SimulationConfig(learners=5, courses=1))
    lessons = sim.content_items.filter(pl.col("content_type") == "lesson")
    return chunk_documents([Document(r["course_id"], r["item_id"], r["title"], r["body"], f"lessons/{r['item_id']}",
                                     tuple(r["skills"])) for r in lessons.iter_rows(named=True)])


def test_every_question_is_answerable_from_the_passage_it_cites(course_chunks):
    questions = practice_questions(course_chunks)
    assert len(questions) >= len(course_chunks), "about a question per passage or more"
    assert {q.kind for q in questions} == {"cloze", "multiple_choice"}
    for q in questions:
        assert q.prompt.count(BLANK) == 1 and q.sentence in q.chunk.text and q.answer in q.chunk.text
        filled = q.prompt.replace(BLANK, f"`{q.answer}`" if f"`{q.answer}`" in q.sentence else q.answer)
        assert filled == q.sentence, "the blank is exactly the answer"
        assert len(re.findall(r"[A-Za-z]+", q.prompt)) >= 6, "enough of the sentence is left to answer from"
        if q.kind == "multiple_choice":
            assert len(set(q.options)) == DISTRACTORS + 1 and q.answer in q.options
            assert all(o.lower() not in q.chunk.text.lower() for o in q.options if o != q.answer), "ruled out"
        else:
            assert q.options == ()
        assert q.skills == q.chunk.skills


def test_distractors_come_from_the_passages_nearest_the_question_first(course_chunks):
    """On the simulated course a skill's passages are the nearest: distractors from them are ones a learner who
    knows only the topic cannot rule out. Alike in length alone, they come from anywhere in the course."""
    def on_the_same_skill(order: str) -> float:
        shared = []
        for q in practice_questions(course_chunks, distractors=order):
            for option in set(q.options) - {q.answer}:
                found_in = [c for c in course_chunks if option in c.text]
                assert found_in, "a distractor is a term of another passage of the course"
                shared.append(any(set(c.skills) & set(q.skills) for c in found_in))
        return sum(shared) / len(shared)

    near, anywhere = on_the_same_skill("near"), on_the_same_skill("length")
    assert near > anywhere + 0.15, (near, anywhere)


def test_a_passage_that_practises_no_skill_gives_no_question_but_may_give_distractors(course_chunks):
    """A preface or a syllabus teaches nothing to practise: asking a learner to fill in its licence terms would
    waste their practice. Its terms still stand beside other passages' answers."""
    untagged = [dataclasses.replace(c, skills=()) if n % 2 else c for n, c in enumerate(course_chunks)]
    questions = practice_questions(untagged)
    assert questions and all(q.chunk.skills for q in questions)
    assert {q.question_id for q in questions} == {q.question_id for q in practice_questions(course_chunks)
                                                  if q.chunk in untagged}
    unpractised = " ".join(c.text.lower() for c in untagged if not c.skills)
    assert any(o.lower() in unpractised for q in questions for o in q.options if o != q.answer)


def test_answers_are_marked_leniently_on_form_and_strictly_on_content(course_chunks):
    question = next(q for q in practice_questions(course_chunks) if q.kind == "cloze")
    assert question.is_right(question.answer) and question.is_right(f"  `{question.answer.upper()}`. ")
    assert not question.is_right(question.answer + " and more") and not question.is_right("")


def test_the_same_material_gives_the_same_questions_and_a_skill_narrows_them(course_chunks):
    first, again = practice_questions(course_chunks), practice_questions(list(course_chunks))
    assert [(q.question_id, q.options) for q in first] == [(q.question_id, q.options) for q in again]
    assert len({q.question_id for q in first}) == len(first)
    skill = course_chunks[0].skills[0]
    on_skill = practice_questions(course_chunks, skill)
    assert on_skill and all(skill in q.skills for q in on_skill) and len(on_skill) < len(first)
    assert practice_questions([]) == [] and practice_questions(course_chunks, "no-such-skill") == []


def test_a_term_that_the_sentence_repeats_is_not_asked():
    chunk = Chunk("c/d#0", "c", "d", "Loops", "Loops", "here",
                  "A loop repeats a block. The loop keyword `for` starts a loop over every element of a list.")
    for q in practice_questions([chunk]):
        assert "loop" not in q.answer.lower() or q.prompt.lower().count("loop") == 0
