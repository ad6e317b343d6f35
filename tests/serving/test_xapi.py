"""The xAPI Statement Resource, rule by rule from the xAPI 1.0.3 specification."""

import copy
import time
import uuid

import polars as pl
import pytest
from fastapi.testclient import TestClient

from lake import readers
from lake.committer import Committer
from serving.api.routes.xapi import http_date
from serving.core.source_keys import RECHECK_S, revoke_key
from tests.serving.conftest import ADA, COMPLETED, COURSE, LESSON, V, source_key, statement


def _post(lrs, body):
    return lrs.post("/xapi/statements", json=body)


def _get(lrs, **params):
    return lrs.get("/xapi/statements", params=params)


# -- the resource around the statements -----------------------------------------------

def test_about_needs_no_credentials_and_names_the_versions(lrs):
    response = TestClient(lrs.app).get("/xapi/about")
    assert response.status_code == 200
    assert "1.0.3" in response.json()["version"]
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_statements_need_a_live_source_key_by_http_basic(lrs):
    name, key = lrs.credentials
    for auth in (None, (name, "wrong"), (name, "llk_" + "x" * 43), ("other-name", key),
                 ("learnlake", "dev-only-xapi-password-change-me")):  # the retired static password
        anonymous = TestClient(lrs.app, headers=V)
        for method in ("post", "get"):
            kwargs = {"json": statement()} if method == "post" else {}
            response = getattr(anonymous, method)("/xapi/statements", auth=auth, **kwargs)
            assert response.status_code == 401, (auth, method)
            assert response.headers["WWW-Authenticate"].startswith("Basic")
            assert response.headers["X-Experience-API-Version"] == "1.0.3"
    revoke_key(lrs.app.state.database, name)
    time.sleep(RECHECK_S)
    assert _post(lrs, statement()).status_code == 401


def test_scopes_decide_who_writes_and_who_reads(lrs):
    reader = ("reader", source_key(lrs.app, "reader", ["xapi:read"]))
    writer = ("writer", source_key(lrs.app, "writer", ["xapi:write"]))
    events_only = ("events-only", source_key(lrs.app, "events-only", ["events:write"]))
    assert lrs.post("/xapi/statements", json=statement(), auth=reader).status_code == 403
    assert lrs.get("/xapi/statements", auth=reader).status_code == 200
    assert lrs.post("/xapi/statements", json=statement(), auth=writer).status_code == 200
    assert lrs.get("/xapi/statements", auth=writer).status_code == 403
    assert lrs.post("/xapi/statements", json=statement(), auth=events_only).status_code == 403


def test_the_authority_is_the_source_that_stored_the_statement(lrs):
    (statement_id,) = _post(lrs, statement()).json()
    stored = _get(lrs, statementId=statement_id).json()
    assert stored["authority"]["account"]["name"] == lrs.credentials[0]


@pytest.mark.parametrize(("version", "status"), [(None, 400), ("0.95", 400), ("1.0.0", 200), ("1.0.3", 200),
                                                  ("2.0.0", 200)])
def test_the_version_header_is_required_and_checked(lrs, version, status):
    headers = {} if version is None else {"X-Experience-API-Version": version}
    response = TestClient(lrs.app, headers=headers).post("/xapi/statements", json=statement(), auth=lrs.credentials)
    assert response.status_code == status
    assert response.headers["X-Experience-API-Version"] == ("2.0.0" if version == "2.0.0" else "1.0.3")


def test_post_then_get_one_statement(lrs):
    response = _post(lrs, statement())
    assert response.status_code == 200
    [statement_id] = response.json()
    got = _get(lrs, statementId=statement_id)
    assert got.status_code == 200
    body = got.json()
    assert body["id"] == statement_id and body["version"] == "1.0.0"
    assert body["stored"].endswith("Z") and body["authority"]["objectType"] == "Agent"
    assert body["actor"] == ADA and body["result"]["score"]["scaled"] == 0.8
    assert got.headers["X-Experience-API-Consistent-Through"] >= body["stored"]  # both ISO 8601 in UTC
    assert got.headers["Last-Modified"] == http_date(body["stored"])


