"""Notifications: the inbox API, live pushes, at-risk changes scored after a publication, and the daily
e-mail through a real SMTP server (aiosmtpd): exactly the expected messages, none for those who opted
out, none twice."""

import asyncio
import os
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from serving.core.enums import NotificationKind, Role
from serving.core.tables import AtRiskState, Enrollment, Notification
from serving.main import create_app
from serving.notifications.at_risk import score_publication
from serving.notifications.daily import run_daily
from serving.notifications.inbox import announce, notify
from serving.realtime.messages import instructors_room
from tests.conftest import copy_of_demo
from tests.serving.core.conftest import CoreApi, core_settings
from tests.serving.test_realtime import _next, enrolled, listening, serve


@pytest.fixture
def api(learnlake_home, tmp_path) -> CoreApi:
    settings = core_settings(learnlake_home, f"sqlite:///{tmp_path / 'core.db'}")
    with TestClient(create_app(settings)) as client:
        yield CoreApi(client, settings)


def _notify(api: CoreApi, user_id: str, n: int = 1, kind=NotificationKind.AT_RISK) -> list[int]:
    with api.client.app.state.database.write() as session:
        return [notify(session, user_id, kind, f"title {i}", f"body {i}", {"i": i}).id for i in range(n)]


# -- the inbox -----------------------------------------------------------------------------------------------

def test_the_inbox_lists_ones_own_notifications_newest_first_and_marks_them_read(api):
    me, other = api.user(Role.INSTRUCTOR), api.user(Role.LEARNER)
    ids = _notify(api, me.id, 3)
    [theirs] = _notify(api, other.id)
    page = api.client.get("/api/v1/notifications", headers=me.headers).json()
    assert [n["id"] for n in page["items"]] == ids[::-1] and page["total"] == 3 and page["unread"] == 3
    assert api.client.post(f"/api/v1/notifications/{ids[0]}/read", headers=me.headers).status_code == 204
    assert api.client.post(f"/api/v1/notifications/{ids[0]}/read", headers=me.headers).status_code == 204  # again
    unread = api.client.get("/api/v1/notifications", params={"unread": True}, headers=me.headers).json()
    assert [n["id"] for n in unread["items"]] == ids[:0:-1] and unread["unread"] == 2
    assert api.client.post(f"/api/v1/notifications/{theirs}/read", headers=me.headers).status_code == 404
    assert api.client.post("/api/v1/notifications/read-all", headers=me.headers).json() == {"marked": 2}
    assert api.client.get("/api/v1/notifications", headers=other.headers).json()["unread"] == 1  # untouched


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/api/v1/notifications", None), ("post", "/api/v1/notifications/read-all", None),
    ("post", "/api/v1/notifications/1/read", None), ("get", "/api/v1/notifications/preferences", None),
    ("put", "/api/v1/notifications/preferences", {"at_risk": False})])
def test_the_inbox_needs_a_signed_in_user(api, method, path, body):
    assert getattr(api.client, method)(path, **({"json": body} if body else {})).status_code == 401


@pytest.mark.parametrize(("path", "params"), [("/api/v1/notifications/0/read", {}),
                                              ("/api/v1/notifications/99999999999999999999/read", {}),
                                              ("/api/v1/notifications/x/read", {})])
def test_malformed_ids_are_422(api, path, params):
    me = api.user(Role.LEARNER)
    assert api.client.post(path, params=params, headers=me.headers).status_code == 422


def test_email_preferences_default_to_yes_and_change_per_kind(api):
    me = api.user(Role.INSTRUCTOR)
    assert api.client.get("/api/v1/notifications/preferences", headers=me.headers).json() == {
        "at_risk": True, "inactive": True}
    changed = api.client.put("/api/v1/notifications/preferences", json={"at_risk": False}, headers=me.headers)
    assert changed.json() == {"at_risk": False, "inactive": True}
    for bad in ({"at_risk": "maybe"}, {"weekly": True}, [], {"at_risk": None, "x": 1}):
        assert api.client.put("/api/v1/notifications/preferences", json=bad, headers=me.headers).status_code == 422


# -- pushed live ---------------------------------------------------------------------------------------------

def test_a_new_notification_is_pushed_to_its_user(learnlake_home, tmp_path):
    settings = core_settings(learnlake_home, f"sqlite:///{tmp_path / 'core.db'}")
    with serve(settings) as (client, ws_url):
        live = CoreApi(client, settings)
        live.ws_url = ws_url
        me = live.user(Role.LEARNER)
        with listening(live, me) as ws:
            with client.app.state.database.write() as session:
                created = [notify(session, me.id, NotificationKind.INACTIVE, "Hello", "Come back", {})]
            announce(client.app.state.hub, created)
            pushed = _next(ws, "notification.new")
            assert pushed["data"] == {"id": created[0].id, "kind": "inactive", "title": "Hello", "body": "Come back",
                                      "data": {}}


# -- the daily e-mail --------------------------------------------------------------------------------------------

