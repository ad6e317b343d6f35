"""The xAPI document resources (State, Activity Profile, Agent Profile), requirement by requirement from
xAPI 1.0.3 part three (2.2 to 2.7, 3.1) and 2.0's concurrency rules."""

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from serving.core.enums import Role
from serving.core.privacy import erase_account
from serving.core.security import issue_access_token
from serving.core.source_keys import create_key
from serving.core.tables import User
from serving.xapi.documents import DocumentStore
from tests.serving.conftest import V

ACTIVITY = "http://example.org/course/1/lesson/2"
AGENT = {"objectType": "Agent", "account": {"homePage": "http://example.org/people", "name": "Rick James"}}
STATE, ACTIVITY_PROFILE, AGENT_PROFILE = "/xapi/activities/state", "/xapi/activities/profile", "/xapi/agents/profile"


def state(**changes) -> dict:
    params = {"activityId": ACTIVITY, "agent": json.dumps(AGENT), "stateId": str(uuid.uuid4())}
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def activity_profile(**changes) -> dict:
    return {k: v for k, v in {"activityId": ACTIVITY, "profileId": str(uuid.uuid4()), **changes}.items()
            if v is not None}


def agent_profile(**changes) -> dict:
    return {k: v for k, v in {"agent": json.dumps(AGENT), "profileId": str(uuid.uuid4()), **changes}.items()
            if v is not None}


PARAMS = {STATE: state, ACTIVITY_PROFILE: activity_profile, AGENT_PROFILE: agent_profile}
RESOURCES = list(PARAMS)


def document() -> dict:
    return {"name": str(uuid.uuid4()), "location": {"name": str(uuid.uuid4())}, str(uuid.uuid4()): "value"}


# -- storing and reading ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", RESOURCES)
def test_a_document_put_is_returned_as_stored_with_its_etag_and_last_modified(lrs, path):
    params, doc = PARAMS[path](), document()
    put = lrs.put(path, params=params, json=doc)
    assert put.status_code == 204, put.text
    got = lrs.get(path, params=params)
    assert got.status_code == 200 and got.json() == doc
    assert got.headers["content-type"].startswith("application/json")
    assert got.headers["ETag"] == f'"{hashlib.sha1(got.content).hexdigest()}"' == put.headers["ETag"]
    assert got.headers["Last-Modified"].endswith("GMT")


@pytest.mark.parametrize("path", RESOURCES)
def test_a_post_of_a_new_document_stores_it_like_a_put_whatever_its_content(lrs, path):
    for content, content_type in ((b"1", "application/x-www-form-urlencoded"), (b"true", "text/plain"),
                                  (bytes(range(256)), "application/octet-stream")):
        params = PARAMS[path]()
        assert lrs.post(path, params=params, content=content, headers={"Content-Type": content_type}).status_code == 204
        got = lrs.get(path, params=params)
        assert got.content == content and got.headers["content-type"].startswith(content_type)


@pytest.mark.parametrize("path", RESOURCES)
def test_a_post_merges_json_objects_one_level_deep(lrs, path):
    params = PARAMS[path]()
    lrs.post(path, params=params, json={"car": {"make": "Ford", "model": "Escape"}, "driver": "Dale", "keep": 1})
    assert lrs.post(path, params=params, json={"car": {"make": "Dodge"}, "driver": "Jeff"}).status_code == 204
    assert lrs.get(path, params=params).json() == {"car": {"make": "Dodge"}, "driver": "Jeff", "keep": 1}


@pytest.mark.parametrize(("stored", "sent"), [
    (("application/json", b'{"a": 1}'), ("text/plain", b"abc")),
    (("application/json", b'{"a": 1}'), ("application/json", b"[1, 2]")),
    (("text/plain", b"abc"), ("application/json", b'{"a": 1}')),
    (("application/json", b"[1]"), ("application/json", b'{"a": 1}')),
])
def test_a_post_that_cannot_be_merged_is_refused_and_changes_nothing(lrs, stored, sent):
    params = state()
    lrs.put(params=params, url=STATE, content=stored[1], headers={"Content-Type": stored[0]})
    refused = lrs.post(STATE, params=params, content=sent[1], headers={"Content-Type": sent[0]})
    assert refused.status_code == 400 and "merge" in refused.json()["detail"]
    assert lrs.get(STATE, params=params).content == stored[1]


def test_a_document_declared_json_must_be_json_within_the_depth_bound(lrs):
    assert lrs.put(STATE, params=state(), content=b"{not json", headers={"Content-Type": "application/json"}) \
        .status_code == 400
    deep = b"[" * 5000 + b"]" * 5000
    assert lrs.put(STATE, params=state(), content=deep, headers={"Content-Type": "application/json"}).status_code == 400


