"""Source keys: who may write events and statements, made and revoked by the CLI or an admin."""

import json
import time
import uuid

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lake import readers
from lake.committer import Committer
from learnlake.cli import app as cli
from learnlake.settings import get_settings
from serving.core.enums import Role
from serving.core.source_keys import RECHECK_S, key_hash, list_keys, revoke_key
from serving.main import create_app
from tests.serving.conftest import source_key
from tests.serving.core.conftest import CoreApi, core_settings


def _event(**changes) -> dict:
    return {"event_id": str(uuid.uuid4()), "learner_id": "lrn_someone", "verb": "viewed",
            "object": {"type": "lesson", "id": "lesson-1", "course_id": "c-1"},
            "timestamp": "2026-09-07T10:15:00Z", **changes}


@pytest.fixture
def app_client(learnlake_home):
    settings = learnlake_home.model_copy(update={"run_committer": False, "ingest_validation_workers": 0})
    with TestClient(create_app(settings)) as client:
        yield client, settings


def _post(client, key: str | None, events: list[dict]):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/v1/events", content=orjson.dumps(events), headers=headers)


def test_no_key_a_wrong_key_or_a_revoked_key_writes_nothing(app_client):
    client, settings = app_client
    key = source_key(client.app, "lms")
    for credentials in (None, "llk_" + "a" * 43, key[:-1], "Bearer-less", "x" * 200):
        refused = _post(client, credentials, [_event()])
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    jwt_like = client.post("/v1/events", json=[_event()], headers={"Authorization": "Basic bGxrOng="})
    assert jwt_like.status_code == 401
    assert _post(client, key, [_event()]).status_code == 202
    assert client.post("/api/v1/admin/sources/lms/revoke").status_code == 401  # that needs an admin
    revoke_key(client.app.state.database, "lms")  # as the CLI, or another API process, does
    time.sleep(RECHECK_S)  # an API process reads a key again within this long
    assert _post(client, key, [_event()]).status_code == 401
    assert Committer(client.app.state.landing, settings).flush().committed == 1


def test_a_key_without_the_scope_is_refused_with_403(app_client):
    client, _ = app_client
    reader = source_key(client.app, "dashboard-reader", ["xapi:read"])
    refused = _post(client, reader, [_event()])
    assert refused.status_code == 403 and "events:write" in refused.json()["detail"]


def test_each_event_carries_the_name_of_its_key(app_client):
    client, settings = app_client
    moodle, app = source_key(client.app, "moodle"), source_key(client.app, "mobile-app")
    _post(client, moodle, [_event(), _event()])
    _post(client, app, [_event()])
    Committer(client.app.state.landing, settings).flush()
    events = readers.read_table("bronze.events")
    assert sorted(events["source_key"].to_list()) == ["mobile-app", "moodle", "moodle"]
    assert set(events["source"]) == {"api"}


