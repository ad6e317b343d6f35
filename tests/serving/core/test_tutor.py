"""``POST /api/v1/tutor/ask`` on a course written through the API, indexed in local-mode Qdrant.

The index is filled the way the ``tutor_index`` asset fills it (chunks of each lesson's
Markdown, embedded with the packaged MiniLM) while the app runs: the API must not hold the
local-mode folder, and must see re-indexed content without a restart.
"""

import orjson
import pytest
from sqlalchemy import func, select

from lake.readers import read_table
from models.tutor import published
from models.tutor.answers import DONT_KNOW
from models.tutor.chunks import Chunk
from models.tutor.content import Document, chunk_documents
from models.tutor.index import TutorIndex, qdrant_client
from models.tutor.retrieval import Passage
from serving import tutor as tutor_module
from serving import tutor_ratings
from serving.core.enums import Role
from serving.core.tables import AccessRecord, ContentItem, TutorTurn
from serving.tutor import weak_skills_first

LESSONS = {
    "While loops": ("loops", ("# While loops\n\nA while loop repeats its body as long as its condition is true. The "
                             "condition is checked before every repetition. Forgetting to change the condition "
                             "inside the body gives an infinite loop.")),
    "Slicing": ("strings", ("# Slicing\n\nA slice such as s[1:3] copies the characters from index 1 up to, but not "
                           "including, index 3. Negative indices count from the end of the string.")),
}


def _index_course(api, course_id: str) -> list[Chunk]:
    """What the tutor_index asset does for one course, from the core database's lessons: index, then publish."""
    with api.client.app.state.database.read() as session:
        items = session.scalars(select(ContentItem).where(ContentItem.course_id == course_id)).all()
        documents = [Document(course_id, i.id, i.title, i.body, f"courses/{course_id}/items/{i.id}", tuple(i.skills))
                     for i in items if i.body]
    chunks = chunk_documents(documents)
    client = qdrant_client(api.settings)
    try:
        index = TutorIndex(client)
        index.sync_course(course_id, chunks)
        published.publish(api.settings, index)
    finally:
        client.close()
    return chunks


@pytest.fixture
def course(api, monkeypatch):
    monkeypatch.setattr(tutor_module, "CHECK_EVERY_S", 0.0)  # look for a newer snapshot on every question
    owner = api.user(Role.INSTRUCTOR)
    course = api.course(owner, items=0)
    for title, (skill, body) in LESSONS.items():
        created = api.client.post(f"/api/v1/courses/{course['id']}/modules/{course['module_id']}/items",
                                  json={"content_type": "lesson", "title": title, "body": body, "skills": [skill]},
                                  headers=owner.headers)
        assert created.status_code == 201, created.text
    learner = api.user(Role.LEARNER)
    assert api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=learner.headers).is_success
    chunks = _index_course(api, course["id"])
    return {"id": course["id"], "owner": owner, "learner": learner, "chunks": chunks, "module_id": course["module_id"]}


def _ask(api, user, course_id: str, question: str, conversation_id: str | None = None):
    return api.client.post("/api/v1/tutor/ask", headers=user.headers,
                           json={"course_id": course_id, "question": question, "conversation_id": conversation_id})


def _rate(api, user, turn_id: str, body):
    return api.client.put(f"/api/v1/tutor/turns/{turn_id}/rating", headers=user.headers, json=body)


def test_answers_cite_only_indexed_passages(api, course):
    response = _ask(api, course["learner"], course["id"], "When is the condition of a while loop checked?")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["grounded"] and body["generator"] == "extractive"
    indexed = {c.text for c in course["chunks"]}
    assert body["citations"] and all(c["passage"] in indexed for c in body["citations"])
    assert {c["title"] for c in body["citations"]} == {"While loops"}
    assert all(c["section"].count(c["title"]) == 1 and c["section"].endswith(c["heading"].split(" > ")[-1])
               for c in body["citations"]), "each citation names its section, the title once"
    assert "checked before every repetition" in body["answer"] and "[1]" in body["answer"]


def test_an_unanswerable_question_gets_i_dont_know_with_pointers(api, course):
    body = _ask(api, course["learner"], course["id"], "Who won the football world cup in 1998?").json()
    assert not body["grounded"] and body["answer"].startswith(DONT_KNOW)
    assert body["citations"], "the closest sections are pointed to"
    assert {c["title"] for c in body["citations"]} <= set(LESSONS)


