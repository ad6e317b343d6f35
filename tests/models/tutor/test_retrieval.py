"""The tutor's passages: heading-aware chunks, the Qdrant index (local mode, on disk) with the
packaged MiniLM model, and dense, BM25 and hybrid retrieval restricted to one course."""

import json

import pytest
from qdrant_client import QdrantClient
from typer.testing import CliRunner

from models.tutor.answers import RELEVANCE_THRESHOLD
from models.tutor.chunks import document_chunks, section_path
from models.tutor.index import TutorIndex
from models.tutor.retrieval import MIN_VOTES, MODES, RatedAnswers, Retriever, question_vectors
from tests.conftest import real_data_dir

LOOPS = """# Loops

## While loops

A while loop repeats its body as long as its condition is true. Forgetting to change the
condition inside the body gives an infinite loop.

## For loops

A for loop visits each item of a sequence, such as a list or the numbers from range(5).
"""
VARIABLES = """# Variables

## Assignment

An assignment statement such as x = 5 binds a name to a value. The name can be rebound later.

## Naming rules

Variable names start with a letter or an underscore and may not be keywords like elif or class.
"""
FUNCTIONS = """# Functions

## Defining a function

The def keyword starts a function definition; the indented body runs when the function is called.

## Return values

A return statement ends the call and hands a value back to the caller; without one the result is None.
"""
MIXED_TYPES = """# Mixed data types

## Numbers of two types

An operation on an integer and a float gives a float: the integer is converted first. Adding a
string to a number is an error; multiplying a string by an integer repeats the string.
"""


def _chunks(course: str, documents: dict[str, str], **sizes):
    return [c for doc_id, text in documents.items() for c in document_chunks(
        course_id=course, document_id=doc_id, title=text.splitlines()[0].lstrip("# "), markdown=text,
        location=f"{doc_id}.md", **sizes)]


@pytest.fixture
def index(tmp_path):
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    yield TutorIndex(client)
    client.close()


def test_chunks_follow_headings_overlap_and_say_where_they_come_from():
    body = " ".join(f"w{i}" for i in range(250))
    chunks = document_chunks(course_id="c", document_id="m1", title="Intro", markdown=f"# Intro\n\n## Part A\n\n{body}"
                             "\n\n## Part B\n\nshort text", location="modules/m1/index.cnxml", words=100, overlap=20)
    part_a = [c for c in chunks if c.heading == "Intro > Part A"]
    assert [len(c.text.split()) for c in part_a] == [100, 100, 90]
    assert part_a[0].text.split()[-20:] == part_a[1].text.split()[:20]  # windows overlap
    assert chunks[-1].heading == "Intro > Part B" and chunks[-1].text == "short text"  # never across headings
    assert chunks[-1].location == "modules/m1/index.cnxml#Part B"
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert chunks[0].indexed_text.startswith("Intro > Part A\n")
    # Where a passage sits names its title once, whether or not the heading path starts with it.
    assert chunks[0].section == "Intro > Part A" and section_path("Intro", "Part A") == "Intro > Part A"
    with pytest.raises(ValueError, match="overlap"):
        document_chunks(course_id="c", document_id="m1", title="t", markdown="x", location="x", words=10, overlap=10)


def test_titles_without_text_stay_and_code_comments_are_not_headings():
    markdown = ("# Output\n\n## Basic output\n\nThe print function shows values.\n\n### Displaying output slides\n\n"
                "### The print() function\n\n### Spaces\n\nSpaces matter.\n\n```python\n# Show the menu\n"
                "print('menu')\n```\n")
    chunks = document_chunks(course_id="c", document_id="m1", title="Output", markdown=markdown, location="m1")
    assert [(c.heading, c.text) for c in chunks] == [
        ("Output > Basic output",  # the interactives' titles name what the text before them teaches
         "The print function shows values. Displaying output slides. The print() function."),
        ("Output > Basic output > Spaces", "Spaces matter. ```python # Show the menu print('menu') ```")]


