"""The xAPI Statement Resource's attachments (multipart/mixed) and what becomes of the people statements name."""

from pathlib import Path

import orjson
import polars as pl
import pytest

from lake import readers
from lake.committer import Committer
from tests.serving.conftest import COMPLETED, statement
from tests.serving.test_xapi import _get, _post

# -- attachments (multipart/mixed) ------------------------------------------------------------


def _multipart(statements, parts, boundary="xapi-boundary"):
    import json as _json

    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{_json.dumps(statements)}\r\n".encode()]
    for content_type, content, sha2, encoding in parts:
        chunks.append(f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n"
                      f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), {"Content-Type": f"multipart/mixed; boundary={boundary}"}


def _with_attachment(content: bytes):
    import hashlib

    sha2 = hashlib.sha256(content).hexdigest()
    attachment = {"usageType": "http://example.org/attachments/notes", "display": {"en-US": "notes"},
                  "contentType": "text/plain", "length": len(content), "sha2": sha2}
    return statement(attachments=[attachment]), sha2


def test_attachments_travel_in_multipart_requests_and_answers(lrs):
    import email.parser
    import email.policy

    content = b"signed by Ada\r\n\x00\xff binary too"
    body_statement, sha2 = _with_attachment(content)
    body, headers = _multipart([body_statement], [("text/plain", content, sha2, "binary")])
    response = lrs.post("/xapi/statements", content=body, headers=headers)
    assert response.status_code == 200, response.text
    [statement_id] = response.json()

    answer = _get(lrs, statementId=statement_id, attachments="true")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("multipart/mixed")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + answer.headers["content-type"].encode() + b"\r\n\r\n" + answer.content)
    first, attachment = list(message.iter_parts())
    assert first.get_content_type() == "application/json"
    assert attachment["X-Experience-API-Hash"] == sha2
    assert attachment.get_payload(decode=True) == content
    assert _get(lrs, statementId=statement_id).json()["attachments"][0]["sha2"] == sha2  # JSON without it


@pytest.mark.parametrize("case", ["wrong hash", "missing part", "undeclared part", "not binary", "json not first"])
def test_bad_multipart_requests_are_400(lrs, case):
    content = b"signature"
    body_statement, sha2 = _with_attachment(content)
    parts = {
        "wrong hash": [("text/plain", b"something else", sha2, "binary")],
        "missing part": [],
        "undeclared part": [("text/plain", content, sha2, "binary"), ("text/plain", b"x", _sha(b"x"), "binary")],
        "not binary": [("text/plain", content, sha2, "base64")],
    }.get(case, [("text/plain", content, sha2, "binary")])
    body, headers = _multipart([body_statement], parts)
    if case == "json not first":
        body = body.replace(b"Content-Type: application/json", b"Content-Type: text/plain", 1)
    response = lrs.post("/xapi/statements", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert _get(lrs).json()["statements"] == []


def _sha(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


# -- people stay in the LRS --------------------------------------------------------------------

PEOPLE = {
    "actor member": {"mbox": "mailto:member@example.org", "name": "Member Person"},
    "openid member": {"openid": "https://openid.example.org/grace"},
    "object agent": {"objectType": "Agent", "mbox_sha1sum": "ad1c4b3d3f2f1a4fd1a1b7f38f6e3d8b0e8e6a77"},
    "instructor": {"mbox": "mailto:teacher@example.org", "name": "Teacher Person"},
    "team member": {"account": {"homePage": "https://lms.example.org", "name": "team-member-login"}},
    "authority": {"mbox": "mailto:authority@example.org", "name": "Authority Person"},
    "sub actor": {"mbox": "mailto:sub.actor@example.org", "name": "Sub Person"},
    "sub instructor": {"mbox": "mailto:sub.teacher@example.org"},
}


def _identifiers(person: dict) -> list[str]:
    values = [v for k, v in person.items() if k in ("mbox", "mbox_sha1sum", "openid", "name")]
    values += [person["account"]["name"]] if "account" in person else []
    return [v.removeprefix("mailto:") for v in values]


def _lake_text(lake_root) -> str:
    """Every value of every Delta table in the lake, and every Delta log entry, as text."""
    import pyarrow.parquet as pq

    texts = [path.read_text() for path in lake_root.rglob("_delta_log/*.json")]
    texts += [str(pq.read_table(path).to_pylist()) for path in lake_root.rglob("*.parquet")]
    return "\n".join(texts)


def test_no_one_a_statement_names_reaches_the_lake_but_the_lrs_keeps_them(lrs, learnlake_home):
    sub = {"objectType": "SubStatement", "actor": PEOPLE["sub actor"], "verb": {"id": COMPLETED},
           "object": {"objectType": "Agent", **PEOPLE["actor member"]},
           "context": {"instructor": PEOPLE["sub instructor"]}}
    named = [
        statement(actor={"objectType": "Group", "name": "Study group",
                         "member": [PEOPLE["actor member"], PEOPLE["openid member"]]}),
        statement(object=PEOPLE["object agent"], authority=PEOPLE["authority"],
                  context={"instructor": PEOPLE["instructor"],
                           "team": {"objectType": "Group", "member": [PEOPLE["team member"]]},
                           "extensions": {"http://example.org/contact": "write to help.desk@example.org"}},
                  result={"response": "my e-mail is ada.l@example.org"}),
        statement(object=sub),
    ]
    ids = [_post(lrs, body).json()[0] for body in named]
    Committer(lrs.app.state.landing, learnlake_home).flush()
    lake = _lake_text(Path(learnlake_home.lake_uri))
    assert readers.read_table("bronze.events").height == 3
    for person, fields in PEOPLE.items():
        for value in _identifiers(fields):
            assert value not in lake, f"{person}: {value} reached the lake"
    assert "@example.org" not in lake and "ada@" not in lake
    assert "<email>" in lake  # free text keeps its words, not the addresses
    # The LRS keeps each statement as it was sent, for xAPI clients.
    group = _get(lrs, statementId=ids[0]).json()["actor"]
    assert group["member"][0]["mbox"] == "mailto:member@example.org"
    assert _get(lrs, statementId=ids[1]).json()["context"]["instructor"]["mbox"] == "mailto:teacher@example.org"


def test_one_person_has_one_pseudonym_wherever_they_appear(lrs, learnlake_home):
    teacher = {"mbox": "mailto:teacher@example.org"}
    (as_actor,) = _post(lrs, statement(actor=teacher)).json()
    (as_instructor,) = _post(lrs, statement(context={"instructor": teacher})).json()
    Committer(lrs.app.state.landing, learnlake_home).flush()
    events = readers.read_table("bronze.events")
    payload = {row["event_id"]: orjson.loads(row["payload"])["xapi"] for row in events.iter_rows(named=True)}
    pseudonym = payload[as_instructor]["context"]["instructor"]["account"]["name"]
    assert pseudonym == payload[as_actor]["actor"]["account"]["name"]
    assert pseudonym == events.filter(pl.col("event_id") == as_actor)["learner_id"].item()