def test_conversations_continue_for_their_owner_only_and_every_turn_is_kept(api, course):
    first = _ask(api, course["learner"], course["id"], "What does a slice copy?").json()
    follow_up = _ask(api, course["learner"], course["id"], "And negative indices?", first["conversation_id"])
    assert follow_up.status_code == 200 and follow_up.json()["conversation_id"] == first["conversation_id"]
    stranger = api.user(Role.LEARNER)
    api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=stranger.headers)
    assert _ask(api, stranger, course["id"], "And loops?", first["conversation_id"]).status_code == 404
    with api.client.app.state.database.read() as session:
        turns = session.scalars(select(TutorTurn).where(TutorTurn.conversation_id == first["conversation_id"])
                                .order_by(TutorTurn.created_at)).all()
        assert [t.question for t in turns] == ["What does a slice copy?", "And negative indices?"]
        assert all(t.user_id == course["learner"].id for t in turns)


def test_only_the_courses_learners_its_instructor_and_admins_may_ask(api, course):
    question = "What is a while loop?"
    assert _ask(api, course["owner"], course["id"], question).status_code == 200
    assert _ask(api, api.user(Role.ADMIN), course["id"], question).status_code == 200
    not_enrolled = _ask(api, api.user(Role.LEARNER), course["id"], question)
    assert not_enrolled.status_code == 403 and "enrol" in not_enrolled.json()["detail"]
    assert _ask(api, api.user(Role.INSTRUCTOR), course["id"], question).status_code == 403
    assert _ask(api, api.user(Role.ANALYST), course["id"], question).status_code == 403
    assert _ask(api, course["learner"], "no-such-course", question).status_code == 404
    for question in ("   ", "a\x00b"):
        refused = _ask(api, course["learner"], course["id"], question)
        assert refused.status_code == 422, refused.text
    with api.client.app.state.database.read() as session:
        assert session.scalar(select(func.count()).select_from(TutorTurn)) == 2, "refused questions keep nothing"


def test_re_indexed_content_is_answered_without_a_restart(api, course):
    question = "How do I open a file for writing?"
    assert not _ask(api, course["learner"], course["id"], question).json()["grounded"]
    created = api.client.post(
        f"/api/v1/courses/{course['id']}/modules/{course['module_id']}/items", headers=course["owner"].headers,
        json={"content_type": "lesson", "title": "Files", "skills": ["files"],
              "body": "# Files\n\nThe open function with the mode 'w' opens a file for writing. The file is "
                      "created when it does not exist, and emptied when it does."})
    assert created.status_code == 201
    _index_course(api, course["id"])  # the folder is free: the API holds only its in-memory copy
    body = _ask(api, course["learner"], course["id"], question).json()
    assert body["grounded"] and body["citations"][0]["title"] == "Files"


def test_questions_and_ratings_land_in_the_lake_naming_the_turn(learnlake_home, database_url):
    from fastapi.testclient import TestClient

    from serving.main import create_app
    from tests.serving.core.conftest import CoreApi, core_settings

    settings = core_settings(learnlake_home, database_url, run_committer=True)
    with TestClient(create_app(settings)) as client:
        api = CoreApi(client, settings)
        owner, learner = api.user(Role.INSTRUCTOR), api.user(Role.LEARNER)
        course = api.course(owner, items=1)
        api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=learner.headers)
        reply = _ask(api, learner, course["id"], "Is there anything here?").json()
        for helpful in (False, True, None):
            assert _rate(api, learner, reply["turn_id"], {"helpful": helpful}).status_code == 200
        assert _rate(api, owner, reply["turn_id"], {"helpful": True}).status_code == 404  # lands nothing
    events = read_table("bronze.events", settings=settings).filter(source="tutor").sort("timestamp").to_dicts()
    assert [e["verb"] for e in events] == ["asked", "rated", "rated", "rated"]
    asked, *rated = events
    learner_id = client.app.state.pseudonyms.learner_id(learner.id)
    assert asked["object_id"] == reply["conversation_id"] and asked["course_id"] == course["id"]
    assert asked["learner_id"] == learner_id and asked["result_response"] == "Is there anything here?"
    assert orjson.loads(asked["payload"])["tutor"]["turn_id"] == reply["turn_id"], "a rating joins its question"
    assert [(e["object_type"], e["object_id"], e["course_id"], e["learner_id"], e["context_session_id"])
            for e in rated] == [("tutor_answer", reply["turn_id"], course["id"], learner_id,
                                 reply["conversation_id"])] * 3
    assert [(e["result_success"], e["result_score"]) for e in rated] == [(False, 0.0), (True, 1.0), (None, None)]
    assert [orjson.loads(e["payload"])["tutor"]["rating"] for e in rated] == ["unhelpful", "helpful", "withdrawn"]


