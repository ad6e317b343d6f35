"""Tutor answers: grounded in the retrieved passages, cited, and "I don't know" when nothing
relevant was found; the OpenAI-compatible generator against a local server of that protocol."""

import re

import pytest
from qdrant_client import QdrantClient

from models.chat import ChatEndpoint
from models.tutor.answers import (
    DONT_KNOW,
    MARGIN,
    AnswerGenerationError,
    ExtractiveAnswerer,
    OpenAICompatibleAnswerer,
)
from models.tutor.chunks import document_chunks
from models.tutor.index import TutorIndex
from models.tutor.retrieval import Retriever
from tests.chat_server import chat_server

LOOPS = """# Loops

## While loops

A while loop repeats its body as long as its condition is true. The condition is checked before
every repetition. Forgetting to change the condition inside the body gives an infinite loop.

## For loops

A for loop visits each item of a sequence in turn. The range function produces the numbers a
for loop often counts with, such as range(5) for 0 to 4.
"""
STRINGS = """# Strings

## Slicing

A slice such as s[1:3] copies the characters from index 1 up to, but not including, index 3.
Negative indices count from the end of the string.
"""


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    client = QdrantClient(path=str(tmp_path_factory.mktemp("qdrant")))
    index = TutorIndex(client)
    index.sync_course("py", [c for doc, text in {"loops": LOOPS, "strings": STRINGS}.items()
                             for c in document_chunks(course_id="py", document_id=doc, title=doc.title(),
                                                      markdown=text, location=f"{doc}.md", words=40, overlap=10)])
    yield Retriever(index)
    client.close()


def test_extractive_answers_quote_the_passages_and_cite_them(retriever):
    question = "When is the condition of a while loop checked?"
    passages = retriever.search("py", question, k=5)
    answer = ExtractiveAnswerer().answer(question, passages)
    assert answer.grounded and answer.citations
    indexed = {p.chunk.text for p in passages}
    for citation in answer.citations:
        assert citation.passage in indexed and citation.location.startswith("loops.md#")
    # Every sentence of the answer is a sentence of the passage it cites.
    cited = {c.number: c.passage for c in answer.citations}
    pieces = re.findall(r"\s*(.*?) \[(\d+)\]", answer.text)
    assert pieces and "".join(f"{s} [{n}] " for s, n in pieces).strip() == answer.text
    for sentence, number in pieces:
        assert sentence in cited[int(number)]
    assert set(cited) == {int(n) for _, n in pieces}
    assert "checked before every repetition" in answer.text


def test_the_sentences_quoted_follow_retrieval_not_the_order_the_passages_come_in(retriever):
    """The tutor puts passages on a learner's weak skills first; the sentences an answer quotes still lean on
    retrieval's ranking (``RANK_PENALTY``), so only their citation numbers change."""
    question = "How does a for loop count with range?"
    passages = retriever.search("py", question, k=5)
    assert len(passages) >= 2
    answerer = ExtractiveAnswerer(max_sentences=2)

    def quoted(answer):
        return {sentence for sentence, _ in re.findall(r"\s*(.*?) \[(\d+)\]", answer.text)}

    assert quoted(answerer.answer(question, passages)) == quoted(answerer.answer(question, passages[::-1]))
    # The penalty is per rank: without it the two orders agree too (closeness alone), and a heavy one keeps the
    # answer to the top passage.
    assert quoted(ExtractiveAnswerer(max_sentences=2, rank_penalty=0.0).answer(question, passages[::-1])) == \
        quoted(ExtractiveAnswerer(max_sentences=2, rank_penalty=0.0).answer(question, passages))
    top = ExtractiveAnswerer(max_sentences=2, rank_penalty=10.0).answer(question, passages[::-1])
    assert {c.passage for c in top.citations} == {passages[0].chunk.text}


def test_an_answer_quotes_only_sentences_nearly_as_close_to_the_question_as_the_closest(retriever):
    """Up to three sentences, each within ``MARGIN`` of the closest: not one that only shares the topic."""
    question = "What does a negative index count from?"
    passages = retriever.search("py", question, k=5)

    def quoted(margin):
        return [s for s, _ in re.findall(r"\s*(.*?) \[(\d+)\]", ExtractiveAnswerer(margin=margin).answer(
            question, passages).text)]

    every = quoted(None)  # the closest three there are, however far
    assert quoted(MARGIN) == quoted(0.0) == ["Negative indices count from the end of the string."]
    assert len(every) > 1 and set(quoted(MARGIN)) < set(every)


DICTIONARIES = """# Dictionaries

## Iterating over a dictionary

`for name in ages:` visits the keys; `ages.values()` gives the values and `ages.items()` gives key and value pairs,
as in `for name, age in ages.items():`. Dictionaries keep the order in which keys were inserted.
"""


def test_a_sentence_is_read_under_its_heading(tmp_path):
    """A sentence mostly code says little alone; under "Iterating over a dictionary" it answers (``HEADING_WEIGHT``)."""
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    index = TutorIndex(client)
    index.sync_course("py", document_chunks(course_id="py", document_id="dicts", title="Dictionaries",
                                            markdown=DICTIONARIES, location="dicts.md"))
    question = "How can I get each key and value of a dict?"
    passages = Retriever(index).search("py", question, k=5)
    alone = ExtractiveAnswerer(max_sentences=1, heading_weight=0.0).answer(question, passages)
    headed = ExtractiveAnswerer(max_sentences=1).answer(question, passages)
    client.close()
    assert alone.text.startswith("Dictionaries keep the order"), "alone, the sentence that names dictionaries"
    assert headed.text.startswith("`for name in ages:` visits the keys"), "under its heading, the one that answers"


def test_an_unanswerable_question_gets_i_dont_know_with_pointers(retriever):
    question = "What temperature should I bake sourdough bread at?"
    passages = retriever.search("py", question, k=5)
    answer = ExtractiveAnswerer().answer(question, passages)
    assert not answer.grounded and answer.text.startswith(DONT_KNOW)
    assert answer.citations and all(c.title in answer.text for c in answer.citations)


REPLY = "A while loop checks its condition before every repetition [1]."


@pytest.fixture
def server():
    with chat_server(lambda body: REPLY) as running:
        yield running


def test_openai_compatible_answers_come_from_the_passages_only(retriever, server):
    generator = OpenAICompatibleAnswerer(ChatEndpoint(server.url, "tiny-model", api_key="secret"))
    question = "When is the condition of a while loop checked?"
    passages = retriever.search("py", question, k=5)
    answer = generator.answer(question, passages)
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer secret"
    assert request["body"]["model"] == "tiny-model" and request["body"]["temperature"] == 0
    system, user = request["body"]["messages"]
    assert "only" in system["content"] and DONT_KNOW in system["content"]
    assert "[1]" in user["content"] and question in user["content"]
    assert answer.grounded and answer.text == REPLY
    assert [c.number for c in answer.citations] == [1]
    assert answer.citations[0].passage in user["content"]

    server.reply = lambda body: f"{DONT_KNOW}."
    assert not generator.answer(question, passages).grounded
    server.status = 500
    with pytest.raises(AnswerGenerationError, match="failed"):
        generator.answer(question, passages)
    # Nothing relevant: the endpoint is not even asked.
    asked = len(server.requests)
    off_topic = retriever.search("py", "What temperature should I bake sourdough bread at?", k=5)
    assert not generator.answer("bread?", off_topic).grounded and len(server.requests) == asked