def test_post_an_array_keeps_ids_and_order(lrs):
    ids = [str(uuid.uuid4()) for _ in range(3)]
    response = _post(lrs, [statement(id=ids[0]), statement(), statement(id=ids[2])])
    assert response.status_code == 200
    returned = response.json()
    assert returned[0] == ids[0] and returned[2] == ids[2] and uuid.UUID(returned[1])


def test_timestamp_defaults_to_stored(lrs):
    [statement_id] = _post(lrs, statement(timestamp=None)).json()
    body = _get(lrs, statementId=statement_id).json()
    assert body["timestamp"] == body["stored"]


def test_a_single_context_activity_becomes_a_list(lrs):
    [statement_id] = _post(lrs, statement(context={"contextActivities": {"parent": {"id": COURSE}}})).json()
    assert _get(lrs, statementId=statement_id).json()["context"]["contextActivities"]["parent"] == [{"id": COURSE}]


# -- what makes a statement invalid (400, nothing stored) ------------------------------

def _with(path: str, value):
    """A statement with the property at a dotted path replaced (or removed, for ...)."""
    body = copy.deepcopy(statement())
    *parents, last = path.split(".")
    node = body
    for key in parents:
        node = node.setdefault(key, {})
    if value is ...:
        node.pop(last, None)
    else:
        node[last] = value
    return body


INVALID = {
    "unknown property": _with("color", "blue"),
    "actor missing": _with("actor", ...),
    "agent without identifier": _with("actor", {"objectType": "Agent", "name": "Ada"}),
    "agent with two identifiers": _with("actor", {"mbox": "mailto:a@x.org", "openid": "http://x.org/a"}),
    "mbox without mailto": _with("actor", {"mbox": "ada@example.org"}),
    "bad mbox_sha1sum": _with("actor", {"mbox_sha1sum": "not-a-sha1"}),
    "account without name": _with("actor", {"account": {"homePage": "http://x.org"}}),
    "account homePage not an IRI": _with("actor", {"account": {"homePage": "x.org", "name": "a"}}),
    "anonymous group without members": _with("actor", {"objectType": "Group"}),
    "group with two identifiers": _with("actor", {"objectType": "Group", "mbox": "mailto:g@x.org",
                                                  "openid": "http://x.org/g"}),
    "unknown actor type": _with("actor", {"objectType": "Person", "mbox": "mailto:a@x.org"}),
    "verb missing": _with("verb", ...),
    "verb id not an IRI": _with("verb", {"id": "completed"}),
    "verb display not a language map": _with("verb.display", "completed"),
    "display with a bad language tag": _with("verb.display", {"english!": "completed"}),
    "object missing": _with("object", ...),
    "activity id not an IRI": _with("object", {"id": "lesson 2"}),
    "unknown object type": _with("object", {"objectType": "Thing", "id": LESSON}),
    "StatementRef id not a UUID": _with("object", {"objectType": "StatementRef", "id": "42"}),
    "SubStatement with an id": _with("object", {"objectType": "SubStatement", "id": str(uuid.uuid4()),
                                                "actor": ADA, "verb": {"id": COMPLETED}, "object": {"id": LESSON}}),
    "nested SubStatement": _with("object", {"objectType": "SubStatement", "actor": ADA, "verb": {"id": COMPLETED},
                                            "object": {"objectType": "SubStatement", "actor": ADA,
                                                       "verb": {"id": COMPLETED}, "object": {"id": LESSON}}}),
    "interaction fields without interactionType": _with("object.definition.correctResponsesPattern", ["a"]),
    "scaled score above 1": _with("result.score", {"scaled": 1.5}),
    "raw score above max": _with("result.score", {"raw": 11, "min": 0, "max": 10}),
    "min not below max": _with("result.score", {"min": 5, "max": 5}),
    "success as a string": _with("result.success", "true"),
    "duration not ISO 8601": _with("result.duration", "5 minutes"),
    "result extension key not an IRI": _with("result.extensions", {"speed": 1}),
    "registration not a UUID": _with("context.registration", "abc"),
    "context language not a tag": _with("context.language", "english!"),
    "platform with an Agent object": {**statement(), "object": {"objectType": "Agent", "mbox": "mailto:b@x.org"},
                                      "context": {"platform": "web"}},
    "timestamp without time": _with("timestamp", "2026-09-07"),
    "timestamp with -00:00": _with("timestamp", "2026-09-07T10:00:00-00:00"),
    "timestamp on a day that does not exist": _with("timestamp", "2026-02-30T10:00:00Z"),
    "id not a UUID": _with("id", "statement-1"),
    "version 0.95": _with("version", "0.95"),
    "voiding without StatementRef": _with("verb", {"id": "http://adlnet.gov/expapi/verbs/voided"}),
    "attachment without fileUrl": _with("attachments", [{"usageType": "http://x.org/u", "display": {"en": "a"},
                                                          "contentType": "text/plain", "length": 1, "sha2": "ab"}]),
}