def _passage(text: str, skills: tuple[str, ...], similarity: float) -> Passage:
    return Passage(Chunk(f"c/{text}#0", "c", text, text, text, text, text, skills), 0.0, 0, similarity)


def test_weak_skills_put_their_relevant_passages_first_and_never_pull_in_irrelevant_ones():
    strong, weak, off_topic = _passage("a", ("s1",), 0.8), _passage("b", ("s2",), 0.5), _passage("c", ("s3",), 0.1)
    mastery = {"s1": 0.9, "s2": 0.3, "s3": 0.05}
    assert weak_skills_first([strong, weak, off_topic], mastery) == [weak, strong, off_topic]
    assert weak_skills_first([strong, weak, off_topic], None) == [strong, weak, off_topic]


def test_the_asker_rates_an_answer_changes_their_mind_and_the_rating_is_kept_with_the_turn(api, course):
    reply = _ask(api, course["learner"], course["id"], "What does a slice copy?").json()
    rated = _rate(api, course["learner"], reply["turn_id"], {"helpful": True})
    assert rated.status_code == 200, rated.text
    assert rated.json()["helpful"] is True and rated.json()["rated_at"]
    assert _rate(api, course["learner"], reply["turn_id"], {"helpful": False}).json()["helpful"] is False
    with api.client.app.state.database.read() as session:
        turn = session.get(TutorTurn, reply["turn_id"])
        assert turn.helpful is False and turn.rated_at is not None and turn.question == "What does a slice copy?"
        assert [c["title"] for c in turn.citations] == [c["title"] for c in reply["citations"]], "what was judged"
    taken_back = _rate(api, course["learner"], reply["turn_id"], {"helpful": None}).json()
    assert taken_back["helpful"] is None and taken_back["rated_at"] is None


def test_later_askers_get_what_earlier_askers_ratings_taught_and_erased_ratings_are_forgotten(api, course,
                                                                                             monkeypatch):
    question = "What does a slice such as s[1:3] copy?"
    state = api.client.app.state

    def remembered():
        with state.database.read() as session:
            return state.tutor_ratings.for_course(session, course["id"])

    def first_section(rated) -> str:
        return state.tutor.ask(course["id"], question, rated=rated).passages[0].chunk.document_id

    slicing = next(c.document_id for c in course["chunks"] if c.title == "Slicing")
    assert first_section(remembered()) == slicing
    askers = [api.user(Role.LEARNER) for _ in range(3)]
    for asker in askers:
        assert api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=asker.headers).is_success
        reply = _ask(api, asker, course["id"], question).json()
        with state.database.read() as session:  # the turn keeps which section each citation is from
            assert [c["document_id"] for c in session.get(TutorTurn, reply["turn_id"]).citations] == [slicing]
        assert _rate(api, asker, reply["turn_id"], {"helpful": False}).status_code == 200
    rated = remembered()
    assert rated.helpful == [False] * 3 and rated.documents == [(slicing,)] * 3 and rated.vectors.shape == (3, 384)
    assert sorted(rated.askers) == sorted(a.id for a in askers)
    # A replica that has just started takes the ratings in over its first questions, the newest first.
    monkeypatch.setattr(tutor_ratings, "EMBEDDED_PER_ASK", 2)
    restarted = tutor_ratings.RatedAnswersCache()
    with state.database.read() as session:
        assert [len(restarted.for_course(session, course["id"]).helpful) for _ in range(2)] == [2, 3]
    # Three askers found the slicing lesson no help with this question: the next asker's first passage is another.
    assert first_section(rated) != slicing
    # A rating taken back and an asker erased are forgotten from the next question on.
    assert _rate(api, askers[0], _turn_of(api, askers[0]), {"helpful": None}).status_code == 200
    admin = api.user(Role.ADMIN)
    assert api.client.post(f"/api/v1/admin/users/{askers[1].id}/erasure", headers=admin.headers).status_code == 202
    assert remembered().helpful == [False]
    assert first_section(remembered()) == slicing, "one asker's rating alone does not move a section"


def _turn_of(api, user) -> str:
    with api.client.app.state.database.read() as session:
        return session.scalars(select(TutorTurn.id).where(TutorTurn.user_id == user.id)).one()


