"""Practice questions over the API on the trained demo: made from the course's passages, answered and
marked with the sentence that settles it, each answer landed for the lake; only for those who study the
course, and malformed answers get a reason."""

import json
import re
import time

import orjson
import pytest
from sqlalchemy import delete, func, select

from models.chat import ChatEndpoint
from models.practice.written_by_model import QuestionWriter
from serving.core.tables import ModelPracticePassage, ModelPracticeQuestion
from serving.main import create_app
from serving.practice import PASSAGES_PER_REQUEST, PracticeBank
from tests.chat_server import chat_server

pytestmark = pytest.mark.integration


def _get(demo_app, who: str, course: str | None = None, **params):
    course = course or demo_app["course"]
    return demo_app["client"].get(f"/api/v1/courses/{course}/practice", params=params, headers=demo_app["headers"][who])


def _answer(demo_app, who: str, question_id: str, body, course: str | None = None):
    course = course or demo_app["course"]
    return demo_app["client"].post(f"/api/v1/courses/{course}/practice/{question_id}/answers", json=body,
                                   headers=demo_app["headers"][who])


def test_a_learner_practises_a_weak_skill_and_the_answers_reach_the_lake(demo_app):
    found = _get(demo_app, "learner", limit=50)
    assert found.status_code == 200, found.text
    questions = found.json()["questions"]
    assert questions and {q["kind"] for q in questions} == {"cloze", "multiple_choice"}
    skill = questions[0]["skill_ids"][0]
    on_skill = _get(demo_app, "learner", skill_id=skill).json()["questions"]
    assert on_skill and all(skill in q["skill_ids"] for q in on_skill)
    assert all(q["skill_names"][q["skill_ids"].index(skill)] != skill for q in on_skill), "named skills"
    question = next(q for q in questions if q["kind"] == "multiple_choice")
    assert "_____" in question["prompt"] and len(question["options"]) == 4 and question["source"]["title"]
    source = question["source"]
    assert source["section"].startswith(source["title"]) and source["section"].count(source["title"]) == 1

    landing = demo_app["client"].app.state.landing
    seq = landing.last_seq()
    wrong = next(o for o in question["options"] if o != _answer(demo_app, "learner", question["question_id"],
                                                                {"answer": question["options"][0]}).json()["expected"])
    marked = _answer(demo_app, "learner", question["question_id"], {"answer": wrong}).json()
    assert marked["correct"] is False and marked["feedback"] in marked["passage"]
    right = _answer(demo_app, "learner", question["question_id"], {"answer": marked["expected"]}).json()
    assert right["correct"] is True and right["source"] == question["source"]
    landed = [e for b in landing.read_after(seq, 100) if b.source == "practice" for e in orjson.loads(b.body)]
    assert [e["result"]["success"] for e in landed[-2:]] == [False, True]
    assert all(e["verb"] == "answered" and e["object"]["id"].startswith(question["source"]["item_id"] + "/practice-")
               for e in landed), "an answer on the passage's item: its skills count it"


def test_only_those_who_study_or_teach_the_course_may_practise(demo_app):
    assert _get(demo_app, "teacher").status_code == 200 and _get(demo_app, "admin").status_code == 200
    assert _get(demo_app, "outsider").status_code == 403
    assert _get(demo_app, "other_teacher").status_code == 403
    assert _get(demo_app, "learner", course="no-such-course").status_code == 404
    assert demo_app["client"].get(f"/api/v1/courses/{demo_app['course']}/practice").status_code == 401
    question = _get(demo_app, "learner").json()["questions"][0]["question_id"]
    assert _answer(demo_app, "outsider", question, {"answer": "x"}).status_code == 403


@pytest.mark.parametrize(("body", "status"), [
    ({"answer": ""}, 422), ({"answer": "   "}, 422), ({"answer": "x" * 501}, 422), ({}, 422), ({"answer": 5}, 422),
    ({"answer": "x", "extra": 1}, 422), ([], 422), ({"answer": {"$gt": ""}}, 422), ({"answer": "a\u0000b"}, 422),
])
def test_malformed_answers_get_a_reason_and_land_nothing(demo_app, body, status):
    question = _get(demo_app, "learner").json()["questions"][0]["question_id"]
    landing = demo_app["client"].app.state.landing
    seq = landing.last_seq()
    response = _answer(demo_app, "learner", question, body)
    assert response.status_code == status and response.json()["detail"]
    assert landing.last_seq() == seq


