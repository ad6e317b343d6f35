"""The rest of the LRS, requirement by requirement: the Activities and Agents Resources, HEAD, the
consistency header, the alternate request syntax, the Statement Resource's edge cases (nulls,
authority, revision and platform), signed statements, and xAPI 2.0 beside 1.0.3."""

import base64
import copy
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from tests.serving.conftest import ADA, V, statement

V2 = {"X-Experience-API-Version": "2.0.0"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _post(lrs, body, headers=None):
    return lrs.post("/xapi/statements", json=body, headers=headers)


# -- Activities and Agents Resources ------------------------------------------------------------------

def test_the_activities_resource_returns_the_complete_activity_object_as_stored(lrs):
    activity = {"objectType": "Activity", "id": f"http://example.org/activity/{uuid.uuid4()}",
                "definition": {"name": {"en-US": "Loops"}, "description": {"en-US": "for and while"},
                               "type": "http://adlnet.gov/expapi/activities/lesson"}}
    assert _post(lrs, statement(object=activity)).status_code == 200
    got = lrs.get("/xapi/activities", params={"activityId": activity["id"]})
    assert got.status_code == 200 and got.json() == activity


def test_the_activities_resource_merges_definitions_from_later_statements(lrs):
    activity_id = f"http://example.org/activity/{uuid.uuid4()}"
    _post(lrs, statement(object={"id": activity_id, "definition": {"name": {"en-US": "Loops"}, "type": "http://x.org/t1"}}))
    _post(lrs, statement(object={"id": activity_id, "definition": {"name": {"fr-FR": "Boucles"}, "type": "http://x.org/t2"}}))
    definition = lrs.get("/xapi/activities", params={"activityId": activity_id}).json()["definition"]
    assert definition == {"name": {"en-US": "Loops", "fr-FR": "Boucles"}, "type": "http://x.org/t2"}


def test_an_activity_the_lrs_never_saw_defined_is_returned_with_its_id(lrs):
    activity_id = f"http://example.org/activity/{uuid.uuid4()}"
    assert lrs.get("/xapi/activities", params={"activityId": activity_id}).json() == {
        "objectType": "Activity", "id": activity_id}


@pytest.mark.parametrize("params", [{}, {"activityId": "1"}, {"activityId": "true"},
                                    {"activityId": json.dumps({"key": "value"})},
                                    {"activityId": "http://x.org/a", "extra": "1"}])
def test_the_activities_resource_refuses_a_missing_or_malformed_activity_id(lrs, params):
    assert lrs.get("/xapi/activities", params=params).status_code == 400


def test_the_agents_resource_returns_a_person_with_every_property_an_array(lrs):
    email = f"mailto:{uuid.uuid4().hex[:8]}@example.org"
    _post(lrs, statement(actor={"objectType": "Agent", "name": "Grace", "mbox": email}))
    _post(lrs, statement(actor={"objectType": "Agent", "name": "Grace H.", "mbox": email}))
    person = lrs.get("/xapi/agents", params={"agent": json.dumps({"objectType": "Agent", "mbox": email})}).json()
    assert person == {"objectType": "Person", "name": ["Grace H.", "Grace"], "mbox": [email]}
    for identifier in ({"openid": "http://openid.example.org/1"}, {"mbox_sha1sum": "a" * 40},
                       {"account": {"homePage": "http://x.org", "name": "7"}}):
        person = lrs.get("/xapi/agents", params={"agent": json.dumps(identifier)}).json()
        key = next(iter(identifier))
        assert person["objectType"] == "Person" and person[key] == [identifier[key]] and person["name"] == []


@pytest.mark.parametrize("params", [{}, {"agent": "not JSON"}, {"agent": json.dumps({"name": "no identifier"})},
                                    {"agent": json.dumps({"mbox": "not-a-mailto"})}])
def test_the_agents_resource_refuses_a_missing_or_malformed_agent(lrs, params):
    assert lrs.get("/xapi/agents", params=params).status_code == 400


def test_activities_and_agents_need_read_credentials(lrs):
    anonymous = TestClient(lrs.app, headers=V)
    assert anonymous.get("/xapi/activities", params={"activityId": "http://x.org/a"}).status_code == 401
    assert anonymous.get("/xapi/agents", params={"agent": json.dumps(ADA)}).status_code == 401


# -- HEAD, consistency, Last-Modified ---------------------------------------------------------------------

@pytest.mark.parametrize(("path", "params"), [
    ("/xapi/statements", {}), ("/xapi/about", {}), ("/xapi/activities", {"activityId": "http://x.org/a"}),
    ("/xapi/agents", {"agent": json.dumps(ADA)})])
def test_every_get_resource_answers_head_with_the_same_headers_and_no_body(lrs, path, params):
    head, got = lrs.head(path, params=params), lrs.get(path, params=params)
    assert head.status_code == got.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]


