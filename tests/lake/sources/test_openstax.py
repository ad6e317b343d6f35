"""Books of the OpenStax layout other than the one in ../shared/data: units of chapters, front and back matter,
untitled or empty chapters. Written here, so these run in every clone."""

from pathlib import Path

import pytest

from lake.sources.datasets.common import DatasetError
from lake.sources.datasets.openstax import read_book
from models.practice.questions import practice_questions
from models.tutor.content import book_chunks

PARAGRAPH = ("A {topic} is what this section teaches. Every learner who studies the {topic} writes `{code}` to "
             "use it, and the {topic} appears in many programs that beginners write in their first week.")


def _write_book(root: Path, contents: str, topics: dict[str, str]) -> Path:
    (root / "collections").mkdir(parents=True)
    (root / "collections" / "tiny.collection.xml").write_text(
        '<col:collection xmlns:col="http://cnx.rice.edu/collxml" xmlns:md="http://cnx.rice.edu/mdml" '
        'xmlns="http://cnx.rice.edu/collxml"><col:metadata><md:title>Tiny Book</md:title><md:slug>tiny</md:slug>'
        f'<md:uuid>u-1</md:uuid></col:metadata><col:content>{contents}</col:content></col:collection>')
    for module_id, topic in topics.items():
        (root / "modules" / module_id).mkdir(parents=True)
        (root / "modules" / module_id / "index.cnxml").write_text(
            f'<document xmlns="http://cnx.rice.edu/cnxml"><title>{topic.title()}</title><content>'
            f'<para>{PARAGRAPH.format(topic=topic, code=topic.replace(" ", "_") + "()")}</para>'
            f'<para>{PARAGRAPH.format(topic=topic, code=topic.split()[0] + " = 1")}</para></content></document>')
    return root


def _chapter(title: str, body: str) -> str:
    heading = f"<md:title>{title}</md:title>" if title else ""
    return f"<col:subcollection>{heading}<col:content>{body}</col:content></col:subcollection>"


TOPICS = {"m0": "preface material", "m1": "unit overview", "m2": "variable binding", "m3": "string slicing",
          "m4": "loop counter", "m5": "keyword table", "m6": "function call"}


@pytest.fixture
def book_dir(tmp_path) -> Path:
    contents = ('<col:module document="m0"/>'
                + _chapter("Unit 1: Basics", '<col:module document="m1"/>'
                           + _chapter("Variables", '<col:module document="m2"/><col:module document="m3"/>')
                           + _chapter("Empty", ""))
                + _chapter("", '<col:module document="m4"/>')
                + _chapter("Functions", '<col:module document="m6"/>')
                + '<col:module document="m5"/>')
    return _write_book(tmp_path / "tiny", contents, TOPICS)


def test_units_give_their_chapters_in_order_and_front_and_back_matter_teach_no_skill(book_dir):
    book = read_book(book_dir)
    assert [(c.title, [s.module_id for s in c.sections]) for c in book.chapters] == [
        ("Front matter", ["m0"]), ("Unit 1: Basics", ["m1"]), ("Variables", ["m2", "m3"]), ("Chapter 4", ["m4"]),
        ("Functions", ["m6"]), ("Back matter", ["m5"])]
    assert [c.skill_id for c in book.chapters] == [
        None, "tiny:chapter-2", "tiny:chapter-3", "tiny:chapter-4", "tiny:chapter-5", None]
    assert book.sections[2].markdown.startswith("# Variable Binding\n") and book.sections[2].path == "modules/m2/index.cnxml"


def test_practice_comes_only_from_the_chapters_that_teach(book_dir):
    chunks = book_chunks(read_book(book_dir))
    assert {c.document_id: c.skills for c in chunks}["m0"] == () and len(chunks) == len(TOPICS)
    questions = practice_questions(chunks)
    assert questions and {q.chunk.document_id for q in questions} <= {"m1", "m2", "m3", "m4", "m6"}
    assert all(q.skills == q.chunk.skills and q.skills for q in questions)


def test_a_module_the_collection_lists_but_the_book_lacks_is_named(tmp_path):
    book_dir = _write_book(tmp_path / "broken", _chapter("Loops", '<col:module document="m9"/>'), {})
    with pytest.raises(DatasetError, match="module 'm9'"):
        read_book(book_dir)
