"""Written answers over the API on the trained demo: an instructor sets how an item is graded, learners'
answers get a score, feedback citing the material and a confidence, unsure grades wait in the instructor's
queue until a person grades them, and every answer lands for the lake. Hostile and malformed input gets a
reason and changes nothing."""

import orjson
import pytest

pytestmark = pytest.mark.integration

SAMPLING = {"reference": "A sample is a subset of the population, chosen at random.",
            "key_points": ["a sample is a subset of the population", "it is chosen at random"], "points": 2}


@pytest.fixture(scope="module")
def items(demo_app):
    """Two items of the course: one graded by key points, one whose answer is a value."""
    client, course = demo_app["client"], demo_app["course"]
    modules = client.get(f"/api/v1/courses/{course}/modules", headers=demo_app["headers"]["teacher"]).json()
    ids = [item["id"] for module in modules for item in module["items"]][:3]
    for item_id, assessment in zip(ids, (SAMPLING, {"reference": "42", "points": 1}), strict=False):
        set_ = client.put(_path(course, item_id, "assessment"), json=assessment, headers=demo_app["headers"]["teacher"])
        assert set_.status_code == 200, set_.text
    return {"concept": ids[0], "value": ids[1], "ungraded": ids[2]}


def _path(course: str, item: str, what: str) -> str:
    return f"/api/v1/courses/{course}/items/{item}/{what}"


def _answer(demo_app, who: str, item: str, body, course: str | None = None):
    return demo_app["client"].post(_path(course or demo_app["course"], item, "answers"), json=body,
                                   headers=demo_app["headers"][who])


def _queue(demo_app, who: str, **params):
    return demo_app["client"].get(f"/api/v1/courses/{demo_app['course']}/review-queue", params=params,
                                  headers=demo_app["headers"][who])


def test_answers_get_a_score_feedback_citing_the_material_and_reach_the_lake(demo_app, items):
    landing = demo_app["client"].app.state.landing
    seq = landing.last_seq()
    full = _answer(demo_app, "learner", items["concept"],
                   {"answer": "A sample is a subset of the population. It is chosen at random."})
    assert full.status_code == 201, full.text
    full = full.json()
    assert (full["score"], full["points"], full["status"]) == (2, 2, "graded") and full["confidence"] >= 0.7
    assert full["citation"]["title"] and full["citation"]["text"] and full["citation"]["title"] in full["feedback"]
    section = full["citation"]["section"]
    assert f'Read "{section}"' in full["feedback"] and section.count(full["citation"]["title"]) == 1
    half = _answer(demo_app, "learner", items["concept"],
                   {"answer": "a sample is a subset of the population"}).json()
    assert half["score"] == 1 and half["missed"] == ["it is chosen at random"] and "Missing" in half["feedback"]
    none = _answer(demo_app, "learner", items["concept"], {"answer": "I do not know"}).json()
    assert none["score"] == 0 and none["missed"] == [], "the learner is not shown the reference answer"
    wrong_value = _answer(demo_app, "learner", items["value"], {"answer": "It is 24."}).json()
    assert wrong_value["score"] == 0 and wrong_value["points"] == 1
    landed = [e for b in landing.read_after(seq, 100) if b.source == "grading" for e in orjson.loads(b.body)]
    assert [e["result"]["score"] for e in landed] == [1.0, 0.5, 0.0, 0.0]
    assert all(e["verb"] == "answered" and e["object"]["id"] in (items["concept"], items["value"]) for e in landed)
    mine = demo_app["client"].get(_path(demo_app["course"], items["concept"], "answers"),
                                  headers=demo_app["headers"]["learner"]).json()
    assert mine["total"] >= 3 and mine["items"][0]["answer"] == "I do not know", "newest first"


def test_an_unsure_grade_waits_for_the_instructor_who_grades_it(demo_app, items):
    hedged = _answer(demo_app, "learner", items["value"], {"answer": "42 or maybe 24"}).json()
    assert hedged["status"] == "pending_review" and hedged["confidence"] < 0.7 and hedged["conflicts"]
    assert "instructor will check" in hedged["feedback"]
    queue = _queue(demo_app, "teacher").json()
    queued = next(q for q in queue["items"] if q["answer_id"] == hedged["answer_id"])
    assert queued["reference"] == "42" and queued["learner_name"] and queued["item_title"]
    assert all(q["status"] == "pending_review" for q in queue["items"])
    path = f"/api/v1/courses/{demo_app['course']}/review-queue/{hedged['answer_id']}"
    client, teacher = demo_app["client"], demo_app["headers"]["teacher"]
    assert client.post(path, json={"score": 2}, headers=teacher).status_code == 422, "over the item's points"
    graded = client.post(path, json={"score": 0, "comment": "Pick one answer."}, headers=teacher)
    assert graded.status_code == 200 and graded.json()["status"] == "reviewed" and graded.json()["score"] == 0
    assert hedged["answer_id"] not in {q["answer_id"] for q in _queue(demo_app, "teacher").json()["items"]}
    mine = client.get(_path(demo_app["course"], items["value"], "answers"), headers=demo_app["headers"]["learner"])
    seen = next(a for a in mine.json()["items"] if a["answer_id"] == hedged["answer_id"])
    assert (seen["score"], seen["automatic_score"], seen["reviewer_comment"]) == (0, hedged["score"], "Pick one answer.")
    assert client.post(f"/api/v1/courses/{demo_app['course']}/review-queue/no-such-answer", json={"score": 0},
                       headers=teacher).status_code == 404