@pytest.mark.parametrize("params", [{}, {"statementId": str(uuid.uuid4())}, {"statementId": "x", "verb": "y"},
                                    {"limit": "-1"}])
def test_every_statement_resource_answer_says_up_to_when_it_is_consistent(lrs, params):
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    response = lrs.get("/xapi/statements", params=params)
    through = datetime.fromisoformat(response.headers["X-Experience-API-Consistent-Through"])
    assert before <= through <= datetime.now(UTC) + timedelta(seconds=1)  # now: every stored statement is readable


def test_a_statement_stored_before_the_consistency_time_is_readable(lrs):
    [statement_id] = _post(lrs, statement()).json()
    response = lrs.get("/xapi/statements", params={"limit": 1})
    assert response.json()["statements"][0]["id"] == statement_id
    assert response.headers["X-Experience-API-Consistent-Through"] >= response.json()["statements"][0]["stored"]
    assert response.headers["Last-Modified"].endswith("GMT")


@pytest.mark.parametrize("other", [{"agent": json.dumps(ADA)}, {"verb": "http://x.org/v"}, {"activity": "http://x.org/a"},
                                   {"registration": str(uuid.uuid4())}, {"related_activities": "true"},
                                   {"related_agents": "true"}, {"since": "2026-01-01T00:00:00Z"},
                                   {"until": "2026-01-01T00:00:00Z"}, {"limit": "1"}, {"ascending": "true"}])
@pytest.mark.parametrize("single", ["statementId", "voidedStatementId"])
def test_a_single_statement_get_refuses_any_parameter_but_attachments_and_format(lrs, single, other):
    response = lrs.get("/xapi/statements", params={single: str(uuid.uuid4()), **other})
    assert response.status_code == 400 and "X-Experience-API-Consistent-Through" in response.headers


# -- the alternate request syntax (1.0.3 part three, 1.3) ------------------------------------------------------

def test_a_post_with_method_get_and_a_form_queries_statements(lrs):
    response = lrs.post("/xapi/statements?method=GET", content=urlencode({"limit": 1}), headers=FORM)
    assert response.status_code == 200 and set(response.json()) == {"statements", "more"}


def test_a_put_issued_as_a_post_stores_the_statement_in_content(lrs):
    statement_id = str(uuid.uuid4())
    form = {"statementId": statement_id, "content": json.dumps(statement()), "X-Experience-API-Version": "1.0.3"}
    response = TestClient(lrs.app).post("/xapi/statements?method=PUT", content=urlencode(form), headers=FORM,
                                        auth=lrs.credentials)
    assert response.status_code == 204, response.text
    assert lrs.get("/xapi/statements", params={"statementId": statement_id}).json()["id"] == statement_id


def test_form_fields_stand_for_headers_authorization_included(lrs):
    name, key = lrs.credentials
    authorization = "Basic " + base64.b64encode(f"{name}:{key}".encode()).decode()
    form = {"statementId": str(uuid.uuid4()), "content": json.dumps(statement()),
            "X-Experience-API-Version": "1.0.3", "Authorization": authorization}
    assert TestClient(lrs.app).post("/xapi/statements?method=PUT", content=urlencode(form),
                                    headers=FORM).status_code == 204