def test_an_overview_counts_less_than_the_sections_that_teach(index):
    recap = ("This chapter covered loops: a for loop visits each item of a sequence such as range(5), and a while "
             "loop repeats while its condition is true. It also covered assignment, variable names and return values.")
    retriever = Retriever(index)
    ranked = {}
    for title in ("Loops in practice", "Chapter summary"):  # the same text, as a section and as an overview
        course = title.split()[0].lower()
        index.sync_course(course, _chunks(course, {"loops": LOOPS, "variables": VARIABLES, "functions": FUNCTIONS,
                                                   "recap": f"# {title}\n\n{recap}\n"}))
        ranked[title] = [[p.chunk.document_id for p in retriever.search(course, question, k=5)]
                         for question in ("What did this chapter cover?", "Which loop visits each item of range(5)?")]
    assert all(found.index("recap") <= 1 for found in ranked["Loops in practice"]), "a section: near the top"
    # As an overview it comes after the sections, but is still found.
    assert [found.index("recap") for found in ranked["Chapter summary"]] == [3, 3]


def test_rated_answers_move_sections_only_when_several_near_questions_agree(index):
    index.sync_course("python", _chunks("python", {"loops": LOOPS, "variables": VARIABLES, "functions": FUNCTIONS}))
    retriever = Retriever(index)
    question = "How do I keep doing something again and again?"

    def order(asked: list[str], cited: str, helpful: bool, askers: list[str] | None = None) -> list[str]:
        rated = RatedAnswers(question_vectors(asked), [(cited,)] * len(asked), [helpful] * len(asked),
                             askers or [f"learner{n}" for n in range(len(asked))])
        return list(dict.fromkeys(p.chunk.document_id for p in retriever.search("python", question, k=10,
                                                                               rated=rated)))

    alone = order([], "functions", True)
    assert alone[0] == "loops" and alone.index("functions") > 0
    near = ["How do I keep doing something again and again?", "How can I keep doing a thing again and again?",
            "How do I do something again and again?"]
    # One asker's rating is not enough (an asker may rate for reasons retrieval has no part in), however many near
    # questions they rate, nor are questions about something else.
    assert order(near[:1], "functions", True) == alone
    assert order(near, "functions", True, askers=["learner0"] * len(near)) == alone
    assert order(["What is the name of a variable?"] * 3, "functions", True) == alone
    # Several near questions whose answers citing a section helped bring it up; several that did not help push the
    # section they cited down.
    assert len(near) > MIN_VOTES
    assert order(near, "functions", True).index("functions") < alone.index("functions")
    assert order(near, "loops", False).index("loops") > 0
    # A rated section the course no longer has is left out.
    assert order(near, "gone", True) == alone


def test_reindexing_embeds_only_what_changed_and_drops_what_left(index):
    first = _chunks("python", {"loops": LOOPS, "variables": VARIABLES, "functions": FUNCTIONS})
    report = index.sync_course("python", first)
    assert (report.added, report.updated, report.removed, report.unchanged) == (len(first), 0, 0, 0)
    assert index.sync_course("python", first).unchanged == len(first)

    edited = LOOPS.replace("infinite loop", "loop that never ends")
    second = _chunks("python", {"loops": edited, "functions": FUNCTIONS})
    report = index.sync_course("python", second)
    removed = sum(c.document_id == "variables" for c in first)
    assert (report.added, report.updated, report.removed) == (0, 1, removed)
    assert report.unchanged == len(second) - 1
    stored = index.course_chunks("python")
    assert [c.chunk_id for c in stored] == sorted(c.chunk_id for c in second)
    assert any("never ends" in c.text for c in stored)


def test_every_mode_finds_the_passage_and_stays_in_its_course(index):
    index.sync_course("python", _chunks("python", {"loops": LOOPS, "variables": VARIABLES, "functions": FUNCTIONS}))
    index.sync_course("other", _chunks("other", {"loops": LOOPS}))
    retriever = Retriever(index)
    for mode in MODES:
        best = retriever.search("python", "Why does my while loop never stop?", k=3, mode=mode)
        assert best[0].chunk.heading == "Loops > While loops", mode
        assert all(p.chunk.course_id == "python" for p in best)
        assert [p.rank for p in best] == list(range(len(best)))
        if mode == "hybrid":  # ranked by section: the first passages cite different sections
            assert len({p.chunk.document_id for p in best}) == len(best) == 3
    # An exact keyword (BM25's strength) with little else to go on.
    assert retriever.search("python", "elif", k=1, mode="bm25")[0].chunk.heading == "Variables > Naming rules"
    assert retriever.search("python", "the of and", k=3, mode="bm25") == []  # stop words only: nothing to match
    assert {p.chunk.course_id for p in retriever.search("other", "function return value", k=5)} == {"other"}
    assert retriever.search("nobody-indexed-this", "loops", k=5) == []
    with pytest.raises(ValueError, match="mode"):
        retriever.search("python", "loops", mode="magic")