def test_learners_see_which_items_take_written_answers_but_never_the_reference(demo_app, items):
    client, course, headers = demo_app["client"], demo_app["course"], demo_app["headers"]
    listed = client.get(f"/api/v1/courses/{course}/written-items", headers=headers["learner"])
    assert listed.status_code == 200
    assert [(i["item_id"], i["points"]) for i in listed.json()] == [(items["concept"], 2), (items["value"], 1)]
    assert SAMPLING["reference"] not in listed.text and all(i["question"] for i in listed.json())
    assert client.get(f"/api/v1/courses/{course}/written-items", headers=headers["outsider"]).status_code == 403
    assert client.get(f"/api/v1/courses/{course}/written-items").status_code == 401


def test_only_those_who_may_see_each_part_see_it(demo_app, items):
    client, course, headers = demo_app["client"], demo_app["course"], demo_app["headers"]
    assessment = _path(course, items["concept"], "assessment")
    assert client.get(assessment, headers=headers["teacher"]).json()["key_points"] == SAMPLING["key_points"]
    assert client.get(assessment, headers=headers["admin"]).status_code == 200
    for who in ("learner", "outsider"):
        assert client.get(assessment, headers=headers[who]).status_code == 403, "learners never see the reference"
        assert client.put(assessment, json=SAMPLING, headers=headers[who]).status_code == 403
        assert _queue(demo_app, who).status_code == 403
    assert client.get(assessment, headers=headers["other_teacher"]).status_code == 403
    assert _queue(demo_app, "other_teacher").status_code == 403
    assert _answer(demo_app, "outsider", items["concept"], {"answer": "x"}).status_code == 403
    assert client.post(_path(course, items["concept"], "answers"), json={"answer": "x"}).status_code == 401
    assert client.get(f"/api/v1/courses/{course}/review-queue").status_code == 401
    assert _answer(demo_app, "learner", items["ungraded"], {"answer": "x"}).status_code == 404
    assert _answer(demo_app, "learner", "no-such-item", {"answer": "x"}).status_code == 404
    assert _answer(demo_app, "learner", items["concept"], {"answer": "x"}, course="no-such-course").status_code == 404
    assert client.get(_path(course, items["ungraded"], "assessment"), headers=headers["teacher"]).status_code == 404


@pytest.mark.parametrize(("body", "status"), [
    ({"answer": ""}, 422), ({"answer": "   "}, 422), ({"answer": "x" * 5001}, 422), ({}, 422), ({"answer": 5}, 422),
    ({"answer": "x", "extra": 1}, 422), ([], 422), ({"answer": {"$gt": ""}}, 422), ({"answer": "a\u0000b"}, 422),
    ({"answer": [[[["deep"]]]]}, 422),
])
def test_malformed_answers_get_a_reason_and_store_nothing(demo_app, items, body, status):
    landing = demo_app["client"].app.state.landing
    seq = landing.last_seq()
    before = _queue(demo_app, "teacher", status="all").json()["total"]
    response = _answer(demo_app, "learner", items["concept"], body)
    assert response.status_code == status and response.json()["detail"]
    assert landing.last_seq() == seq and _queue(demo_app, "teacher", status="all").json()["total"] == before


@pytest.mark.parametrize("body", [
    {"reference": ""}, {"reference": "x" * 5001}, {"reference": "x", "points": 0}, {"reference": "x", "points": 11},
    {"reference": "x", "key_points": ["p"] * 21}, {"reference": "x", "key_points": [""]}, {"reference": "x", "key_points": "p"},
    {"reference": "x", "unknown": 1}, {"reference": "a\u0000b"},
])
def test_malformed_assessments_get_a_reason_and_change_nothing(demo_app, items, body):
    path = _path(demo_app["course"], items["concept"], "assessment")
    headers = demo_app["headers"]["teacher"]
    response = demo_app["client"].put(path, json=body, headers=headers)
    assert response.status_code == 422 and response.json()["detail"]
    assert demo_app["client"].get(path, headers=headers).json()["reference"] == SAMPLING["reference"]


@pytest.mark.parametrize(("params", "body"), [
    ({"status": "nope"}, None), ({"limit": 0}, None), ({"limit": 201}, None), ({"offset": -1}, None),
    (None, {"score": -1}), (None, {"score": 11}), (None, {"score": "two"}), (None, {"score": 1, "comment": "c" * 2001}),
])
def test_malformed_queue_requests_get_a_reason(demo_app, items, params, body):
    client, headers = demo_app["client"], demo_app["headers"]["teacher"]
    if params is not None:
        response = _queue(demo_app, "teacher", **params)
    else:
        answer_id = _answer(demo_app, "learner", items["value"], {"answer": "42"}).json()["answer_id"]
        response = client.post(f"/api/v1/courses/{demo_app['course']}/review-queue/{answer_id}", json=body,
                               headers=headers)
    assert response.status_code == 422 and response.json()["detail"]
