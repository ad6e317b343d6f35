"""POST /v1/events: what a client sends, what it gets back, and what is stored."""

import uuid

import orjson
import pytest
from fastapi.testclient import TestClient

from lake import readers
from lake.committer import Committer
from lake.event_rows import row_to_native
from lake.sources.simulator import SimulationConfig, simulate
from serving.main import create_app
from tests.serving.conftest import source_key


@pytest.fixture(scope="module")
def natives():
    events = simulate(SimulationConfig(learners=10, courses=2, days=14)).events
    return [row_to_native(row) for row in events.head(400).iter_rows(named=True)]


@pytest.fixture
def api(learnlake_home):
    """A client that sends a source key with every request."""
    settings = learnlake_home.model_copy(update={"run_committer": False, "ingest_max_events": 300})
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {source_key(client.app)}"
        yield client, settings


def _flush(client, settings):
    return Committer(client.app.state.landing, settings).flush()


def _stored_ids() -> list[str]:
    return sorted(readers.read_table("bronze.events")["event_id"]) if readers.table_exists("bronze.events") else []


def test_a_valid_batch_is_acknowledged_and_committed(api, natives):
    client, settings = api
    response = client.post("/v1/events", content=orjson.dumps(natives[:200]))
    assert response.status_code == 202
    assert response.json() == {"accepted": 200, "stored": 200, "duplicates": 0}
    assert client.get("/v1/ingest/status").json()["backlog_batches"] == 1
    assert _flush(client, settings).committed == 200
    assert _stored_ids() == sorted(n["event_id"] for n in natives[:200])
    status = client.get("/v1/ingest/status").json()
    assert {k: status[k] for k in ("writer_id", "landed_seq", "committed_seq", "backlog_batches")} == {
        "writer_id": "api-0", "landed_seq": 1, "committed_seq": 1, "backlog_batches": 0}
    assert status["committer"]["state"] == "ok" and status["committer"]["committed_events"] == 200


def test_replays_are_acknowledged_and_not_stored_twice(api, natives):
    client, settings = api
    client.post("/v1/events", content=orjson.dumps(natives[:100]))
    again = client.post("/v1/events", content=orjson.dumps(natives[50:150]))
    assert again.json() == {"accepted": 100, "stored": 50, "duplicates": 50}
    upper = [dict(natives[0], event_id=natives[0]["event_id"].upper())]  # the same UUID, other case
    assert client.post("/v1/events", content=orjson.dumps(upper)).json()["duplicates"] == 1
    _flush(client, settings)
    assert _stored_ids() == sorted(n["event_id"] for n in natives[:150])


def _bad(items):
    return orjson.dumps(items)


def wrong_type(n):
    return [n[0], dict(n[1], result={"score": "high"}), n[2]]


def missing_field(n):
    return [n[0], {k: v for k, v in n[1].items() if k != "learner_id"}]


def unknown_verb(n):
    return [dict(n[0], verb="teleported")]


def duplicate_ids(n):
    return [n[0], n[1], dict(n[2], event_id=n[0]["event_id"])]


def naive_timestamp(n):
    return [dict(n[0], timestamp="2026-09-07T10:00:00")]


def future_timestamp(n):
    return [dict(n[0], timestamp="2999-01-01T00:00:00Z")]


def score_out_of_range(n):
    return [dict(n[0], result={"score": 1.5})]


def not_a_uuid(n):
    return [dict(n[0], event_id="42")]


@pytest.mark.parametrize(("make", "index", "field", "reason"), [
    (wrong_type, 1, "result.score", "valid number"),
    (missing_field, 1, "learner_id", "Field required"),
    (unknown_verb, 0, "verb", "Input should be 'registered'"),
    (duplicate_ids, 2, "event_id", "duplicate of the event at index 0"),
    (naive_timestamp, 0, "timestamp", "timezone"),
    (future_timestamp, 0, "timestamp", "future"),
    (score_out_of_range, 0, "result.score", "less than or equal to 1"),
    (not_a_uuid, 0, "event_id", "should match pattern"),
])
def test_an_invalid_event_rejects_the_whole_batch_with_the_reason(api, natives, make, index, field, reason):
    client, settings = api
    client.post("/v1/events", content=orjson.dumps(natives[:20]))
    _flush(client, settings)
    before = _stored_ids()
    response = client.post("/v1/events", content=_bad(make(natives[20:])))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "nothing was stored" in detail["message"]
    assert any(e["index"] == index and e["field"] == field and reason in e["reason"] for e in detail["errors"]), detail
    _flush(client, settings)
    assert _stored_ids() == before
    assert client.get("/v1/ingest/status").json()["landed_seq"] == 1