def test_pasted_code_is_searched_with_its_outline(index):
    """A learner's `'50' * 3` reads to MiniLM as two numbers; with its outline (a string times an
    integer) it is close enough to the section that teaches it for the tutor to answer."""
    index.sync_course("python", _chunks("python", {"loops": LOOPS, "variables": VARIABLES, "mixed": MIXED_TYPES}))
    retriever = Retriever(index)
    marked = retriever.search("python", "What is `'50' * 3`?", k=1, mode="dense")[0]
    unmarked = retriever.search("python", "What is '50' * 3?", k=1, mode="dense")[0]
    assert marked.chunk.document_id == "mixed" and marked.similarity >= RELEVANCE_THRESHOLD
    assert unmarked.similarity < RELEVANCE_THRESHOLD  # the same code, not marked as code: no outline


def test_eval_rag_on_the_openstax_book(tmp_path, learnlake_home):
    book = real_data_dir() / "openstax-python"
    if not book.is_dir():
        pytest.skip(f"{book} is absent")
    questions = tmp_path / "questions"
    for folder in sorted((book / "questions").iterdir())[::20]:  # every 20th question
        (questions / folder.name).mkdir(parents=True)
        for name in ("content.json", "metadata.json"):
            (questions / folder.name / name).write_bytes((folder / name).read_bytes())
    from learnlake.cli import app

    result = CliRunner().invoke(app, ["eval", "rag", "--content-dir", str(book), "--questions-dir", str(questions),
                                      "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # the JSON alone
    assert figures["questions"] + figures["questions_outside_the_book"] == len(list(questions.iterdir()))
    for mode in MODES:
        mode_figures = figures["modes"][mode]
        assert 0 <= mode_figures["recall_at_1"] <= mode_figures["recall_at_5"] <= 1
        assert mode_figures["recall_at_1"] <= mode_figures["mrr"] <= 1
        assert 0 < mode_figures["p50_ms"] <= mode_figures["p95_ms"]
    # Far above chance (5 of 115 sections is 4 %), as measured on the whole question set.
    assert figures["modes"]["dense"]["recall_at_5"] >= 0.5 and figures["modes"]["hybrid"]["recall_at_5"] >= 0.5
    # With simulated askers' ratings: every question asked again, the more flipped ratings the fewer rated helpful.
    clean, flipped = figures["rated"]["0_percent_flipped"], figures["rated"]["20_percent_flipped"]
    assert clean["questions"] == flipped["questions"] == figures["questions"]
    assert clean["rated_helpful"] > flipped["rated_helpful"] and clean["recall_at_5"] >= 0.5
    # The offline tutor's answers to the same queries: how much of them comes from a gold section.
    for answerer in ("extractive", "closest_sentences"):
        read = figures["answers"][answerer]
        assert read["questions"] == figures["questions"] and 0 < read["answered"] <= read["questions"]
        assert read["development"]["questions"] + read["held_out"]["questions"] == read["questions"]
        assert 0 < read["sentences_from_gold"] <= read["with_a_sentence_from_gold"] <= 1
    answered = figures["headline"]["held_out_answers_from_gold"]
    assert (answered["value"], answered["baseline_value"]) == tuple(
        figures["answers"][a]["held_out"]["with_a_sentence_from_gold"] for a in ("extractive", "closest_sentences"))
    # The headline: hybrid beside the stronger single search, on every question and on the held-out chapters.
    for key, by_mode in (("recall_at_5", figures["modes"]), ("held_out_recall_at_5", figures["splits"]["held_out"])):
        headline = figures["headline"][key]
        assert headline["model"] == "hybrid" and headline["value"] == by_mode["hybrid"]["recall_at_5"]
        assert headline["baseline_value"] == max(by_mode[m]["recall_at_5"] for m in ("dense", "bm25"))


def test_eval_rag_says_what_is_missing(tmp_path, learnlake_home):
    from learnlake.cli import app

    (tmp_path / "book").mkdir()
    (tmp_path / "questions").mkdir()
    result = CliRunner().invoke(app, ["eval", "rag", "--content-dir", str(tmp_path / "book"),
                                      "--questions-dir", str(tmp_path / "questions")])
    assert result.exit_code == 1 and "collection" in result.output
