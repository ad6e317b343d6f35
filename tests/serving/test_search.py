"""``GET /api/v1/search`` on the trained demo: hybrid results with snippets and facets, filters, a draft
course's content shown only to whoever may edit it, and hostile queries answered with a 4xx."""

import time

import pytest

from serving.search import CHECK_EVERY_S

pytestmark = pytest.mark.integration
SECRET_WORD = "quokkalooping"  # in the draft course's lesson only


@pytest.fixture(scope="module")
def api(demo_app):
    return demo_app["client"], demo_app["headers"]


def _search(api, who: str, **params):
    client, tokens = api
    return client.get("/api/v1/search", params=params, headers=tokens[who])


def test_a_learner_finds_lessons_with_snippets_highlights_and_facets(api):
    response = _search(api, "learner", q="looping over lists", limit=5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "hybrid" and body["total"] >= len(body["results"]) > 0
    top = body["results"][0]
    assert top["title"] and top["course_title"] and top["module_title"] and top["tags"]
    assert all(top["snippet"][a:b].lower().startswith(("loop", "list")) for a, b in top["highlights"])
    assert top["highlights"] and set(top["matched_by"]) <= {"keyword", "semantic"}
    assert set(body["facets"]) == {"course", "module", "type", "difficulty", "tags"}
    assert sum(f["count"] for f in body["facets"]["course"]) == body["total"]
    # The facets' values are the filters' values: narrowing by one gives its count.
    course = body["facets"]["course"][0]
    narrowed = _search(api, "learner", q="looping over lists", course_id=course["value"]).json()
    assert narrowed["total"] == course["count"] and {r["course_id"] for r in narrowed["results"]} == {course["value"]}
    kind = body["facets"]["type"][0]
    assert _search(api, "learner", q="looping over lists", type=kind["value"]).json()["total"] == kind["count"]
    keyword = _search(api, "learner", q="looping over lists", mode="keyword").json()
    assert keyword["mode"] == "keyword" and all(r["matched_by"] == ["keyword"] for r in keyword["results"])


def test_a_draft_courses_content_is_found_only_by_whoever_may_edit_it(api):
    client, tokens = api
    course = client.post("/api/v1/courses", json={"title": "Unreleased"}, headers=tokens["teacher"]).json()
    module = client.post(f"/api/v1/courses/{course['id']}/modules", json={"title": "Secrets"},
                         headers=tokens["teacher"]).json()
    created = client.post(f"/api/v1/courses/{course['id']}/modules/{module['id']}/items", headers=tokens["teacher"],
                          json={"content_type": "lesson", "title": "Hidden lesson",
                                "body": f"The {SECRET_WORD} technique, not published yet."})
    assert created.status_code == 201, created.text
    time.sleep(CHECK_EVERY_S + 0.1)  # the index looks for changed content this often
    for who, found in (("teacher", 1), ("admin", 1), ("learner", 0), ("other_teacher", 0)):
        assert _search(api, who, q=SECRET_WORD).json()["total"] == found, who
    assert _search(api, "learner", q=SECRET_WORD, course_id=course["id"]).status_code == 404
    try:
        assert client.post(f"/api/v1/courses/{course['id']}/publish", headers=tokens["teacher"]).status_code == 200
        hit = _search(api, "learner", q=SECRET_WORD).json()["results"]
        assert [r["title"] for r in hit] == ["Hidden lesson"], "published: everyone may find it"
    finally:  # the shared demo is put back as it was
        assert client.delete(f"/api/v1/courses/{course['id']}", headers=tokens["teacher"]).status_code == 204
    time.sleep(CHECK_EVERY_S + 0.1)
    assert _search(api, "teacher", q=SECRET_WORD).json()["total"] == 0, "deleted: found by no one"


@pytest.mark.parametrize(("params", "status"), [
    ({}, 422), ({"q": ""}, 422), ({"q": "   "}, 422), ({"q": "x" * 501}, 422),
    ({"q": "loops", "limit": 0}, 422), ({"q": "loops", "limit": 51}, 422), ({"q": "loops", "limit": "ten"}, 422),
    ({"q": "loops", "type": "podcast"}, 422), ({"q": "loops", "difficulty": "brutal"}, 422),
    ({"q": "loops", "mode": "fuzzy"}, 422), ({"q": "loops", "tags": ",".join(["t"] * 21)}, 422),
    ({"q": "loops", "course_id": "x" * 37}, 422), ({"q": "loops", "course_id": "no-such-course"}, 404),
    ({"q": "loops", "tags": "no such tag"}, 200), ({"q": "loops", "module_id": "nowhere"}, 200),
    ({"q": "\x00loops"}, 422), ({"q": "' or 1=1 --"}, 200), ({"q": "[[[[{{{{" * 50}, 200),
])
def test_hostile_and_malformed_queries_get_a_reason_never_a_500(api, params, status):
    response = _search(api, "learner", **params)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["detail"]


def test_search_needs_a_signed_in_user(api):
    client, _ = api
    assert client.get("/api/v1/search", params={"q": "loops"}).status_code == 401
    bad = client.get("/api/v1/search", params={"q": "loops"}, headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401