def test_a_content_type_longer_than_the_database_keeps_is_400(lrs):
    response = lrs.put(STATE, params=state(), content=b"x", headers={"Content-Type": "text/" + "x" * 300})
    assert response.status_code == 400


def test_a_document_over_the_body_limit_is_413(lrs):
    limit = lrs.app.state.settings.max_body_bytes
    response = lrs.put(STATE, params=state(), content=b"x" * (limit + 1), headers={"Content-Type": "text/plain"})
    assert response.status_code == 413


@pytest.mark.parametrize("path", RESOURCES)
def test_get_of_a_missing_document_is_404(lrs, path):
    assert lrs.get(path, params=PARAMS[path]()).status_code == 404


@pytest.mark.parametrize("path", RESOURCES)
def test_head_answers_the_headers_of_get_without_a_body(lrs, path):
    params = PARAMS[path]()
    lrs.put(path, params=params, json=document())
    head, got = lrs.head(path, params=params), lrs.get(path, params=params)
    assert head.status_code == 200 and head.content == b"" and head.headers["ETag"] == got.headers["ETag"]


# -- ids, since, delete ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", RESOURCES)
def test_get_without_an_id_lists_the_ids_stored_since_a_time(lrs, path):
    make = PARAMS[path]
    scope = {k: v for k, v in make().items() if k not in ("stateId", "profileId")}
    if path != AGENT_PROFILE:
        scope["activityId"] = f"{ACTIVITY}/{uuid.uuid4()}"
    else:
        scope["agent"] = json.dumps({"mbox": f"mailto:{uuid.uuid4()}@example.org"})
    id_name = "stateId" if path == STATE else "profileId"
    first = str(uuid.uuid4())
    lrs.put(path, params={**scope, id_name: first}, json={"n": 1})
    time.sleep(0.01)
    since = datetime.now(UTC).isoformat()
    second = str(uuid.uuid4())
    lrs.put(path, params={**scope, id_name: second}, json={"n": 2})
    assert lrs.get(path, params=scope).json() == [first, second]
    assert lrs.get(path, params={**scope, "since": since}).json() == [second]
    assert lrs.get(path, params={**scope, "since": "not a timestamp"}).status_code == 400


def test_states_are_kept_apart_by_registration(lrs):
    registration = str(uuid.uuid4())
    params = state(registration=registration)
    lrs.put(STATE, params=params, json={"with": "registration"})
    assert lrs.get(STATE, params={**params, "registration": None} | {"registration": str(uuid.uuid4())}).status_code == 404
    assert lrs.get(STATE, params={k: v for k, v in params.items() if k != "registration"}).status_code == 404
    assert lrs.get(STATE, params={**params, "registration": registration.upper()}).json() == {"with": "registration"}


def test_delete_removes_one_document_or_every_state_of_an_activity_and_agent(lrs):
    activity = f"{ACTIVITY}/{uuid.uuid4()}"
    kept = state()  # another activity: not deleted
    lrs.put(STATE, params=kept, json={"kept": True})
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for state_id in ids:
        lrs.put(STATE, params=state(activityId=activity, stateId=state_id), json={"id": state_id})
    assert lrs.delete(STATE, params=state(activityId=activity, stateId=ids[0])).status_code == 204
    assert lrs.get(STATE, params=state(activityId=activity, stateId=None)).json() == ids[1:]
    assert lrs.delete(STATE, params=state(activityId=activity, stateId=None)).status_code == 204
    assert lrs.get(STATE, params=state(activityId=activity, stateId=None)).json() == []
    assert lrs.get(STATE, params=kept).json() == {"kept": True}