def test_unknown_questions_and_odd_queries(demo_app):
    assert _answer(demo_app, "learner", "0" * 16, {"answer": "x"}).status_code == 404
    assert _answer(demo_app, "learner", "q" * 65, {"answer": "x"}).status_code == 422
    for params in ({"limit": 0}, {"limit": 51}, {"skill_id": "s" * 101}):
        assert _get(demo_app, "learner", **params).status_code == 422, params
    assert _get(demo_app, "learner", skill_id="no-such-skill").json()["questions"] == []


def _withdrawal(demo_app, who: str | None, question_id: str, method: str = "put", body=None, course: str | None = None):
    course = course or demo_app["course"]
    headers = demo_app["headers"][who] if who else {}
    url = f"/api/v1/courses/{course}/practice/{question_id}/withdrawal"
    if method == "put":
        return demo_app["client"].put(url, json={} if body is None else body, headers=headers)
    return demo_app["client"].delete(url, headers=headers)


def test_the_instructor_checks_each_question_with_its_answer_and_withdraws_a_poor_one(demo_app):
    taught = _get(demo_app, "teacher", limit=50).json()["questions"]
    assert taught and all(q["answer"] and q["evidence"] and q["answer"].lower() in q["evidence"].lower()
                          for q in taught), "the instructor sees what each question takes, and why"
    studied = _get(demo_app, "learner", limit=50).json()["questions"]
    assert studied and all(q["answer"] is None and q["evidence"] is None for q in studied), "learners do not"
    question = studied[0]["question_id"]
    try:
        withdrawn = _withdrawal(demo_app, "teacher", question, body={"reason": "  two options are right  "})
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["reason"] == "two options are right"
        assert withdrawn.json()["withdrawn_by"] == demo_app["users"]["teacher"]
        assert question not in {q["question_id"] for q in _get(demo_app, "learner", limit=50).json()["questions"]}
        refused = _answer(demo_app, "learner", question, {"answer": "x"})
        assert refused.status_code == 404 and "withdrawn" in refused.json()["detail"]
        listed = _get(demo_app, "teacher", withdrawn="true", limit=50).json()["questions"]
        assert [q["question_id"] for q in listed] == [question] and listed[0]["answer"]
        assert listed[0]["withdrawal_reason"] == "two options are right", "editors read why it was taken out"
        assert all(q["withdrawal_reason"] is None for q in _get(demo_app, "teacher", limit=50).json()["questions"])
        again = _withdrawal(demo_app, "admin", question, body={"reason": None})
        assert again.status_code == 200 and again.json()["reason"] is None, "withdrawing again replaces the reason"
    finally:
        put_back = _withdrawal(demo_app, "teacher", question, method="delete")
    assert put_back.status_code == 204
    assert question in {q["question_id"] for q in _get(demo_app, "learner", limit=50).json()["questions"]}
    assert _answer(demo_app, "learner", question, {"answer": "x"}).status_code == 200
    assert _withdrawal(demo_app, "teacher", question, method="delete").status_code == 404, "not withdrawn now"


def test_only_the_course_editors_withdraw_questions_and_odd_requests_get_a_reason(demo_app):
    question = _get(demo_app, "learner").json()["questions"][0]["question_id"]
    for who in ("learner", "outsider", "other_teacher"):
        assert _withdrawal(demo_app, who, question).status_code == 403, who
        assert _withdrawal(demo_app, who, question, method="delete").status_code == 403, who
    assert _withdrawal(demo_app, None, question).status_code == 401
    assert _get(demo_app, "learner", withdrawn="true").status_code == 403
    assert _withdrawal(demo_app, "teacher", "0" * 16).status_code == 404
    assert _withdrawal(demo_app, "teacher", question, course="no-such-course").status_code == 404
    for body in ({"reason": "x" * 501}, {"reason": 5}, {"reason": "x", "extra": 1}, [], {"reason": {"$ne": 1}},
                 {"reason": "a\u0000b"}):
        response = _withdrawal(demo_app, "teacher", question, body=body)
        assert response.status_code == 422 and response.json()["detail"], body
    assert _withdrawal(demo_app, "teacher", "q" * 65).status_code == 422
    assert _get(demo_app, "teacher", withdrawn="maybe").status_code == 422
    assert question in {q["question_id"] for q in _get(demo_app, "learner", limit=50).json()["questions"]}, \
        "nothing refused was withdrawn"


