"""Every state change of the core API reaches bronze.events once, in order per entity."""

import threading
import time
from collections import defaultdict

import orjson
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lake import readers
from lake.sources.core_outbox import OutboxRelay
from learnlake import cli
from learnlake.settings import get_settings
from serving.core.tables import OutboxEvent
from serving.main import create_app
from tests.serving.core.conftest import CoreApi, core_settings


def _drive_some_changes(api) -> None:
    teacher, learner = api.user("instructor"), api.user()
    api.client.post("/api/v1/auth/register", json={"email": "new@example.org", "name": "New",
                                                   "password": "a long password"})
    course = api.course(teacher, items=3)
    base = f"/api/v1/courses/{course['id']}"
    api.client.patch(base, json={"title": "Renamed"}, headers=teacher.headers)
    api.client.post(f"{base}/enrollments", headers=learner.headers)
    for item_id in course["item_ids"]:
        api.client.post(f"{base}/progress", json={"item_id": item_id, "status": "completed"}, headers=learner.headers)
    api.client.delete(f"{base}/enrollments/me", headers=learner.headers)
    api.client.post(f"{base}/enrollments", headers=learner.headers)
    api.client.patch("/api/v1/users/me", json={"name": "Changed"}, headers=learner.headers)
    api.client.post(f"{base}/archive", headers=teacher.headers)
    refused = api.client.post(f"{base}/enrollments", headers=api.user().headers)  # refused: no change, no event
    assert refused.status_code == 409


def _outbox(api) -> list[OutboxEvent]:
    with api.client.app.state.database.read() as session:
        return list(session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)))


def _domain_events():
    events = readers.read_table("bronze.events").filter(source="outbox")
    return [orjson.loads(p) | {"event_id": e} for p, e in zip(events["payload"], events["event_id"], strict=True)]


def test_every_change_is_relayed_once_and_in_order_per_entity(api):
    _drive_some_changes(api)
    written = _outbox(api)
    types = [e.event_type for e in written]
    assert types.count("progress.updated") == 3
    assert {"user.registered", "course.created", "course.published", "course.updated", "module.created",
            "content_item.created", "enrollment.created", "enrollment.completed", "enrollment.cancelled",
            "enrollment.reactivated", "user.updated", "course.archived"} <= set(types)
    relay = OutboxRelay(api.settings.database_url, api.settings)
    assert relay.relay().events == len(written)
    assert relay.relay().events == 0  # nothing twice
    lake = _domain_events()
    assert sorted(e["event_id"] for e in lake) == sorted(e.event_id for e in written)
    per_entity = defaultdict(list)
    for event in sorted(lake, key=lambda e: e["outbox_id"]):
        per_entity[event["entity_id"]].append(event["event_type"])
    enrollment = next(v for v in per_entity.values() if v[0] == "enrollment.created")
    assert enrollment == ["enrollment.created", "progress.updated", "progress.updated", "progress.updated",
                          "enrollment.completed", "enrollment.cancelled", "enrollment.reactivated"]
    stored = readers.read_table("bronze.events").filter(source="outbox")
    assert stored["event_id"].n_unique() == stored.height


def test_the_lake_gets_no_email_or_name(api):
    _drive_some_changes(api)
    OutboxRelay(api.settings.database_url, api.settings).relay()
    text = readers.read_table("bronze.events").write_json()
    with api.client.app.state.database.read() as session:
        people = session.execute(sa.text("SELECT id, email, name FROM users")).all()
    for user_id, email, name in people:
        assert email not in text and user_id not in text
        assert f'"{name}"' not in text


def test_a_relay_that_stops_between_claim_and_append_loses_and_repeats_nothing(api):
    _drive_some_changes(api)
    total = len(_outbox(api))
    crashed = OutboxRelay(api.settings.database_url, api.settings, batch_size=5)
    batch = crashed._claim()  # claimed, then the process dies before the Delta commit
    assert batch == 1
    relay = OutboxRelay(api.settings.database_url, api.settings, batch_size=5)
    stats = relay.relay()
    assert stats.events == total
    assert len(_domain_events()) == total
    # And a relay that dies after the Delta commit, before anything else: the lake is the checkpoint.
    teacher = api.user("instructor")
    api.client.post("/api/v1/courses", json={"title": "One more"}, headers=teacher.headers)
    late = OutboxRelay(api.settings.database_url, api.settings)
    late.relay()
    assert OutboxRelay(api.settings.database_url, api.settings).relay().events == 0
    assert len(_domain_events()) == len(_outbox(api)) == total + 1


def test_relays_running_side_by_side_deliver_each_event_once(api):
    _drive_some_changes(api)
    relays = [OutboxRelay(api.settings.database_url, api.settings, batch_size=3) for _ in range(3)]
    errors = []

    def run(relay):
        try:
            for _ in range(5):
                relay.relay()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    OutboxRelay(api.settings.database_url, api.settings).relay()
    lake = _domain_events()
    assert len(lake) == len({e["event_id"] for e in lake}) == len(_outbox(api))


def test_the_apis_committer_relays_domain_events_on_its_own(learnlake_home, database_url):
    settings = core_settings(learnlake_home, database_url, run_committer=True, commit_interval_s=0.2)
    with TestClient(create_app(settings)) as client:
        api = CoreApi(client, settings)
        teacher = api.user("instructor")
        api.course(teacher, items=2)
        expected = {e.event_id for e in _outbox(api)}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if readers.table_exists("bronze.events") and set(_domain_events_ids()) >= expected:
                break
            time.sleep(0.2)
    assert sorted(_domain_events_ids()) == sorted(expected)


def test_ingest_flush_relays_the_outbox(api, monkeypatch):
    _drive_some_changes(api)
    monkeypatch.setenv("LEARNLAKE_DATABASE_URL", api.settings.database_url)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli.app, ["ingest", "flush"])
    assert result.exit_code == 0, result.output
    assert f"{len(_outbox(api))} domain events relayed" in result.output.replace(",", "")
    assert len(_domain_events()) == len(_outbox(api))


def _domain_events_ids() -> list[str]:
    return readers.read_table("bronze.events").filter(source="outbox")["event_id"].to_list()


def test_pruning_delivered_events_never_lets_an_id_come_back(api):
    _drive_some_changes(api)
    last_before = max(e.id for e in _outbox(api))
    OutboxRelay(api.settings.database_url, api.settings, keep_delivered_s=0).relay()
    remaining = _outbox(api)
    assert [e.id for e in remaining] == [last_before]  # everything delivered is gone but the newest
    teacher = api.user("instructor")
    api.client.post("/api/v1/courses", json={"title": "After the pruning"}, headers=teacher.headers)
    assert min(e.id for e in _outbox(api) if e.id != last_before) > last_before
    OutboxRelay(api.settings.database_url, api.settings).relay()
    lake = _domain_events()
    assert len({e["outbox_id"] for e in lake}) == len(lake)