class Inbox:
    """What an SMTP server received (aiosmtpd's handler)."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos[0], envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", received
    controller.stop()


def _subject(message: str) -> str:
    return next(line for line in message.splitlines() if line.startswith("Subject:"))


def test_the_daily_email_sends_exactly_what_is_due_once_and_nothing_to_those_who_opted_out(api, smtp):
    url, received = smtp
    settings = api.settings.model_copy(update={"smtp_url": url})
    database, hub = api.client.app.state.database, api.client.app.state.hub
    teacher, course, learner = enrolled(api)
    quiet_teacher = api.user(Role.INSTRUCTOR)
    opted_out = api.user(Role.LEARNER)
    assert api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=opted_out.headers).status_code == 201
    api.client.put("/api/v1/notifications/preferences", json={"inactive": False}, headers=opted_out.headers)
    api.client.put("/api/v1/notifications/preferences", json={"at_risk": False}, headers=quiet_teacher.headers)
    _notify(api, teacher.id, 2)
    _notify(api, quiet_teacher.id, 1)
    with database.write() as session:  # both learners enrolled 8 days ago, and nothing since
        session.execute(update(Enrollment).values(enrolled_at=datetime.now(UTC) - timedelta(days=8)))

    now = datetime.now(UTC)
    if not 8 <= now.hour < 21:  # the checks below add up to two hours and must stay on one day, after the digest hour
        now = (now + timedelta(days=1 if now.hour >= 21 else 0)).replace(hour=8, minute=0, second=0, microsecond=0)
    counts = run_daily(database, hub, settings, now)
    assert counts == {"nudged": 2, "emails_at_risk": 1, "emails_inactive": 1}
    sent = {(to, _subject(message)) for to, message in received.messages}
    assert sent == {(f"{teacher.email}", "Subject: LearnLake: 2 at-risk change(s) in your courses"),
                    (f"{learner.email}", "Subject: Your courses are waiting for you")}
    assert "title 0: body 0" in next(m for to, m in received.messages if to == teacher.email)

    assert run_daily(database, hub, settings, now + timedelta(hours=1)) == {  # the same day: nothing again
        "nudged": 0, "emails_at_risk": 0, "emails_inactive": 0}
    _notify(api, teacher.id, 1)  # a new change the same day waits for tomorrow's digest
    assert run_daily(database, hub, settings, now + timedelta(hours=2))["emails_at_risk"] == 0
    tomorrow = run_daily(database, hub, settings, now + timedelta(days=1))
    assert tomorrow == {"nudged": 0, "emails_at_risk": 1, "emails_inactive": 0}  # nudged once per spell
    assert len(received.messages) == 3 and not any(to in (quiet_teacher.email, opted_out.email)
                                                   for to, _ in received.messages)
    inbox = api.client.get("/api/v1/notifications", headers=opted_out.headers).json()  # the inbox still has it
    assert [n["kind"] for n in inbox["items"]] == ["inactive"]


def test_a_failed_send_is_retried_later_not_lost(api, smtp):
    url, received = smtp
    settings = api.settings.model_copy(update={"smtp_url": url})
    teacher = api.user(Role.INSTRUCTOR)
    _notify(api, teacher.id, 1)

    def broken(*_):
        raise OSError("the SMTP server is down")

    database, hub = api.client.app.state.database, api.client.app.state.hub
    assert run_daily(database, hub, settings, send=broken)["emails_at_risk"] == 0
    assert run_daily(database, hub, settings)["emails_at_risk"] == 1
    assert [to for to, _ in received.messages] == [teacher.email]


# -- at-risk changes after a publication ------------------------------------------------------------------------

@pytest.fixture
def scored_demo(small_demo, tmp_path, monkeypatch):
    settings = copy_of_demo(small_demo[0], tmp_path, monkeypatch)
    with TestClient(create_app(settings)) as client:
        yield client, settings


def test_learners_crossing_the_threshold_after_a_publication_reach_their_instructor(scored_demo):
    client, settings = scored_demo
    state = client.app.state
    settings = settings.model_copy(update={"at_risk_threshold": 0.3})

    def score():
        return score_publication(state.database, state.learner_models, state.pseudonyms, state.hub, settings)

    assert score() == 0  # the first scoring records where everyone stands
    assert score() is None  # this warehouse is scored already (by this replica or another)
    with state.database.write() as session:
        at_risk = session.scalars(select(AtRiskState).where(AtRiskState.at_risk)).all()
        assert at_risk, "the small demo has learners above a 0.3 risk"
        for row in at_risk:  # as if the previous publication had them below the threshold
            row.at_risk = False
    published = settings.published_warehouse_path
    os.utime(published, ns=(time.time_ns(), time.time_ns()))  # a new publication
    assert score() == len(at_risk)
    with state.database.read() as session:
        notes = session.scalars(select(Notification).where(Notification.kind == NotificationKind.AT_RISK)).all()
    assert len(notes) == len(at_risk) and all("is now at risk" in n.title for n in notes)
    course_id = at_risk[0].course_id
    pushed = asyncio.run(state.hub.bus.buffered(instructors_room(course_id)))
    changes = [m for m in pushed if m.type == "atrisk.changed"]
    assert changes and all(m.data["at_risk"] and m.data["risk"] >= 0.3 and m.data["reasons"] is not None
                           for m in changes)