# -- with a model at LEARNLAKE_LLM_URL -------------------------------------------------------------

def _model_writes(body: dict) -> str:
    """A model that writes one cloze question per passage it is sent: its first sentence of ten words or
    more, the longest word blanked (what a real model returns is checked the same way)."""
    passage = body["messages"][1]["content"].split("\n\n", 1)[1]
    for sentence in re.split(r"(?<=[.!?])\s+", passage):
        words = re.findall(r"[A-Za-z]{6,}", sentence)
        if len(sentence.split()) >= 10 and "\n" not in sentence and words:
            term = max(words, key=len)
            if len(re.findall(rf"\b{term}\b", sentence)) == 1:
                question = {"kind": "cloze", "prompt": re.sub(rf"\b{term}\b", "_____", sentence), "options": [],
                            "answer": term, "evidence": sentence}
                return json.dumps({"questions": [question]})
    return '{"questions": []}'


def _model_questions(client, course, headers, *, wait_s: float = 60.0) -> tuple[list[dict], int]:
    """The course's practice, asked again until the model's questions are in (they are written meanwhile);
    with the number of times it was asked."""
    deadline, asked = time.monotonic() + wait_s, 0
    while True:
        found = client.get(f"/api/v1/courses/{course}/practice", params={"limit": 50}, headers=headers)
        asked += 1
        assert found.status_code == 200, found.text
        written = [q for q in found.json()["questions"] if q["generator"] == "openai-compatible"]
        if written or time.monotonic() > deadline:
            return written, asked
        time.sleep(0.2)


def test_the_model_at_learnlake_llm_url_writes_the_practice(trained_demo):
    app = create_app(trained_demo.model_copy(update={"llm_url": "http://127.0.0.1:9/v1", "llm_model": "tiny"}))
    writer = app.state.practice.writer
    assert writer is not None and (writer.endpoint.url, writer.endpoint.model) == ("http://127.0.0.1:9/v1", "tiny")
    app.state.database.dispose()
    assert create_app(trained_demo).state.practice.writer is None


@pytest.fixture
def model_banks(demo_app):
    """The served demo's practice with a model at a local endpoint: ``use(url)`` puts a new bank (a new
    replica's) in the API's place, closing the one before; afterwards the API's own is back and the
    questions they stored are removed."""
    state = demo_app["client"].app.state
    served = state.practice

    def use(url: str) -> PracticeBank:
        if state.practice is not served:
            state.practice.close()
        state.practice = PracticeBank(state.tutor, state.database, QuestionWriter(ChatEndpoint(url, "tiny")))
        return state.practice

    yield use
    if state.practice is not served:
        state.practice.close()
    state.practice = served
    with state.database.write() as session:
        session.execute(delete(ModelPracticeQuestion))
        session.execute(delete(ModelPracticePassage))