@pytest.mark.parametrize("body", INVALID.values(), ids=INVALID.keys())
def test_invalid_statements_are_400_and_nothing_is_stored(lrs, body):
    response = _post(lrs, [statement(), body])
    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert _get(lrs).json()["statements"] == []


VALID = {
    "openid agent": _with("actor", {"openid": "http://openid.example.org/ada"}),
    "sha1 agent": _with("actor", {"mbox_sha1sum": "a" * 40}),
    "account agent": _with("actor", {"account": {"homePage": "http://lms.example.org", "name": "123"}}),
    "identified group": _with("actor", {"objectType": "Group", "mbox": "mailto:team@x.org"}),
    "anonymous group": _with("actor", {"objectType": "Group", "member": [ADA]}),
    "agent object": {**statement(context=None), "object": {"objectType": "Agent", "mbox": "mailto:b@x.org"}},
    "substatement": _with("object", {"objectType": "SubStatement", "actor": ADA, "verb": {"id": COMPLETED},
                                     "object": {"id": LESSON}}),
    "extensions with IRI keys": _with("result.extensions", {"http://x.org/ext/speed": {"any": ["json", 1]}}),
    "offset timestamp": _with("timestamp", "2026-09-07T12:15:00+02:00"),
    "language map with region and script": _with("verb.display", {"zh-Hans-CN": "完成", "en-US": "completed"}),
    "choice interaction": _with("object.definition", {"interactionType": "choice", "correctResponsesPattern": ["a"],
                                                      "choices": [{"id": "a", "description": {"en": "A"}}]}),
}


@pytest.mark.parametrize("body", VALID.values(), ids=VALID.keys())
def test_valid_statements_are_stored(lrs, body):
    assert _post(lrs, body).status_code == 200, _post(lrs, body).text


def test_duplicate_ids_in_one_batch_are_refused(lrs):
    same = str(uuid.uuid4())
    assert _post(lrs, [statement(id=same), statement(id=same)]).status_code == 400


# -- ids, conflicts, PUT -------------------------------------------------------------

def test_the_same_statement_again_is_accepted_once_and_a_different_one_conflicts(lrs):
    statement_id = str(uuid.uuid4())
    assert _post(lrs, statement(id=statement_id)).status_code == 200
    assert _post(lrs, statement(id=statement_id)).status_code == 200
    assert len(_get(lrs).json()["statements"]) == 1
    response = _post(lrs, statement(id=statement_id, verb={"id": "http://adlnet.gov/expapi/verbs/failed"}))
    assert response.status_code == 409