def test_the_status_is_for_keys_and_admins(app_client):
    client, _ = app_client
    key = source_key(client.app, "lms", ["events:write"])
    assert client.get("/v1/ingest/status").status_code == 401
    assert client.get("/v1/ingest/status", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    api = CoreApi(client, None)
    api.settings = client.app.state.settings
    for role, status in ((Role.LEARNER, 403), (Role.INSTRUCTOR, 403), (Role.ADMIN, 200)):
        assert client.get("/v1/ingest/status", headers=api.user(role).headers).status_code == status


def test_rate_limits_are_per_key(learnlake_home):
    settings = learnlake_home.model_copy(update={"run_committer": False, "ingest_validation_workers": 0,
                                                 "rate_limit_ingest": "3/minute"})
    with TestClient(create_app(settings)) as client:
        busy, quiet = source_key(client.app, "busy"), source_key(client.app, "quiet")
        answers = [_post(client, busy, [_event()]) for _ in range(4)]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert _post(client, quiet, [_event()]).status_code == 202  # another key has its own budget


def test_rate_limits_per_key_are_shared_through_redis(learnlake_home, redis_url):
    settings = learnlake_home.model_copy(update={"run_committer": False, "ingest_validation_workers": 0,
                                                 "rate_limit_ingest": "2/minute", "redis_url": redis_url})
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        key = source_key(first.app, "shared")
        assert _post(first, key, [_event()]).status_code == 202
        assert _post(second, key, [_event()]).status_code == 202
        assert _post(first, key, [_event()]).status_code == 429  # the replicas count together


def test_admins_make_list_and_revoke_keys_over_http(learnlake_home, database_url):
    settings = core_settings(learnlake_home, database_url)
    with TestClient(create_app(settings)) as client:
        api = CoreApi(client, settings)
        admin, instructor = api.user(Role.ADMIN), api.user(Role.INSTRUCTOR)
        assert client.post("/api/v1/admin/sources", json={"name": "lms"}, headers=instructor.headers).status_code == 403
        made = client.post("/api/v1/admin/sources", json={"name": "lms", "scopes": ["events:write"]},
                           headers=admin.headers)
        assert made.status_code == 201
        key = made.json()["key"]
        assert made.json()["scopes"] == ["events:write"]
        assert client.post("/api/v1/admin/sources", json={"name": "lms"}, headers=admin.headers).status_code == 409
        for bad in ({"name": "has space"}, {"name": "x" * 65}, {"name": "ok", "scopes": ["root"]},
                    {"name": "ok", "scopes": []}):
            assert client.post("/api/v1/admin/sources", json=bad, headers=admin.headers).status_code == 422, bad
        assert _post(client, key, [_event()]).status_code == 202
        listed = client.get("/api/v1/admin/sources", headers=admin.headers).json()
        assert [s["name"] for s in listed] == ["lms"] and "key" not in listed[0]
        assert key not in client.get("/api/v1/admin/sources", headers=admin.headers).text
        assert client.post("/api/v1/admin/sources/nobody/revoke", headers=admin.headers).status_code == 404
        revoked = client.post("/api/v1/admin/sources/lms/revoke", headers=admin.headers)
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        assert _post(client, key, [_event()]).status_code == 401  # the process it was revoked through: at once


def test_the_cli_prints_a_key_once_and_keeps_only_its_hash(learnlake_home):
    runner = CliRunner()
    added = runner.invoke(cli, ["sources", "add", "moodle-prod", "--scopes", "events:write,xapi:write", "--json"])
    assert added.exit_code == 0, added.output
    last = json.loads(added.output.strip().splitlines()[-1])
    assert last["name"] == "moodle-prod" and last["key"].startswith("llk_")
    assert last["scopes"] == ["events:write", "xapi:write"]
    again = runner.invoke(cli, ["sources", "add", "moodle-prod"])
    assert again.exit_code == 1 and "exists" in again.output
    bad = runner.invoke(cli, ["sources", "add", "other", "--scopes", "everything"])
    assert bad.exit_code == 2 and "unknown scope" in bad.output

    core_db = (learnlake_home.home / "core.db").read_bytes()
    assert last["key"].encode() not in core_db and key_hash(last["key"]).encode() in core_db

    listed = json.loads(runner.invoke(cli, ["sources", "list", "--json"]).output)
    assert [(s["name"], s["revoked_at"]) for s in listed] == [("moodle-prod", None)]
    assert runner.invoke(cli, ["sources", "revoke", "moodle-prod"]).exit_code == 0
    assert runner.invoke(cli, ["sources", "revoke", "nobody"]).exit_code == 1
    from serving.core.db import Database

    database = Database(get_settings().database_url)
    try:
        assert list_keys(database)[0].revoked_at is not None
    finally:
        database.dispose()


def test_a_key_made_by_the_cli_works_against_a_running_app(learnlake_home):
    added = CliRunner().invoke(cli, ["sources", "add", "app", "--json"])
    key = json.loads(added.output.strip().splitlines()[-1])["key"]
    settings = learnlake_home.model_copy(update={"run_committer": False, "ingest_validation_workers": 0})
    with TestClient(create_app(settings)) as client:
        assert _post(client, key, [_event()]).status_code == 202
        statement = {"actor": {"mbox": "mailto:ada@example.org"}, "verb": {"id": "http://example.org/v"},
                     "object": {"id": "http://example.org/o"}}
        stored = client.post("/xapi/statements", json=statement, auth=("app", key),
                             headers={"X-Experience-API-Version": "1.0.3"})
        assert stored.status_code == 200
