"""/metrics, request ids and traces of the API, against a real app, landing log and Delta lake."""

import logging
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from lake.committer import Committer
from serving.main import create_app
from tests.serving.conftest import source_key


def _events(n: int) -> list[dict]:
    return [{"event_id": str(uuid.uuid4()), "learner_id": "learner-a", "verb": "viewed",
             "object": {"type": "lesson", "id": f"lesson-{i}", "course_id": "c1"},
             "timestamp": "2026-10-01T10:00:00Z"} for i in range(n)]


def _samples(client) -> dict[tuple, float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def _value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def api(learnlake_home):
    settings = learnlake_home.model_copy(update={"run_committer": False, "ingest_stalled_after_s": 1.0})
    with TestClient(create_app(settings)) as client:
        yield client, settings


def test_ingestion_is_counted_by_outcome_and_the_backlog_is_there_until_the_commit(api):
    client, settings = api
    bearer = {"Authorization": f"Bearer {source_key(client.app)}"}
    before = _samples(client)
    batch = _events(7)
    assert client.post("/v1/events", json=batch, headers=bearer).status_code == 202
    assert client.post("/v1/events", json=batch[:3], headers=bearer).status_code == 202  # a replay
    assert client.post("/v1/events", json=[{"event_id": "x"}], headers=bearer).status_code == 422
    assert client.post("/v1/events", content=b"[{", headers=bearer).status_code == 400
    assert client.post("/v1/events", json=batch).status_code == 401

    after = _samples(client)
    delta = {key: after[key] - before.get(key, 0.0) for key in after}
    assert _value(delta, "learnlake_ingest_events_total", api="native", outcome="stored") == 7
    assert _value(delta, "learnlake_ingest_events_total", api="native", outcome="duplicate") == 3
    assert _value(delta, "learnlake_ingest_rejected_total", api="native", reason="invalid") == 1
    assert _value(delta, "learnlake_ingest_rejected_total", api="native", reason="malformed") == 1
    # Requests by route template and status, not by path (a client cannot grow the series).
    assert _value(delta, "learnlake_http_request_duration_seconds_count", method="POST", route="/v1/events",
                  status="202") == 2
    assert _value(delta, "learnlake_http_request_duration_seconds_count", method="POST", route="/v1/events",
                  status="401") == 1
    writer = settings.writer_id
    assert _value(after, "learnlake_landing_backlog_events", writer=writer) == 7
    assert _value(after, "learnlake_landing_backlog_batches", writer=writer) == 1
    assert _value(after, "learnlake_landing_oldest_pending_age_seconds", writer=writer) > 0

    Committer(client.app.state.landing, settings).flush()
    committed = _samples(client)
    assert _value(committed, "learnlake_landing_backlog_events", writer=writer) == 0
    assert _value(committed, "learnlake_committed_events_total", writer=writer) == 7
    assert _value(committed, "learnlake_delta_commit_duration_seconds_count", writer=writer) == 1
    assert _value(committed, "learnlake_committer_state", writer=writer, state="ok") == 1
    assert _value(committed, "learnlake_ingestion_stalled", writer=writer) == 0
    assert _value(committed, "learnlake_delta_table_files", table="bronze.events") >= 1


def test_a_failing_committer_is_a_metric_at_once(api, tmp_path):
    """The lake cannot be written (its root is a file): the first failed flush shows as failing and stalled."""
    client, settings = api
    bearer = {"Authorization": f"Bearer {source_key(client.app)}"}
    assert client.post("/v1/events", json=_events(2), headers=bearer).status_code == 202
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    with pytest.raises(Exception):  # noqa: B017 - whatever the filesystem says
        Committer(client.app.state.landing, settings.model_copy(update={"lake_uri": str(blocked / "lake")})).flush()
    samples = _samples(client)
    writer = settings.writer_id
    assert _value(samples, "learnlake_committer_state", writer=writer, state="failing") == 1
    assert _value(samples, "learnlake_ingestion_stalled", writer=writer) == 1
    assert _value(samples, "learnlake_committer_consecutive_failures", writer=writer) == 1
    assert _value(samples, "learnlake_committer_failed_flushes_total", writer=writer) == 1
    status = client.get("/v1/ingest/status", headers=bearer).json()
    assert status["committer"]["state"] == "failing" and status["backlog_events"] == 2


def test_each_answer_carries_a_request_id_that_follows_its_events_into_the_landing_log_and_the_commit(
        api, caplog):
    client, settings = api
    bearer = {"Authorization": f"Bearer {source_key(client.app)}"}
    mine = "client-chosen-id-0001"
    answer = client.post("/v1/events", json=_events(2), headers={**bearer, "X-Request-ID": mine})
    assert answer.headers["x-request-id"] == mine
    hostile = client.get("/api/v1/courses", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert hostile.status_code == 401 and re.fullmatch(r"[0-9a-f]{24}", hostile.headers["x-request-id"])
    generated = client.get("/api/v1/courses").headers["x-request-id"]
    assert generated != hostile.headers["x-request-id"]
    assert "x-request-id" not in client.get("/health/live").headers  # probes are left out

    (landed,) = client.app.state.landing.read_after(0, 100)
    assert landed.request_id == mine
    with caplog.at_level(logging.INFO, logger="lake.committer"):
        Committer(client.app.state.landing, settings).flush()
    (commit,) = [r for r in caplog.records if r.name == "lake.committer" and hasattr(r, "request_ids")]
    assert commit.request_ids == [mine] and commit.events == 2


def test_metrics_can_ask_for_a_bearer_token(learnlake_home):
    settings = learnlake_home.model_copy(update={"run_committer": False, "metrics_token": SecretStr("scrape-secret")})
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200


def test_without_telemetry_there_is_no_metrics_route_and_no_request_id(learnlake_home):
    settings = learnlake_home.model_copy(update={"run_committer": False, "telemetry": False})
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 404
        assert "x-request-id" not in client.get("/api/v1/courses").headers


class _OtlpReceiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP trace endpoint: keeps the name of every span it is sent."""

    spans: ClassVar[list[str]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(span.name for span in scope.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_):
        pass


def test_traces_of_requests_and_sql_go_to_the_otlp_endpoint_when_one_is_set(learnlake_home, monkeypatch):
    from serving.telemetry.tracing import flush, shutdown

    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtlpReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    try:
        settings = learnlake_home.model_copy(update={"run_committer": False})
        with TestClient(create_app(settings)) as client:
            signed_in = client.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": "x" * 12})
            assert signed_in.status_code == 401
            flush()
    finally:
        shutdown()  # later tests' apps and HTTP clients are not traced, nor wait on this endpoint
        server.shutdown()
    assert any(name.startswith("POST /api/v1/auth/login") for name in _OtlpReceiver.spans), _OtlpReceiver.spans
    assert any(name.split()[0] in ("SELECT", "connect") for name in _OtlpReceiver.spans), _OtlpReceiver.spans
