"""Walks every core API endpoint with every role and checks the answer against the one matrix.

For each route a new world is built, in the app and database the module shares (on SQLite, then on
PostgreSQL), among the worlds of the cases before: an instructor who owns a published course with a
module and items, a learner enrolled in it (someone else's data for every caller), and the
caller, a fresh user of the role under test, enrolled where that role may study. Then:

- a role without the route's permission gets 403;
- a role whose scope is its OWN resources gets 403 or 404 on the other instructor's course
  and its 2xx on its own (its own account, its own course, its own enrollment);
- a role with ANY scope gets its 2xx;
- no answer to anyone but an admin or the course's instructor names the other learner.
"""

import uuid

import pytest
from fastapi.routing import APIRoute

from serving.core.enums import NotificationKind, Role
from serving.core.permissions import MATRIX, Permission, Scope, scope_of
from serving.core.source_keys import create_key
from serving.core.tables import TutorTurn
from serving.main import create_app
from serving.notifications.inbox import notify
from tests.serving.core.conftest import PASSWORD

# Routes that take no permission: signing in comes before having one. The popular-items
# route (models) and ingestion have their own authentication (issue 7, xAPI Basic).
PUBLIC = {("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/refresh"),
          ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/courses/{course_id}/popular-items")}
# Permissions whose OWN scope means "the caller's own data", always at hand (the tutor: in courses one studies).
SELF_PERMISSIONS = {Permission.READ_SELF, Permission.UPDATE_SELF, Permission.STUDY, Permission.CREATE_COURSE,
                    Permission.ASK_TUTOR}
# Routes that answer from trained models or the published warehouse: this world has neither, so
# a caller who is let through gets 503 ("train first"); tests/serving/test_learner_models.py
# walks them again on a trained demo.
NEEDS_MODELS_OR_WAREHOUSE = {"/api/v1/learners/{user_id}/mastery", "/api/v1/learners/{user_id}/recommendations",
                             "/api/v1/learners/{user_id}/reviews",
                             "/api/v1/courses/{course_id}/at-risk", "/api/v1/analytics/courses/{course_id}/cohort-report",
                             "/api/v1/analytics/platform", "/api/v1/courses/{course_id}/learners/{user_id}/activity",
                             "/api/v1/models/dropout/live-scores"}

# Practice questions are made from the tutor's indexed passages: this world indexes none, so a caller let through
# is told the question does not exist (tests/serving/test_practice.py answers them on a trained demo).
NEEDS_INDEXED_PASSAGES = {"/api/v1/courses/{course_id}/practice/{question_id}/answers",
                          "/api/v1/courses/{course_id}/practice/{question_id}/withdrawal"}


def _permission_of(route: APIRoute) -> Permission | None:
    found = [getattr(dep.call, "permission", None) for dep in route.dependant.dependencies]
    found = [p for p in found if p is not None]
    assert len(found) <= 1, f"{route.path} requires several permissions: {found}"
    return found[0] if found else None


def _api_routes(routes) -> list[APIRoute]:
    """Every APIRoute, looking inside included routers (FastAPI keeps them nested)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_api_routes(route.original_router.routes))
    return found


def _core_routes(app) -> list[tuple[str, str, Permission]]:
    routes = []
    api_routes = _api_routes(app.routes)
    # The walk sees exactly the endpoints the OpenAPI document publishes (and /metrics, kept out of it: Prometheus
    # reads it, with its own token; tests/serving/test_telemetry.py).
    published = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    assert {(m, r.path) for r in api_routes for m in r.methods if r.include_in_schema} == published
    assert {r.path for r in api_routes if not r.include_in_schema} <= {"/metrics"}
    for route in api_routes:
        if not route.path.startswith("/api/v1"):
            continue
        for method in route.methods:
            permission = _permission_of(route)
            if permission is None:
                assert (method, route.path) in PUBLIC, f"{method} {route.path} declares no permission"
                continue
            routes.append((method, route.path, permission))
    return sorted(routes)


APP = create_app()
ROUTES = _core_routes(APP)


def test_the_walk_covers_every_permission_and_every_role_holds_something():
    # Every permission guards a route; all but ingestion monitoring (/v1/ingest/status, which a source's
    # key may call too: tests/serving/test_ingest_events.py) guard core API routes walked here.
    assert {p for route in _api_routes(APP.routes) if (p := _permission_of(route)) is not None} == set(Permission)
    assert {permission for _, _, permission in ROUTES} == set(Permission) - {Permission.MONITOR_INGESTION}
    assert set(MATRIX) == set(Permission)
    for role in Role:
        assert any(scope_of(role, permission) for permission in Permission)


def _body(method: str, path: str, world: dict) -> dict | None:
    if method in ("GET", "DELETE"):
        return None
    if path.endswith("/auth/register"):
        return None
    bodies = {
        ("PATCH", "/api/v1/users/me"): {"name": "New Name"},
        ("PATCH", "/api/v1/users/{user_id}"): {"name": "Renamed"},
        ("POST", "/api/v1/courses"): {"title": "A new course"},
        ("PATCH", "/api/v1/courses/{course_id}"): {"title": "Retitled"},
        ("POST", "/api/v1/courses/{course_id}/modules"): {"title": "Another module"},
        ("PATCH", "/api/v1/courses/{course_id}/modules/{module_id}"): {"title": "Renamed module"},
        ("POST", "/api/v1/courses/{course_id}/modules/{module_id}/items"): {"content_type": "quiz", "title": "Quiz"},
        ("PATCH", "/api/v1/courses/{course_id}/items/{item_id}"): {"title": "Renamed item"},
        ("POST", "/api/v1/courses/{course_id}/progress"): {"item_id": world["item_id"], "status": "completed"},
        ("POST", "/api/v1/tutor/ask"): {"course_id": world["course_id"], "question": "What comes first?"},
        ("PUT", "/api/v1/tutor/turns/{turn_id}/rating"): {"helpful": True},
        ("POST", "/api/v1/admin/sources"): {"name": f"new-{world['source']}"},
        ("POST", "/api/v1/users/me/erasure"): {"password": PASSWORD},
        ("POST", "/api/v1/courses/{course_id}/announcements"): {"title": "Quiz on Friday"},
        ("PUT", "/api/v1/notifications/preferences"): {"at_risk": False},
        ("POST", "/api/v1/courses/{course_id}/practice/{question_id}/answers"): {"answer": "a loop"},
        ("PUT", "/api/v1/courses/{course_id}/items/{item_id}/assessment"): {"reference": "a loop repeats"},
        ("POST", "/api/v1/courses/{course_id}/items/{item_id}/answers"): {"answer": "a loop repeats code"},
        ("POST", "/api/v1/courses/{course_id}/review-queue/{answer_id}"): {"score": 1},
    }
    return bodies.get((method, path), {})


def _call(api, method: str, path: str, caller, world: dict):
    url = path.format(course_id=world["course_id"], module_id=world["module_id"], item_id=world["item_id"],
                      user_id=world["learner"].id, name=world["source"], notification_id=world["notification_id"],
                      question_id="0" * 16, answer_id=world["answer_id"], turn_id=world["turn_id"])
    params = {"course_id": world["course_id"]} if path.startswith("/api/v1/learners/") else None
    if path == "/api/v1/search":
        params = {"q": "quiz"}
    return api.client.request(method, url, json=_body(method, path, world), params=params, headers=caller.headers)


def _let_through(response, path: str) -> bool:
    if path in NEEDS_MODELS_OR_WAREHOUSE and response.status_code == 503:
        return True
    if path in NEEDS_INDEXED_PASSAGES and response.status_code == 404:
        return "no practice question" in response.text
    return response.is_success or response.status_code == 409


def _world(api, caller_role: Role) -> dict:
    owner, learner = api.user(Role.INSTRUCTOR), api.user(Role.LEARNER)
    course = api.course(owner, items=2)
    api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=learner.headers)
    api.client.post(f"/api/v1/courses/{course['id']}/progress",
                    json={"item_id": course["item_ids"][0], "status": "completed"}, headers=learner.headers)
    caller = api.user(caller_role)
    if scope_of(caller_role, Permission.STUDY):
        assert api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=caller.headers).is_success
    source = f"lms-{course['id'][:8]}"
    create_key(api.client.app.state.database, source)
    with api.client.app.state.database.write() as session:  # the caller's own, for the inbox and rating routes
        notification_id = notify(session, caller.id, NotificationKind.INACTIVE, "Welcome back", "Hello").id
        turn = TutorTurn(conversation_id=str(uuid.uuid4()), user_id=caller.id, course_id=course["id"],
                         question="What comes first?", answer="I don't know.", grounded=False)
        session.add(turn)
        session.flush()
        turn_id = turn.id
    # The item takes written answers, and the other learner has given one (for the review queue's routes).
    graded = f"/api/v1/courses/{course['id']}/items/{course['item_ids'][1]}"
    assert api.client.put(f"{graded}/assessment", json={"reference": "a loop repeats"},
                          headers=owner.headers).is_success
    answer_id = api.client.post(f"{graded}/answers", json={"answer": "a loop repeats"},
                                headers=learner.headers).json()["answer_id"]
    return {"owner": owner, "learner": learner, "caller": caller, "course_id": course["id"],
            "module_id": course["module_id"], "item_id": course["item_ids"][1], "source": source,
            "notification_id": notification_id, "answer_id": answer_id, "turn_id": turn_id}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("method", "path", "permission"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_role_x_endpoint(shared_api, role, method, path, permission):
    api = shared_api
    world = _world(api, role)
    response = _call(api, method, path, world["caller"], world)
    scope = scope_of(role, permission)
    assert response.status_code < 500 or _let_through(response, path), response.text
    if scope is None:
        assert response.status_code == 403, f"{role} must not {permission}: {response.status_code} {response.text}"
    elif scope is Scope.OWN and permission not in SELF_PERMISSIONS:
        assert response.status_code in (403, 404), f"{role} reached another's course: {response.status_code}"
        # ...and on its own course, the same call succeeds.
        own = _world(api, role)
        as_owner = _call(api, method, path, own["owner"], own)
        assert _let_through(as_owner, path), f"owner refused: {as_owner.text}"
    else:
        assert _let_through(response, path), f"{role} refused: {response.text}"
    if role not in (Role.ADMIN,) and not (scope is Scope.OWN and permission not in SELF_PERMISSIONS):
        learner = world["learner"]
        if permission is not Permission.VIEW_COURSE_LEARNERS:
            assert learner.email not in response.text and learner.id not in response.text, \
                f"{role} saw another learner's data through {method} {path}"


def test_every_operation_has_its_own_openapi_id():
    """Client generators refuse a document whose operations share an id (an xAPI resource answers GET and HEAD)."""
    ids = [operation["operationId"] for item in APP.openapi()["paths"].values() for operation in item.values()]
    assert len(ids) == len(set(ids)) and {"about_xapi_about_get", "about_xapi_about_head"} <= set(ids)