def test_a_configured_model_writes_checked_questions_that_every_replica_serves(demo_app, model_banks):
    client, course, headers = demo_app["client"], demo_app["course"], demo_app["headers"]["learner"]
    with chat_server(_model_writes) as model:
        model_banks(model.url)
        first = client.get(f"/api/v1/courses/{course}/practice", headers=headers).json()["questions"]
        assert first, "questions at once, without waiting for the model"
        written, asked = _model_questions(client, course, headers)
        assert written, "the model's questions come once written"
        assert len(model.requests) <= PASSAGES_PER_REQUEST * (asked + 1), "a few passages per request"
        assert all(q["kind"] == "cloze" and "_____" in q["prompt"] and q["source"]["title"] for q in written)
        question = written[0]
        landing = client.app.state.landing
        seq = landing.last_seq()
        marked = client.post(f"/api/v1/courses/{course}/practice/{question['question_id']}/answers",
                             json={"answer": "wrong"}, headers=headers).json()
        assert marked["correct"] is False and marked["expected"] in marked["feedback"]
        assert marked["feedback"] in marked["passage"], "the evidence is the passage's own sentence"
        landed = [e for b in landing.read_after(seq, 100) if b.source == "practice" for e in orjson.loads(b.body)]
        assert [e["result"]["success"] for e in landed] == [False]
        # The instructor may take a model's question out like any other, and put it back.
        assert _withdrawal(demo_app, "teacher", question["question_id"]).status_code == 200
        served = client.get(f"/api/v1/courses/{course}/practice", params={"limit": 50}, headers=headers).json()
        assert question["question_id"] not in {q["question_id"] for q in served["questions"]}
        assert _withdrawal(demo_app, "teacher", question["question_id"], method="delete").status_code == 204

        # Another replica, with the endpoint down: it serves and marks the stored questions, and stops asking.
        replica = model_banks(model.url)  # the first one's last passage written
        model.status = 500
        asked = len(model.requests)
        served = client.get(f"/api/v1/courses/{course}/practice", params={"limit": 50}, headers=headers)
        assert {q["question_id"] for q in served.json()["questions"] if q["generator"] == "openai-compatible"} \
            >= {q["question_id"] for q in written}
        right = client.post(f"/api/v1/courses/{course}/practice/{question['question_id']}/answers",
                            json={"answer": marked["expected"]}, headers=headers)
        assert right.status_code == 200 and right.json()["correct"] is True
        replica.close()  # waits for the passage being written
        assert len(model.requests) - asked == 1, "after a failure the endpoint is left alone for a while"


def _passages_sent(model) -> list[str]:
    return [request["body"]["messages"][1]["content"].split("\n\n", 1)[1] for request in model.requests]


def _once_sent(model, bank: PracticeBank, already: int = 0) -> None:
    """Wait for the bank's first request to reach the model, then close the bank (which waits for its reply)."""
    deadline = time.monotonic() + 30
    while len(model.requests) <= already and time.monotonic() < deadline:
        time.sleep(0.05)
    bank.close()


def test_a_passage_the_model_wrote_nothing_usable_on_is_not_sent_again_by_any_replica(demo_app, model_banks):
    client, course, headers = demo_app["client"], demo_app["course"], demo_app["headers"]["learner"]
    database = client.app.state.database
    with chat_server(lambda body: '{"questions": [{"kind": "cloze", "prompt": "no blank here"}]}') as model:
        first = model_banks(model.url)
        assert client.get(f"/api/v1/courses/{course}/practice", headers=headers).status_code == 200
        _once_sent(model, first)
        sent = _passages_sent(model)
        assert 0 < len(sent) <= PASSAGES_PER_REQUEST
        with database.read() as session:
            recorded = session.scalars(select(ModelPracticePassage)).all()
            assert len(recorded) == len(sent) and all(r.questions == 0 and r.dropped for r in recorded), \
                "each passage answered on is recorded, with why its questions were turned down"

        replica = model_banks(model.url)  # a new process: nothing in memory of what was sent
        assert client.get(f"/api/v1/courses/{course}/practice", headers=headers).status_code == 200
        _once_sent(model, replica, already=len(sent))
        again = _passages_sent(model)[len(sent):]
        assert again and not set(again) & set(sent), "the next passages are sent, never the ones answered on"
        with database.read() as session:
            assert session.scalar(select(func.count()).select_from(ModelPracticeQuestion)) == 0


def test_a_failed_request_records_nothing_so_the_passage_is_asked_again(demo_app, model_banks):
    client, course, headers = demo_app["client"], demo_app["course"], demo_app["headers"]["learner"]
    with chat_server(_model_writes) as model:
        model.status = 500
        failing = model_banks(model.url)
        client.get(f"/api/v1/courses/{course}/practice", headers=headers)
        _once_sent(model, failing)
        [failed] = _passages_sent(model)  # one request, then the pause
        with client.app.state.database.read() as session:
            assert session.scalar(select(func.count()).select_from(ModelPracticePassage)) == 0
        model.status = 200
        model_banks(model.url)
        written, _ = _model_questions(client, course, headers)
        assert written and failed in _passages_sent(model)[1:], "the passage is sent again once the model answers"