@pytest.mark.parametrize(("body", "status", "reason"), [
    (b'[{"event_id": ', 400, "malformed JSON"),
    (b"not json at all", 400, "malformed JSON"),
    (b'{"event_id": "x"}', 422, "JSON array"),
    (b"[]", 422, "empty"),
    (b"", 400, "malformed JSON"),
])
def test_bodies_that_are_not_event_arrays(api, body, status, reason):
    client, _ = api
    response = client.post("/v1/events", content=body)
    assert response.status_code == status
    assert reason in response.json()["detail"]
    assert client.get("/v1/ingest/status").json()["landed_seq"] == 0


def test_oversize_batches_and_bodies_are_refused(api, natives):
    client, _ = api
    too_many = [dict(natives[i % len(natives)], event_id=str(uuid.uuid4())) for i in range(301)]
    response = client.post("/v1/events", content=orjson.dumps(too_many))
    assert response.status_code == 413 and "at most 300" in response.json()["detail"]
    ten_mb = b"[" + b" " * (10 * 1024 * 1024) + b"]"
    response = client.post("/v1/events", content=ten_mb)
    assert response.status_code == 413 and "at most" in response.json()["detail"]

    def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(10):
            yield b" " * (1024 * 1024)

    response = client.post("/v1/events", content=chunks())
    assert response.status_code == 413
    assert client.get("/v1/ingest/status").json()["landed_seq"] == 0


def test_unknown_fields_are_kept_in_the_payload(api, natives):
    client, settings = api
    newer = [dict(natives[0], device={"os": "ios", "version": "18.1"})]
    assert client.post("/v1/events", content=orjson.dumps(newer)).status_code == 202
    _flush(client, settings)
    payload = orjson.loads(readers.read_table("bronze.events")["payload"][0])
    assert payload["device"] == {"os": "ios", "version": "18.1"}


def test_an_email_typed_into_free_text_never_reaches_the_lake(api, natives):
    client, settings = api
    chatty = [dict(natives[0], result={"response": "reach me at Ada.Lovelace+lms@example.co.uk"},
                   note={"contact": "mailto:ada@example.org"})]
    assert client.post("/v1/events", content=orjson.dumps(chatty)).status_code == 202
    as_learner = [dict(natives[1], learner_id="ada@example.org")]
    refused = client.post("/v1/events", content=orjson.dumps(as_learner))
    assert refused.status_code == 422 and "e-mail" in refused.text
    _flush(client, settings)
    row = readers.read_table("bronze.events").row(0, named=True)
    assert row["result_response"] == "reach me at <email>"
    assert "@" not in row["payload"] and orjson.loads(row["payload"])["note"] == {"contact": "mailto:<email>"}


def test_an_event_over_its_own_bound_is_refused_however_small_the_batch(api, natives):
    client, settings = api
    # Each added field within its rule, together over the bound of one event.
    junk = {f"note_{i}": "j" * 9_000 for i in range(settings.ingest_max_event_bytes // 9_000 + 1)}
    refused = client.post("/v1/events", content=orjson.dumps([natives[0], dict(natives[1], **junk)]))
    assert refused.status_code == 422
    assert refused.json()["detail"]["errors"] == [{"index": 1, "field": None,
                                                   "reason": f"the event is over {settings.ingest_max_event_bytes:,} bytes"}]
    assert len(refused.content) < 1000
    assert client.post("/v1/events", content=orjson.dumps([dict(natives[1], extra="e" * 1000)])).status_code == 202


@pytest.mark.parametrize(("field", "value"), [
    ("junk", "j" * 10_001), ("deep", {"a": {"b": {"c": {"d": 1}}}}), ("nan", float("nan")),
    ("huge", 10**400), ("long_list", list(range(101))),
])
def test_a_field_a_newer_client_adds_keeps_within_its_rule(api, natives, field, value):
    client, _ = api
    body = orjson.dumps([natives[0]])[:-2] + b', "' + field.encode() + b'": ' + _json(value) + b"}]"
    refused = client.post("/v1/events", content=body)
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["detail"]["errors"]
    assert problem["field"] == field and "10,000 characters" in problem["reason"]
    nested = orjson.dumps([dict(natives[0], object={**natives[0]["object"], "title": {"a": {"b": 1}}})])
    assert client.post("/v1/events", content=nested).json()["detail"]["errors"][0]["field"] == "object.title"


def _json(value) -> bytes:
    import json

    return json.dumps(value).encode()  # NaN and a 400-digit integer, as a careless client writes them