def test_document_resources_take_the_alternate_syntax_too(lrs):
    params = {"activityId": "http://x.org/a", "agent": json.dumps(ADA), "stateId": str(uuid.uuid4())}
    form = {**params, "content": json.dumps({"bookmark": 7})}
    assert lrs.post("/xapi/activities/state?method=PUT", content=urlencode(form), headers=FORM).status_code == 204
    assert lrs.get("/xapi/activities/state", params=params).json() == {"bookmark": 7}


@pytest.mark.parametrize(("method", "query", "body", "headers"), [
    ("put", "method=POST", urlencode({"content": "{}"}), FORM),  # not issued as a POST
    # extra in the query (a fixed id: test ids must be the same in every worker of `make test`)
    ("post", "method=PUT&statementId=0f8e5d3c-7a61-4b2e-9c4d-1a2b3c4d5e6f", urlencode({"content": "{}"}), FORM),
    ("post", "method=PUT", "", FORM),  # no content
    ("post", "method=PUT", json.dumps({"statementId": "x", "content": "{}"}), FORM),  # not URL-encoded
    ("post", "method=PUT", urlencode({"content": "{}"}), {"Content-Type": "application/json"}),
    ("post", "method=TRACE", urlencode({"content": "{}"}), FORM),
])
def test_a_malformed_alternate_request_is_400(lrs, method, query, body, headers):
    response = getattr(lrs, method)(f"/xapi/statements?{query}", content=body, headers=headers)
    assert response.status_code == 400, response.text


def test_xapi_2_0_removed_the_alternate_syntax(lrs):
    form = {"statementId": str(uuid.uuid4()), "content": json.dumps(statement())}
    response = lrs.post("/xapi/statements?method=PUT", content=urlencode(form), headers={**FORM, **V2})
    assert response.status_code == 400 and "2.0" in response.json()["detail"]


# -- the Statement Resource's edge cases ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["actor.name", "verb.display", "object.definition", "result", "result.score.raw",
                                  "context.registration", "timestamp", "id", "context.contextActivities.grouping"])
def test_a_property_set_to_null_is_refused(lrs, path):
    body = statement()
    holder = body
    *parents, last = path.split(".")
    for part in parents:
        holder = holder[part]
    holder[last] = None
    response = _post(lrs, body)
    assert response.status_code == 400 and "null" in response.json()["detail"]


def test_null_is_allowed_inside_extensions(lrs):
    body = statement(result={"extensions": {"http://x.org/ext": None, "http://x.org/ext2": {"a": None}}})
    assert _post(lrs, body).status_code == 200


@pytest.mark.parametrize("obj", [
    {"objectType": "StatementRef", "id": str(uuid.uuid4())},
    {"objectType": "SubStatement", "actor": ADA, "verb": {"id": "http://x.org/v"}, "object": {"id": "http://x.org/a"}},
    {"objectType": "Agent", "mbox": "mailto:b@example.org"},
])
@pytest.mark.parametrize("field", ["revision", "platform"])
def test_revision_and_platform_only_when_the_object_is_an_activity(lrs, obj, field):
    assert _post(lrs, statement(object=obj, context={field: "x"})).status_code == 400
    assert _post(lrs, statement(context={field: "x"})).status_code == 200


def test_revision_in_a_substatement_needs_an_activity_object_too(lrs):
    sub = {"objectType": "SubStatement", "actor": ADA, "verb": {"id": "http://x.org/v"},
           "object": {"objectType": "Agent", "mbox": "mailto:b@example.org"}, "context": {"platform": "x"}}
    assert _post(lrs, statement(object=sub)).status_code == 400


MEMBERS = [{"mbox": "mailto:app@example.org"}, {"mbox": "mailto:user@example.org"}]


@pytest.mark.parametrize(("authority", "status"), [
    ({"objectType": "Agent", "mbox": "mailto:someone@example.org"}, 200),
    ({"objectType": "Group", "member": MEMBERS}, 200),
    ({"objectType": "Group", "member": MEMBERS, "mbox": "mailto:group@example.org"}, 400),
    ({"objectType": "Group", "member": MEMBERS, "openid": "http://openid.example.org/g"}, 400),
    ({"objectType": "Group", "member": MEMBERS[:1]}, 400),
    ({"objectType": "Group", "member": [*MEMBERS, {"mbox": "mailto:third@example.org"}]}, 400),
    ({"objectType": "Group", "mbox": "mailto:group@example.org"}, 400),
])
def test_an_authority_is_an_agent_or_an_anonymous_group_of_two(lrs, authority, status):
    assert _post(lrs, statement(authority=authority)).status_code == status