@pytest.mark.parametrize("path", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_deleting_a_profile_needs_its_id(lrs, path):
    assert lrs.delete(path, params=PARAMS[path](profileId=None)).status_code == 400


# -- parameters: required, and well formed -----------------------------------------------------------

BAD_PARAMS = {
    "no activityId": (STATE, {"activityId": None}),
    "activityId not an IRI": (STATE, {"activityId": "1"}),
    "activityId true": (STATE, {"activityId": "true"}),
    "activityId an object": (STATE, {"activityId": json.dumps({"key": "value"})}),
    "activityId too long": (STATE, {"activityId": "http://x.org/" + "a" * 3000}),
    "no agent": (STATE, {"agent": None}),
    "agent not JSON": (STATE, {"agent": "not JSON"}),
    "agent a number": (STATE, {"agent": "1"}),
    "agent without identifier": (STATE, {"agent": json.dumps({"name": "nobody"})}),
    "agent identifier too long": (STATE, {"agent": json.dumps({"openid": "http://x.org/" + "a" * 500})}),
    "agent nested deep": (STATE, {"agent": "[" * 1000 + "]" * 1000}),
    "registration not a UUID": (STATE, {"registration": "not UUID"}),
    "unknown parameter": (STATE, {"color": "blue"}),
    "profile: no activityId": (ACTIVITY_PROFILE, {"activityId": None}),
    "profile: activityId not an IRI": (ACTIVITY_PROFILE, {"activityId": "true"}),
    "profile: agent is not its parameter": (ACTIVITY_PROFILE, {"agent": json.dumps(AGENT)}),
    "agent profile: no agent": (AGENT_PROFILE, {"agent": None}),
    "agent profile: agent a group without members": (AGENT_PROFILE, {"agent": json.dumps({"objectType": "Group"})}),
}


@pytest.mark.parametrize(("path", "changes"), BAD_PARAMS.values(), ids=BAD_PARAMS.keys())
@pytest.mark.parametrize("method", ["get", "put", "post", "delete"])
def test_malformed_or_missing_parameters_are_400_with_the_reason(lrs, path, changes, method):
    kwargs = {"json": document()} if method in ("put", "post") else {}
    response = getattr(lrs, method)(path, params=PARAMS[path](**changes), **kwargs)
    assert response.status_code == 400 and response.json()["detail"]


@pytest.mark.parametrize("method", ["put", "post"])
@pytest.mark.parametrize("path", RESOURCES)
def test_a_write_needs_the_document_id(lrs, method, path):
    id_name = "stateId" if path == STATE else "profileId"
    assert getattr(lrs, method)(path, params=PARAMS[path](**{id_name: None}), json={}).status_code == 400


def test_since_applies_to_get_only(lrs):
    assert lrs.put(STATE, params=state(since="2026-01-01T00:00:00Z"), json={}).status_code == 400


# -- concurrency (part three, 3.1; xAPI 2.0, 4.1.4) -------------------------------------------------

@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize("method", ["put", "post"])
def test_if_match_with_the_current_etag_writes_and_with_another_is_412_changing_nothing(lrs, path, method):
    params, original = PARAMS[path](), document()
    lrs.post(path, params=params, json=original)
    etag = lrs.get(path, params=params).headers["ETag"]
    wrong = getattr(lrs, method)(path, params=params, json={"name": "changed"},
                                 headers={"If-Match": '"1111111111111111111111111111111111111111"'})
    assert wrong.status_code == 412
    assert lrs.get(path, params=params).json() == original
    right = getattr(lrs, method)(path, params=params, json={"name": "changed"}, headers={"If-Match": etag})
    assert right.status_code == 204
    assert lrs.get(path, params=params).json()["name"] == "changed"


@pytest.mark.parametrize("path", RESOURCES)
def test_if_none_match_star_creates_only_what_is_absent(lrs, path):
    params = PARAMS[path]()
    assert lrs.put(path, params=params, json={"first": 1}, headers={"If-None-Match": "*"}).status_code == 204
    assert lrs.put(path, params=params, json={"second": 2}, headers={"If-None-Match": "*"}).status_code == 412
    assert lrs.get(path, params=params).json() == {"first": 1}


def test_if_match_on_a_missing_document_is_412(lrs):
    assert lrs.put(STATE, params=state(), json={}, headers={"If-Match": "*"}).status_code == 412


@pytest.mark.parametrize("path", [ACTIVITY_PROFILE, AGENT_PROFILE])
def test_a_put_over_an_existing_profile_without_either_header_is_409_with_the_reason(lrs, path):
    params, original = PARAMS[path](), document()
    lrs.put(path, params=params, json=original)
    conflict = lrs.put(path, params=params, json=document())
    assert conflict.status_code == 409 and "If-Match" in conflict.json()["detail"]
    assert lrs.get(path, params=params).json() == original


def test_a_state_put_without_headers_overwrites_for_1_0_clients_and_is_409_for_2_0(lrs):
    params = state()
    lrs.put(STATE, params=params, json={"v": 1})
    assert lrs.put(STATE, params=params, json={"v": 2}).status_code == 204  # xAPI 1.0.3: no precondition needed
    v2 = {"X-Experience-API-Version": "2.0.0"}
    assert lrs.put(STATE, params=params, json={"v": 3}, headers=v2).status_code == 409
    assert lrs.get(STATE, params=params).json() == {"v": 2}


@pytest.mark.parametrize("path", RESOURCES)
def test_delete_with_a_wrong_if_match_is_412_and_keeps_the_document(lrs, path):
    params = PARAMS[path]()
    lrs.put(path, params=params, json={"keep": True})
    assert lrs.delete(path, params=params, headers={"If-Match": '"0000"'}).status_code == 412
    assert lrs.get(path, params=params).status_code == 200
    etag = lrs.get(path, params=params).headers["ETag"]
    assert lrs.delete(path, params=params, headers={"If-Match": etag}).status_code == 204
    assert lrs.get(path, params=params).status_code == 404


# -- who may --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", RESOURCES)
def test_documents_need_credentials_and_the_version_header(lrs, path):
    params = PARAMS[path]()
    anonymous = TestClient(lrs.app, headers=V)
    for method in ("get", "put", "delete"):
        response = getattr(anonymous, method)(path, params=params)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Basic")
    unversioned = TestClient(lrs.app)
    assert unversioned.put(path, params=params, json={}, auth=lrs.credentials).status_code == 400
    assert unversioned.get(path, params=params, auth=lrs.credentials).status_code == 400


def test_scopes_decide_who_reads_and_writes_documents(lrs):
    database = lrs.app.state.database
    keys = {scopes: (scopes, create_key(database, scopes.replace(":", "-").replace(",", "_"), scopes)[1])
            for scopes in ("events:write", "state:read", "state:write,state:read", "profile:read", "xapi:read")}
    params, profile = state(), activity_profile()
    lrs.put(STATE, params=params, json={"v": 1})
    lrs.put(ACTIVITY_PROFILE, params=profile, json={"v": 1})

    def status(scopes, method, path, query):
        name = scopes.replace(":", "-").replace(",", "_")
        kwargs = {"json": {"v": 2}} if method == "post" else {}
        return getattr(lrs, method)(path, params=query, auth=(name, keys[scopes][1]), **kwargs).status_code

    assert status("events:write", "get", STATE, params) == 403
    assert status("state:read", "get", STATE, params) == 200
    assert status("state:read", "post", STATE, params) == 403
    assert status("state:write,state:read", "post", STATE, params) == 204
    assert status("state:write,state:read", "get", ACTIVITY_PROFILE, profile) == 403
    assert status("profile:read", "get", ACTIVITY_PROFILE, profile) == 200
    assert status("profile:read", "get", STATE, params) == 403
    assert status("xapi:read", "get", STATE, params) == 200 and status("xapi:read", "post", STATE, params) == 403


def _learner(lrs, email: str) -> dict:
    """A learner's account, and the bearer header of a token issued to it."""
    with lrs.app.state.database.write() as session:
        user = User(email=email, name="Learner", role=Role.LEARNER)
        session.add(user)
        session.flush()
        user_id = user.id
    return {"Authorization": f"Bearer {issue_access_token(user_id, Role.LEARNER, lrs.app.state.settings)}"}


def test_a_learners_own_tool_reads_and_writes_only_that_learners_documents(lrs):
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    bearer = {**_learner(lrs, email), **V}
    own = state(agent=json.dumps({"mbox": f"mailto:{email}"}))
    other = state()
    client = TestClient(lrs.app)  # no source key: the learner's token only
    assert client.put(STATE, params=own, json={"bookmark": 3}, headers=bearer).status_code == 204
    assert client.get(STATE, params=own, headers=bearer).json() == {"bookmark": 3}
    assert client.put(STATE, params=other, json={}, headers=bearer).status_code == 403
    assert client.get(STATE, params=other, headers=bearer).status_code == 403
    profile = activity_profile()
    lrs.put(ACTIVITY_PROFILE, params=profile, json={"public": True})
    assert client.get(ACTIVITY_PROFILE, params=profile, headers=bearer).status_code == 200
    assert client.post(ACTIVITY_PROFILE, params=profile, json={}, headers=bearer).status_code == 403
    forged = {**V, "Authorization": "Bearer not-a-token"}
    assert client.get(STATE, params=own, headers=forged).status_code == 401


# -- privacy: erasure and export --------------------------------------------------------------------------

def test_an_erased_person_loses_their_documents_and_others_keep_theirs(lrs):
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    _learner(lrs, email)
    mine = [state(agent=json.dumps({"mbox": f"mailto:{email.upper()}"})),
            state(agent=json.dumps({"mbox_sha1sum": hashlib.sha1(f"mailto:{email}".encode()).hexdigest()}))]
    for params in mine:
        lrs.put(STATE, params=params, json={"mine": True})
    theirs = state()
    lrs.put(STATE, params=theirs, json={"theirs": True})
    settings = lrs.app.state.settings
    store = DocumentStore(lrs.app.state.database)
    keys = [f"mbox:mailto:{email}", f"mbox_sha1sum:{hashlib.sha1(f'mailto:{email}'.encode()).hexdigest()}"]
    assert len(store.of_agents(keys)) == 2  # what the export lists
    erasure = erase_account(lrs.app.state.database, email, requested_by="cli",
                            pseudonym_key=settings.pseudonym_key.get_secret_value())
    assert erasure.stores["core_database"]["xapi_documents"] == 2
    assert store.of_agents(keys) == []
    for params in mine:
        assert lrs.get(STATE, params=params).status_code == 404
    assert lrs.get(STATE, params=theirs).json() == {"theirs": True}
