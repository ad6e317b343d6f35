"""Practice questions a model writes, against a local server of the chat-completions protocol: what passes
the checks reaches learners, citing its passage; every way a model's question can fail to be answerable
from the passage is turned down, with the reason."""

import json

import pytest

from models.chat import ChatCompletionError, ChatEndpoint
from models.practice.questions import BLANK
from models.practice.written_by_model import QuestionWriter, checked_question
from models.tutor.chunks import Chunk
from tests.chat_server import chat_server

PASSAGE = ("A while loop repeats its body as long as its condition is true. The condition is checked before every "
           "repetition. Forgetting to change the condition inside the body gives an infinite loop.")
CHUNK = Chunk("py/loops#0", "py", "loops", "Loops", "Loops > While loops", "loops.md#while-loops", PASSAGE, ("c1s1",))
CHOICE = {"kind": "multiple_choice", "prompt": "When does a while loop check its condition?",
          "options": ["before every repetition", "after every repetition", "only once", "never"],
          "answer": "before every repetition", "evidence": "The condition is checked before every repetition."}
CLOZE = {"kind": "cloze", "prompt": "Forgetting to change the condition inside the body gives an ___ loop.",
         "options": [], "answer": "infinite",
         "evidence": "Forgetting to change the condition inside the body gives an infinite loop."}


def _reply(*questions) -> str:
    """As models write it: prose, and the JSON in a fence."""
    return f"Here are the questions.\n```json\n{json.dumps({'questions': list(questions)})}\n```"


@pytest.fixture
def server():
    with chat_server(lambda body: _reply(CHOICE, CLOZE)) as running:
        yield running


def test_questions_that_pass_the_checks_cite_the_passage(server):
    writer = QuestionWriter(ChatEndpoint(server.url, "tiny-model", api_key="secret"))
    written = writer.write(CHUNK)
    assert written.dropped == []
    choice, cloze = written.questions
    assert choice.kind == "multiple_choice" and sorted(choice.options) == sorted(CHOICE["options"])
    assert choice.is_right("Before every repetition.") and not choice.is_right("after every repetition")
    assert cloze.prompt == f"Forgetting to change the condition inside the body gives an {BLANK} loop."
    assert cloze.options == () and cloze.is_right("infinite")
    for question in written.questions:
        assert question.chunk == CHUNK and question.skills == ("c1s1",) and question.sentence in PASSAGE
        assert question.generator == "openai-compatible"
    [request] = server.requests
    assert request["auth"] == "Bearer secret" and request["body"]["temperature"] == 0
    system, user = request["body"]["messages"]
    assert "evidence" in system["content"] and PASSAGE in user["content"]
    again = writer.write(CHUNK).questions
    assert [(q.question_id, q.options) for q in again] == [(q.question_id, q.options) for q in written.questions]
    edited = Chunk(*[PASSAGE + " Use break to leave a loop early." if f == PASSAGE else f for f in (
        CHUNK.chunk_id, CHUNK.course_id, CHUNK.document_id, CHUNK.title, CHUNK.heading, CHUNK.location, PASSAGE)],
                   CHUNK.skills)
    assert {q.question_id for q in writer.write(edited).questions}.isdisjoint(q.question_id for q in again), \
        "an edited passage: new questions"


@pytest.mark.parametrize(("question", "reason"), [
    ({**CHOICE, "evidence": "A while loop checks its condition before every repetition."}, "not a sentence of"),
    ({**CHOICE, "evidence": "The condition is checked."}, "not a sentence"),
    ({**CHOICE, "answer": "after every repetition"}, "does not say the answer"),
    ({**CHOICE, "prompt": "Is it checked before every repetition?"}, "gives the answer away"),
    ({**CHOICE, "options": ["before every repetition", "after every repetition"]}, "3 to 5"),
    ({**CHOICE, "options": [*CHOICE["options"], "a", "b"]}, "3 to 5"),
    ({**CHOICE, "options": ["before every repetition", "Before every repetition.", "never", "once"]}, "distinct"),
    ({**CHOICE, "options": ["after each step", "after every repetition", "only once", "never"]}, "distinct"),
    ({**CHOICE, "options": [*CHOICE["options"][:3], "infinite"],
      "evidence": "The condition is checked before every repetition. Forgetting to change the condition inside "
                  "the body gives an infinite loop."}, "says a wrong option"),
    ({**CHOICE, "options": [1, 2, 3, "before every repetition"]}, "short options"),
    ({**CHOICE, "prompt": "Which colour is the sky on a clear day?", "answer": "true",
      "options": ["true", "blue", "grey", "green"],
      "evidence": "A while loop repeats its body as long as its condition is true."}, "do not mean"),
    ({**CLOZE, "prompt": "Forgetting ___ the condition inside the body gives an ___ loop."}, "one blank"),
    ({**CLOZE, "prompt": "Forgetting to change the condition inside the body gives an infinite loop."}, "give"),
    ({**CLOZE, "options": ["infinite", "finite", "empty"]}, "one blank and no options"),
    ({**CLOZE, "prompt": "x" * 401 + " ___"}, "over 400"),
    ({**CLOZE, "answer": ""}, "no answer"),
    ({**CLOZE, "answer": None}, "no answer"),
    ({**CLOZE, "kind": "essay"}, "kind"),
    (["not", "an", "object"], "not an object"),
])
def test_a_question_not_answerable_from_its_passage_is_turned_down(question, reason):
    with pytest.raises(ValueError, match=reason):
        checked_question(question, CHUNK)


@pytest.mark.parametrize("reply", ["I cannot help with that.", "{not json", '{"items": []}', '{"questions": "none"}'])
def test_a_reply_of_another_shape_gives_no_questions(server, reply):
    server.reply = lambda body: reply
    written = QuestionWriter(ChatEndpoint(server.url, "tiny-model")).write(CHUNK)
    assert written.questions == [] and written.dropped and written.dropped[0].startswith("reply")


def test_only_the_questions_asked_for_are_read_and_a_failing_endpoint_says_so(server):
    server.reply = lambda body: _reply(CHOICE, CHOICE, {**CLOZE, "answer": "finite"}, CLOZE)
    written = QuestionWriter(ChatEndpoint(server.url, "tiny-model"), per_passage=3).write(CHUNK)
    assert len(written.questions) == 1, "the same question twice is kept once; the fourth is not read"
    assert written.dropped == ["the evidence does not say the answer"]
    server.status = 500
    with pytest.raises(ChatCompletionError, match="failed"):
        QuestionWriter(ChatEndpoint(server.url, "tiny-model")).write(CHUNK)
