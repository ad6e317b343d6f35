"""One bound on every JSON body: its size and its depth, then strict JSON, on the core API, xAPI
and native events alike; errors that name the problem without echoing what was sent."""

import base64
import uuid

import orjson
import pytest
from fastapi.testclient import TestClient

from lake.events import EXTENSION_DEPTH, MAX_EVENT_DEPTH
from serving.core.enums import Role
from serving.main import create_app
from tests.serving.conftest import source_key
from tests.serving.core.conftest import PASSWORD, CoreApi, core_settings

MAX_BYTES = 64 * 1024
MAX_DEPTH = 12
V = {"X-Experience-API-Version": "1.0.3"}


def nested(depth: int) -> dict:
    """An object ``depth`` levels deep: ``{}`` is 1."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def padded(body: dict, size: int, field: tuple[str, ...]) -> bytes:
    """``body`` serialised to exactly ``size`` bytes by filling the string at ``field``."""
    target = body
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = ""
    fill = size - len(orjson.dumps(body))
    target[field[-1]] = "x" * fill
    encoded = orjson.dumps(body)
    assert len(encoded) == size
    return encoded


@pytest.fixture
def api(learnlake_home, database_url):
    settings = core_settings(learnlake_home, database_url, max_body_bytes=MAX_BYTES, max_json_depth=MAX_DEPTH)
    with TestClient(create_app(settings)) as client:
        api = CoreApi(client, settings)
        api.instructor = api.user(Role.INSTRUCTOR)
        api.key = source_key(client.app, "bounds")
        yield api


def _course(api, body: bytes):
    return api.client.post("/api/v1/courses", content=body,
                           headers={**api.instructor.headers, "Content-Type": "application/json"})


def _statement(**changes) -> dict:
    return {"actor": {"mbox": "mailto:ada@example.org"}, "verb": {"id": "http://example.org/verbs/did"},
            "object": {"id": "http://example.org/things/1"}, **changes}


def _xapi(api, body: bytes):
    return api.client.post("/xapi/statements", content=body, auth=("bounds", api.key),
                           headers={**V, "Content-Type": "application/json"})


def _event(**changes) -> dict:
    return {"event_id": str(uuid.uuid4()), "learner_id": "lrn_a", "verb": "viewed",
            "object": {"type": "lesson", "id": "l-1"}, "timestamp": "2026-09-07T10:15:00Z", **changes}


def _events_of_size(size: int) -> bytes:
    """A batch of exactly ``size`` bytes, of events with notes within the rule for added fields."""
    batch = []
    while len(orjson.dumps(batch)) + 9_000 < size:
        batch.append(_event(notes="x" * 8_000))
    batch.append(_event(notes=""))
    batch[-1]["notes"] = "x" * (size - len(orjson.dumps(batch)))
    assert len(orjson.dumps(batch)) == size
    return orjson.dumps(batch)


def _events(api, body: bytes):
    return api.client.post("/v1/events", content=body, headers={"Authorization": f"Bearer {api.key}"})


def test_the_deepest_allowed_body_works_and_one_level_more_is_refused(api):
    # Each kind of body holds an open object at its own depth: course metadata sits at level 2,
    # xAPI extensions at level 3 (statement, context, extensions).
    course = _course(api, orjson.dumps({"title": "Deep", "metadata": nested(MAX_DEPTH - 1)}))
    assert course.status_code == 201, course.text
    too_deep = _course(api, orjson.dumps({"title": "Deeper", "metadata": nested(MAX_DEPTH)}))
    assert too_deep.status_code == 422 and "nested more than" in too_deep.text

    extensions = lambda depth: {"extensions": {"http://example.org/x": nested(depth)}}
    assert _xapi(api, orjson.dumps(_statement(context=extensions(MAX_DEPTH - 3)))).status_code == 200
    refused = _xapi(api, orjson.dumps(_statement(context=extensions(MAX_DEPTH - 2))))
    assert refused.status_code == 400 and "nested more than" in refused.text

    # Native events nest less deep than the bound: their schema limits what a newer client adds.
    assert MAX_EVENT_DEPTH <= MAX_DEPTH
    assert _events(api, orjson.dumps([_event(device=nested(EXTENSION_DEPTH))])).status_code == 202
    assert _events(api, orjson.dumps([_event(device=nested(EXTENSION_DEPTH + 1))])).status_code == 422
    deep = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    assert _events(api, deep).status_code in (400, 422)

    # What was stored can be read back, by every reader.
    learner = api.user()
    assert api.client.get(f"/api/v1/courses/{course.json()['id']}", headers=api.instructor.headers).status_code == 200
    assert api.client.get("/api/v1/courses", headers=learner.headers).status_code == 200


def test_the_largest_allowed_body_works_and_one_byte_more_is_refused(api):
    for size, status in ((MAX_BYTES, 201), (MAX_BYTES + 1, 413)):
        body = padded({"title": "Big", "metadata": {"notes": ""}}, size, ("metadata", "notes"))
        assert _course(api, body).status_code == status
    for size, status in ((MAX_BYTES, 200), (MAX_BYTES + 1, 413)):
        body = padded(_statement(result={"response": ""}), size, ("result", "response"))
        assert _xapi(api, body).status_code == status
    for size, status in ((MAX_BYTES, 202), (MAX_BYTES + 1, 413)):
        assert _events(api, _events_of_size(size)).status_code == status


def test_no_declared_length_is_no_way_around_the_bound(api):
    def chunks():  # a streamed body: the bound holds while reading
        for _ in range(4):
            yield b" " * (MAX_BYTES // 2)

    headers = {**api.instructor.headers, "Content-Type": "application/json"}
    assert api.client.post("/api/v1/courses", content=chunks(), headers=headers).status_code == 413


POISONS = {
    "lone surrogate": b'{"title": "\\ud800", "name": "\\udfff", "email": "\\ud800@example.org", "x": 1}',
    "NaN": b'{"title": NaN, "score": NaN, "x": NaN}',
    "Infinity": b'{"title": Infinity, "score": -Infinity}',
    "huge number": b'{"title": 1e999, "score": 1e999}',
    "100,000 levels": b"[" * 100_000 + b"]" * 100_000,
    "invalid UTF-8": b'{"title": "\xff\xfe"}',
    "not JSON": b"{'title': 'single quotes'}",
}


def _body_operations(app) -> list[tuple[str, str]]:
    """Every (method, path) of the published API that takes a request body."""
    return [(method.upper(), path) for path, item in app.openapi()["paths"].items()
            for method, operation in item.items() if "requestBody" in operation or path == "/v1/events"
            or path == "/xapi/statements" and method in ("post", "put")]


@pytest.mark.parametrize("poison", list(POISONS), ids=list(POISONS))
def test_every_body_of_every_route_refuses_values_no_store_can_hold(api, poison):
    admin = api.user(Role.ADMIN)
    course = api.course(api.instructor, items=1)
    operations = _body_operations(api.client.app)
    assert len(operations) >= 15
    for method, path in operations:
        url = path.format(course_id=course["id"], module_id=course["module_id"], item_id=course["item_ids"][0],
                          user_id=admin.id, name="bounds", question_id="0" * 16, answer_id="0" * 16, turn_id="0" * 16)
        if path.startswith("/xapi"):
            auth = {"Authorization": "Basic " + base64.b64encode(f"bounds:{api.key}".encode()).decode(), **V}
        elif path == "/v1/events":
            auth = {"Authorization": f"Bearer {api.key}"}
        else:
            auth = admin.headers
        answer = api.client.request(method, url, content=POISONS[poison],
                                    headers={**auth, "Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500, f"{method} {path}: {answer.status_code} {answer.text[:200]}"
    # Nothing stored was damaged: every reader still reads.
    assert api.client.get("/api/v1/courses", headers=admin.headers).status_code == 200
    assert api.client.get("/api/v1/users", headers=admin.headers).status_code == 200


def test_sign_in_refuses_a_lone_surrogate_without_an_account(api):
    for body in (b'{"email": "\\ud800", "password": "x"}', b'{"email": "a@example.org", "password": "\\ud800"}'):
        answer = api.client.post("/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 422


def test_a_progress_report_with_a_nan_score_is_refused(api):
    learner = api.user()
    course = api.course(api.instructor, items=1)
    api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=learner.headers)
    body = f'{{"item_id": "{course["item_ids"][0]}", "status": "completed", "score": NaN}}'.encode()
    answer = api.client.post(f"/api/v1/courses/{course['id']}/progress", content=body,
                             headers={**learner.headers, "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert api.client.get(f"/api/v1/courses/{course['id']}/progress", headers=learner.headers).status_code == 200


def test_errors_quote_a_short_excerpt_and_never_a_password(api):
    big = "y" * 60_000
    answer = _course(api, orjson.dumps({"title": big}))
    assert answer.status_code == 422
    assert len(answer.content) < 1000 and big[:100] not in answer.text
    secret = "my-secret-" + "z" * 300
    for path, body in (("/api/v1/auth/register", {"email": "s@example.org", "name": "S", "password": secret}),
                       ("/api/v1/auth/login", {"email": "s@example.org", "password": secret}),
                       ("/api/v1/auth/register", {"email": "s@example.org", "name": "S", "password": "password123"})):
        answer = api.client.post(path, json=body)
        assert answer.status_code == 422
        assert "my-secret" not in answer.text and "password123" not in answer.text
    me = api.user()
    changed = api.client.patch("/api/v1/users/me", json={"password": secret, "current_password": PASSWORD},
                               headers=me.headers)
    assert changed.status_code == 422 and "my-secret" not in changed.text