def test_the_lrs_fills_in_the_authority_when_none_is_given(lrs):
    [statement_id] = _post(lrs, statement()).json()
    stored = lrs.get("/xapi/statements", params={"statementId": statement_id}).json()
    assert stored["authority"]["account"]["name"] == lrs.credentials[0]


# -- xAPI 2.0 beside 1.0.3 ------------------------------------------------------------------------------------------

def test_about_lists_both_versions(lrs):
    assert set(TestClient(lrs.app).get("/xapi/about").json()["version"]) == {"1.0.3", "2.0.0"}


def test_a_2_0_client_gets_2_0_answers_and_its_statements_are_stored_as_2_0(lrs):
    response = _post(lrs, statement(), headers=V2)
    assert response.status_code == 200 and response.headers["X-Experience-API-Version"] == "2.0.0"
    stored = lrs.get("/xapi/statements", params={"statementId": response.json()[0]}).json()
    assert stored["version"] == "2.0.0"


CONTEXT_AGENTS = {"contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:tutor@example.org"},
                                     "relevantTypes": ["http://x.org/roles/tutor"]}],
                  "contextGroups": [{"objectType": "contextGroup", "group": {"objectType": "Group", "member": [ADA]},
                                     "relevantTypes": ["http://x.org/roles/study-group"]}]}


@pytest.mark.parametrize(("version", "headers", "status"), [
    ("1.0.3", V, 200), ("1.0", V, 200), ("2.0.0", V, 400), ("2.0.0", V2, 200), ("1.0.3", V2, 200),
    ("0.95", V2, 400), ("3.0.0", V2, 400)])
def test_a_statement_version_is_one_the_client_speaks(lrs, version, headers, status):
    assert _post(lrs, statement(version=version), headers=headers).status_code == status


def test_context_agents_and_groups_are_xapi_2_0(lrs):
    body = statement(context=CONTEXT_AGENTS)
    assert _post(lrs, body).status_code == 400  # a 1.0.3 client: an unknown property
    [statement_id] = _post(lrs, body, headers=V2).json()
    tutor = lrs.get("/xapi/statements", params={"agent": json.dumps({"mbox": "mailto:tutor@example.org"}),
                                                "related_agents": "true"}).json()["statements"]
    assert [s["id"] for s in tutor] == [statement_id]  # a context agent is a related agent


@pytest.mark.parametrize("bad", [
    {"contextAgents": [{"agent": {"mbox": "mailto:t@example.org"}}]},  # no objectType
    {"contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:t@example.org"}, "relevantTypes": []}]},
    {"contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:t@example.org"},
                        "relevantTypes": ["not an IRI"]}]},
    {"contextGroups": [{"objectType": "contextGroup", "group": {"mbox": "mailto:t@example.org"}}]},  # not a Group
])
def test_malformed_context_agents_and_groups_are_refused(lrs, bad):
    assert _post(lrs, statement(context=bad), headers=V2).status_code == 400


@pytest.mark.parametrize(("timestamp", "status"), [
    ("2008-09-15 15:53:00.601+00:00", 200), ("2008-09-15T15:53:00.601Z", 200), ("2008-09-15T15:53:00.601+0200", 200),
    ("2008-09-15T15:53:00.601-00", 400), ("2008-09-15T15:53:00.601-0000", 400),
    ("2008-09-15T15:53:00.601-00:00", 400), ("01/011/2015", 400), ("should fail", 400), ("2008-02-30T10:00:00Z", 400),
])
@pytest.mark.parametrize("headers", [V, V2], ids=["1.0.3", "2.0.0"])
def test_timestamps_are_iso_8601_or_rfc_3339_without_negative_zero(lrs, timestamp, status, headers):
    assert _post(lrs, statement(timestamp=timestamp), headers=headers).status_code == status