def test_put_stores_under_the_given_id(lrs):
    statement_id = str(uuid.uuid4())
    response = lrs.put("/xapi/statements", params={"statementId": statement_id}, json=statement())
    assert response.status_code == 204
    assert _get(lrs, statementId=statement_id).json()["id"] == statement_id
    assert lrs.put("/xapi/statements", json=statement()).status_code == 400  # no statementId
    other = str(uuid.uuid4())
    mismatch = lrs.put("/xapi/statements", params={"statementId": other}, json=statement(id=statement_id))
    assert mismatch.status_code == 400
    assert lrs.put("/xapi/statements", params={"statementId": statement_id},
                   json=statement(verb={"id": "http://adlnet.gov/expapi/verbs/failed"})).status_code == 409


# -- voiding -----------------------------------------------------------------------------

def _void(target: str) -> dict:
    return {"actor": {"mbox": "mailto:admin@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": target}}


def test_voided_statements_leave_queries_and_are_found_by_voided_statement_id(lrs):
    [target] = _post(lrs, statement()).json()
    [voiding] = _post(lrs, _void(target)).json()
    assert _get(lrs, statementId=target).status_code == 404
    assert _get(lrs, voidedStatementId=target).json()["id"] == target
    assert _get(lrs, voidedStatementId=voiding).status_code == 404  # not voided itself
    assert [s["id"] for s in _get(lrs).json()["statements"]] == [voiding]
    assert _post(lrs, _void(voiding)).status_code == 400  # a voiding statement cannot be voided


# -- queries -----------------------------------------------------------------------------

@pytest.fixture
def stored(lrs):
    bob = {"mbox": "mailto:bob@example.org"}
    other_reg = "7f1c4a1a-1111-4222-8333-944455556666"
    bodies = [
        statement(),
        statement(actor=bob),
        statement(verb={"id": "http://adlnet.gov/expapi/verbs/attempted"}),
        statement(object={"id": "http://example.org/course/2/lesson/1"}, context={"registration": other_reg}),
        statement(actor=bob, context={"instructor": ADA, "contextActivities": {"parent": [{"id": LESSON}]}},
                  object={"id": "http://example.org/quiz/9"}),
    ]
    return [_post(lrs, body).json()[0] for body in bodies]


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["statements"]]


def test_query_filters(lrs, stored):
    a, b, c, d, e = stored
    assert _ids(_get(lrs)) == [e, d, c, b, a]  # newest first
    assert _ids(_get(lrs, ascending="true")) == [a, b, c, d, e]
    assert set(_ids(_get(lrs, agent='{"mbox": "mailto:ada@example.org"}'))) == {a, c, d}
    assert set(_ids(_get(lrs, agent='{"mbox": "mailto:ada@example.org"}', related_agents="true"))) == {a, c, d, e}
    assert _ids(_get(lrs, verb="http://adlnet.gov/expapi/verbs/attempted")) == [c]
    assert set(_ids(_get(lrs, activity=LESSON))) == {a, b, c}
    assert set(_ids(_get(lrs, activity=LESSON, related_activities="true"))) == {a, b, c, e}
    assert _ids(_get(lrs, registration="7f1c4a1a-1111-4222-8333-944455556666")) == [d]
    stored_b = _get(lrs, statementId=b).json()["stored"]
    assert set(_ids(_get(lrs, since=stored_b))) <= {c, d, e}
    assert b in _ids(_get(lrs, until=stored_b))


def test_paging_with_more_visits_everything_once(lrs, stored):
    seen, url, pages = [], "/xapi/statements?limit=2", 0
    while url:
        page = lrs.get(url).json()
        seen += [s["id"] for s in page["statements"]]
        url, pages = page["more"], pages + 1
    assert seen == list(reversed(stored)) and pages == 3


