"""The ingestion promise, tried on generated batches: whatever the API acknowledges ends in
``bronze.events`` or in ``bronze.dead_letters`` with its reason, nothing else, and a good batch
after it is still committed (ARCHITECTURE.md decisions 2 and 7).

Batches are valid events bent by hypothesis: any field replaced by any JSON value, timestamps
as odd strings, numbers or dates at the ends of the calendar, extra fields of any shape.
"""

import json
import string
import uuid

import orjson
import polars as pl
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lake import readers
from lake.committer import Committer
from serving.main import create_app
from tests.serving.conftest import source_key

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
timestamps = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z",
                     "2026-09-07T10:15:00Z", "2026-09-07T10:15:00.123456789Z", "2026-09-07 10:15:00+00:00",
                     "2026-02-30T00:00:00Z", "1700000000", ""]),
    st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
)
FIELDS = ("learner_id", "verb", "object", "result", "context", "timestamp", "schema_version")


@st.composite
def events(draw) -> dict:
    event = {"event_id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))), "learner_id": "lrn_a",
             "verb": "answered", "object": {"type": "quiz", "id": "q-1", "course_id": "c-1"},
             "result": {"score": 0.5, "success": True}, "context": {"platform": "web"},
             "timestamp": "2026-09-07T10:15:00Z"}
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        event[field] = draw(timestamps if field == "timestamp" else json_values)
    if draw(st.booleans()):
        event["result"] = {"score": draw(st.floats(-1, 2)), "duration_s": draw(st.floats(-1, 1e300)),
                           "response": draw(st.text(string.printable, max_size=50))}
    if draw(st.booleans()):
        event[draw(st.text(min_size=1, max_size=8))] = draw(json_values)  # a field a newer client sends
    return event


@pytest.fixture(scope="module")
def ingest(tmp_path_factory):
    from learnlake.settings import Settings

    home = tmp_path_factory.mktemp("property") / "learnlake"
    app_settings = Settings(home=home).model_copy(update={"run_committer": False, "ingest_validation_workers": 0})
    with TestClient(create_app(app_settings)) as client:
        client.headers["Authorization"] = f"Bearer {source_key(client.app)}"
        yield client, app_settings


def _landed_ids(settings) -> tuple[set[str], set[str]]:
    """Event ids in bronze.events, and event ids named by a dead letter's payload."""
    committed = set(readers.read_table("bronze.events", settings=settings)["event_id"]) \
        if readers.table_exists("bronze.events", settings) else set()
    dead = set()
    if readers.table_exists("bronze.dead_letters", settings):
        for payload in readers.read_table("bronze.dead_letters", settings=settings)["payload"]:
            item = orjson.loads(payload)
            dead.add(str(item.get("event_id", "")).lower() if isinstance(item, dict) else "")
    return committed, dead


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(events(), min_size=1, max_size=6))
def test_what_is_acknowledged_is_committed_or_dead_lettered_and_nothing_stalls(ingest, batch):
    client, app_settings = ingest
    # The standard library writes what a careless client might: integers past 64 bits, Infinity.
    answer = client.post("/v1/events", content=json.dumps(batch).encode())
    assert answer.status_code in (202, 400, 413, 422), answer.text
    committer = Committer(client.app.state.landing, app_settings)
    committer.flush()  # must not raise, whatever was acknowledged
    committed, dead = _landed_ids(app_settings)
    if answer.status_code == 202:
        acknowledged = {event["event_id"].lower() for event in batch}
        assert acknowledged <= committed | dead
    assert client.app.state.landing.backlog() == 0
    good = {"event_id": str(uuid.uuid4()), "learner_id": "lrn_b", "verb": "viewed",
            "object": {"type": "lesson", "id": "l-1"}, "timestamp": "2026-09-07T10:15:00Z"}
    assert client.post("/v1/events", json=[good]).status_code == 202
    assert committer.flush().committed == 1
    stored = readers.read_table("bronze.events", settings=app_settings)
    assert stored.filter(pl.col("event_id") == good["event_id"]).height == 1