def test_only_the_asker_may_rate_and_bad_ratings_change_nothing(api, course):
    reply = _ask(api, course["learner"], course["id"], "When is the condition of a while loop checked?").json()
    turn_id = reply["turn_id"]
    assert _rate(api, course["learner"], turn_id, {"helpful": True}).status_code == 200
    # Someone else's answer is as missing as one that never was: its id tells a stranger nothing.
    for other in (course["owner"], api.user(Role.ADMIN), api.user(Role.LEARNER)):
        refused = _rate(api, other, turn_id, {"helpful": False})
        assert refused.status_code == 404 and "of yours" in refused.json()["detail"]
    assert _rate(api, course["learner"], "no-such-turn", {"helpful": True}).status_code == 404
    assert api.client.put(f"/api/v1/tutor/turns/{turn_id}/rating", json={"helpful": False}).status_code == 401
    assert _rate(api, api.user(Role.ANALYST), turn_id, {"helpful": False}).status_code == 403
    for body in ({}, {"helpful": "yes"}, {"helpful": 0}, {"helpful": True, "comment": "extra"}, [True],
                 {"helpful": {"nested": [[[True]]]}}, {"helpful": "a" * 100_000}):
        refused = _rate(api, course["learner"], turn_id, body)
        assert refused.status_code == 422, (body, refused.text)
    assert _rate(api, course["learner"], "x" * 37, {"helpful": False}).status_code == 422
    with api.client.app.state.database.read() as session:
        assert session.get(TutorTurn, turn_id).helpful is True, "no refused rating changed the kept one"


def test_the_instructor_sees_what_the_tutor_could_not_help_with_and_no_asker_is_named(api, course):
    learner = course["learner"]
    unhelpful = _ask(api, learner, course["id"], "What does a slice copy?").json()
    helpful = _ask(api, learner, course["id"], "When is the condition of a while loop checked?").json()
    unanswered = _ask(api, learner, course["id"], "I am jane.doe@example.org: who won the football world cup "
                                                  "in 1998?").json()
    assert not unanswered["grounded"] and unhelpful["grounded"] and helpful["grounded"]
    _rate(api, learner, unhelpful["turn_id"], {"helpful": False})
    _rate(api, learner, helpful["turn_id"], {"helpful": True})
    report = api.client.get(f"/api/v1/courses/{course['id']}/tutor-report", headers=course["owner"].headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["asked"], body["answered_from_material"], body["rated"], body["rated_helpful"]) == (3, 2, 2, 1)
    # The sections their answers cited, the most often unhelpful first.
    assert body["sections"][0] == {"section": "Slicing", "rated_helpful": 0, "rated_unhelpful": 1}
    assert {"section": "While loops", "rated_helpful": 1, "rated_unhelpful": 0} in body["sections"]
    assert [t["turn_id"] for t in body["to_look_at"]] == [unanswered["turn_id"], unhelpful["turn_id"]], "newest first"
    assert body["total_to_look_at"] == 2 and body["to_look_at"][1]["helpful"] is False
    assert body["to_look_at"][1]["cited"][0] == "Slicing", "the section, its title once (heading \"Slicing\")"
    assert learner.id not in report.text and learner.email not in report.text
    assert body["to_look_at"][0]["question"] == "I am <email>: who won the football world cup in 1998?"
    assert "jane.doe" not in report.text, "an address typed into a question does not name its asker"
    with api.client.app.state.database.read() as session:
        logged = session.scalars(select(AccessRecord).where(AccessRecord.action == "tutor_report")).all()
        assert [(r.reader_id, r.learner_id) for r in logged] == [(course["owner"].id, learner.id)]
    paged = api.client.get(f"/api/v1/courses/{course['id']}/tutor-report", params={"limit": 1, "offset": 1},
                           headers=course["owner"].headers).json()
    assert [t["turn_id"] for t in paged["to_look_at"]] == [unhelpful["turn_id"]] and paged["total_to_look_at"] == 2


def test_only_the_courses_instructor_and_admins_read_its_tutor_report(api, course):
    path = f"/api/v1/courses/{course['id']}/tutor-report"
    assert api.client.get(path, headers=api.user(Role.ADMIN).headers).status_code == 200
    assert api.client.get(path).status_code == 401
    for other in (course["learner"], api.user(Role.INSTRUCTOR), api.user(Role.ANALYST), api.user(Role.ML_ENGINEER)):
        assert api.client.get(path, headers=other.headers).status_code in (403, 404)
    assert api.client.get("/api/v1/courses/no-such-course/tutor-report",
                          headers=course["owner"].headers).status_code == 404
    for params in ({"limit": 0}, {"limit": 10**9}, {"offset": -1}, {"limit": "many"}):
        assert api.client.get(path, params=params, headers=course["owner"].headers).status_code == 422, params