@pytest.mark.parametrize("params", [
    {"statementId": "6f1c4a1a-1111-4222-8333-944455556666", "verb": COMPLETED},
    {"statementId": "x"},
    {"agent": "not json"},
    {"agent": '{"name": "no identifier"}'},
    {"since": "yesterday"},
    {"limit": "-1"},
    {"related_agents": "maybe"},
    {"colour": "blue"},
    {"attachments": "maybe"},
    {"cursor": str(10**30)},
    {"cursor": "-1"},
    {"limit": str(10**30), "cursor": "99999999999999999999"},
])
def test_bad_queries_are_400(lrs, params):
    response = _get(lrs, **params)
    assert response.status_code == 400
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_timestamps_at_the_ends_of_the_calendar_are_queries_not_errors(lrs):
    for since in ("0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"):
        assert _get(lrs, since=since).status_code == 200
        assert _get(lrs, until=since).status_code == 200


def test_unknown_statement_is_404(lrs):
    assert _get(lrs, statementId=str(uuid.uuid4())).status_code == 404


# -- into the lake -------------------------------------------------------------------------

def test_statements_reach_the_lake_with_a_pseudonymous_actor(lrs, learnlake_home):
    ids = _post(lrs, [statement(), statement(verb={"id": "http://example.org/verbs/juggled"}),
                      statement(verb={"id": "http://id.tincanapi.com/verb/rated"})]).json()
    Committer(lrs.app.state.landing, learnlake_home).flush()
    events = readers.read_table("bronze.events").sort("verb")
    assert sorted(events["event_id"]) == sorted(ids)
    assert events["verb"].to_list() == ["completed", "other", "rated"]
    assert events.row(2, named=True)["result_score"] == 0.8, "a rating is in the result's score (Tin Can's rated)"
    row = events.row(0, named=True)
    assert row["source"] == "xapi" and row["object_type"] == "lesson" and row["course_id"] == COURSE
    assert row["result_score"] == 0.8 and row["result_duration_s"] == 330.0
    assert row["learner_id"].startswith("lrn_")
    assert not events.filter(pl.col("payload").str.contains("ada@example.org")).height


def test_concurrent_posts_of_one_id_store_it_once(lrs):
    from concurrent.futures import ThreadPoolExecutor

    statement_id = str(uuid.uuid4())
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: _post(lrs, statement(id=statement_id)).status_code, range(16)))
    assert codes == [200] * 16
    assert [s["id"] for s in _get(lrs).json()["statements"]] == [statement_id]


def test_format_ids_keeps_only_identifiers(lrs):
    [statement_id] = _post(lrs, statement()).json()
    body = _get(lrs, statementId=statement_id, format="ids").json()
    assert body["actor"] == {"objectType": "Agent", "mbox": "mailto:ada@example.org"}
    assert body["verb"] == {"id": COMPLETED}
    assert body["object"] == {"id": LESSON}
    assert body["context"]["contextActivities"] == {"grouping": [{"id": COURSE}]}
    assert _get(lrs, format="ids").json()["statements"][0]["verb"] == {"id": COMPLETED}


def test_format_canonical_keeps_one_language(lrs):
    display = {"en-US": "completed", "fr-FR": "terminé", "de-DE": "abgeschlossen"}
    [statement_id] = _post(lrs, statement(verb={"id": COMPLETED, "display": display})).json()
    french = lrs.get("/xapi/statements", params={"statementId": statement_id, "format": "canonical"},
                     headers={"Accept-Language": "fr-FR, en-US;q=0.5"}).json()
    assert french["verb"]["display"] == {"fr-FR": "terminé"}
    unknown = lrs.get("/xapi/statements", params={"statementId": statement_id, "format": "canonical"},
                      headers={"Accept-Language": "ja-JP"}).json()
    assert unknown["verb"]["display"] == {"en-US": "completed"}
    assert _get(lrs, statementId=statement_id).json()["verb"]["display"] == display  # exact is untouched
    assert _get(lrs, statementId=statement_id, format="pretty").status_code == 400