# -- signed statements (1.0.3 part two, 2.6) ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def signer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "LearnLake test signer")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    return key, base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def _jws(payload: bytes, key, header: dict) -> bytes:
    import jwt

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    secret = pem if header["alg"].startswith("RS") else b"shared-secret-of-32-bytes-or-more!!"
    return jwt.api_jws.PyJWS().encode(payload, secret, algorithm=header["alg"],
                                      headers={k: v for k, v in header.items() if k != "alg"}).encode()


def _signed(body: dict, signature: bytes, content_type="application/octet-stream"):
    body = copy.deepcopy(body)
    body["attachments"] = [{"usageType": "http://adlnet.gov/expapi/attachments/signature",
                            "display": {"en-US": "signature"}, "contentType": content_type,
                            "length": len(signature), "sha2": hashlib.sha256(signature).hexdigest()}]
    boundary = "signed-boundary"
    content = (f"\r\n--{boundary}\r\nContent-Type:application/json\r\n\r\n".encode() + orjson.dumps(body)
               + f"\r\n--{boundary}\r\nContent-Type:{content_type}\r\nContent-Transfer-Encoding:binary\r\n"
                 f"X-Experience-API-Hash:{body['attachments'][0]['sha2']}\r\n\r\n".encode()
               + signature + f"\r\n--{boundary}--".encode())
    return content, {"Content-Type": f"multipart/mixed; boundary={boundary}"}


def test_a_signed_statement_with_rs256_is_stored_with_its_signature(lrs, signer):
    key, certificate = signer
    body = statement(id=str(uuid.uuid4()))
    for header in ({"alg": "RS256"}, {"alg": "RS512", "x5c": [certificate]}):
        body = statement(id=str(uuid.uuid4()))
        content, headers = _signed(body, _jws(orjson.dumps(body), key, header))
        response = lrs.post("/xapi/statements", content=content, headers=headers)
        assert response.status_code == 200, response.text
        stored = lrs.get("/xapi/statements", params={"statementId": body["id"], "attachments": "true"})
        assert stored.headers["content-type"].startswith("multipart/mixed")


@pytest.mark.parametrize("case", ["bad content type", "hmac algorithm", "broken JSON", "another statement",
                                  "not a JWS", "tampered signature with x5c"])
def test_a_malformed_signature_is_400_and_nothing_is_stored(lrs, signer, case):
    key, certificate = signer
    body = statement(id=str(uuid.uuid4()))
    payload, header, content_type = orjson.dumps(body), {"alg": "RS256"}, "application/octet-stream"
    if case == "bad content type":
        content_type = "text/plain; charset=ascii"
    if case == "hmac algorithm":
        header = {"alg": "HS256"}
    if case == "broken JSON":
        payload = payload.replace(b'"', b"'", 1)
    if case == "another statement":
        payload = orjson.dumps({**body, "verb": {"id": "http://x.org/other"}})
    signature = b"not.a.jws!" if case == "not a JWS" else _jws(payload, key, header)
    if case == "tampered signature with x5c":
        signature = _jws(payload, key, {"alg": "RS256", "x5c": [certificate]})
        head, claims, sig = signature.split(b".")
        signature = b".".join([head, claims, sig[:-4] + (b"AAAA" if sig[-4:] != b"AAAA" else b"BBBB")])
    content, headers = _signed(body, signature, content_type)
    response = lrs.post("/xapi/statements", content=content, headers=headers)
    assert response.status_code == 400, response.text
    assert lrs.get("/xapi/statements", params={"statementId": body["id"]}).status_code == 404


@pytest.mark.parametrize(("method", "path"), [("delete", "/xapi/statements"), ("delete", "/xapi/activities"),
                                              ("post", "/xapi/activities"), ("put", "/xapi/activities"),
                                              ("delete", "/xapi/agents"), ("post", "/xapi/agents"),
                                              ("put", "/xapi/agents")])
def test_a_method_the_specification_does_not_define_is_405_even_without_credentials(lrs, method, path):
    assert getattr(TestClient(lrs.app, headers=V), method)(path).status_code == 405
