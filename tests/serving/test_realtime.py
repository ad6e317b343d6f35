"""Live updates over /api/v1/ws, on a real uvicorn server with a real WebSocket client: authentication,
rooms by role, progress pushed, reconnect with since, heartbeats, slow clients dropped."""

import base64
import contextlib
import json
import os
import socket
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from benchmarks.harness import free_port
from serving.core.enums import Role
from serving.main import create_app
from tests.serving.core.conftest import CoreApi, core_settings


@contextmanager
def serve(settings):
    """The app under uvicorn on a loopback port, in a thread; yields (http client, ws url)."""
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=65536))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        client.app = app  # CoreApi writes users straight to the app's database
        try:
            yield client, f"ws://127.0.0.1:{port}/api/v1/ws"
        finally:
            server.should_exit = True
            thread.join(30)


@pytest.fixture
def live(learnlake_home, tmp_path):
    settings = core_settings(learnlake_home, f"sqlite:///{tmp_path / 'core.db'}", ws_heartbeat_s=0.5)
    with serve(settings) as (client, ws_url):
        api = CoreApi(client, settings)
        api.ws_url = ws_url
        yield api


@contextmanager
def listening(api, user, since=None, **options):
    with connect(api.ws_url, open_timeout=10, **options) as ws:
        ws.send(json.dumps({"type": "auth", "token": user.access_token,
                            **({"since": since} if since is not None else {})}))
        welcome = _receive(ws)
        assert welcome["type"] == "welcome" and welcome["user_id"] == user.id
        yield ws


def _receive(ws, timeout: float = 5) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def _next(ws, kind: str, timeout: float = 5) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = _receive(ws, max(0.01, deadline - time.monotonic()))
        if message["type"] == kind:
            return message


def enrolled(api: CoreApi):
    teacher = api.user(Role.INSTRUCTOR)
    course = api.course(teacher)
    learner = api.user(Role.LEARNER)
    assert api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=learner.headers).status_code == 201
    return teacher, course, learner


def progress(api: CoreApi, learner, course, item=0, status="completed"):
    response = api.client.post(f"/api/v1/courses/{course['id']}/progress", headers=learner.headers,
                               json={"item_id": course["item_ids"][item], "status": status, "time_spent_s": 30})
    assert response.status_code == 200, response.text


def test_a_progress_write_reaches_the_learner_and_the_course_instructors(live):
    teacher, course, learner = enrolled(live)
    with listening(live, learner) as mine, listening(live, teacher) as staff:
        staff.send(json.dumps({"type": "subscribe", "room": f"course:{course['id']}:instructors"}))
        assert _next(staff, "subscribed")["room"] == f"course:{course['id']}:instructors"
        progress(live, learner, course)
        update = _next(mine, "course.progress.updated")
        assert update["version"] == 1 and update["id"] > 0 and update["room"] == f"user:{learner.id}"
        assert update["data"]["item_id"] == course["item_ids"][0] and update["data"]["progress_percent"] == 25.0
        assert _next(mine, "recommendations.updated")["data"] == {"course_id": course["id"], "reason": "progress"}
        assert _next(staff, "course.progress.updated")["data"]["user_id"] == learner.id


# -- who may listen ------------------------------------------------------------------------------------

def _closed_with(ws) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=5)
    return closed.value.rcvd.code


def test_without_a_valid_token_first_the_connection_closes_4401(live):
    for first in ({"type": "auth", "token": "not-a-token"}, {"type": "subscribe", "room": "user:x"}, "not json"):
        with connect(live.ws_url) as ws:
            ws.send(first if isinstance(first, str) else json.dumps(first))
            assert _closed_with(ws) == 4401


def test_the_token_may_come_as_the_websocket_protocol_never_in_the_url(live):
    learner = live.user(Role.LEARNER)
    with connect(live.ws_url, subprotocols=["learnlake", learner.access_token]) as ws:
        assert ws.subprotocol == "learnlake"
        assert _receive(ws)["user_id"] == learner.id
    with connect(f"{live.ws_url}?token={learner.access_token}") as ws:  # a token in the URL counts for nothing
        ws.send(json.dumps({"type": "hello"}))
        assert _closed_with(ws) == 4401


def _joins(api, user, room: str) -> str:
    with listening(api, user) as ws:
        ws.send(json.dumps({"type": "subscribe", "room": room}))
        answer = _receive(ws)
        while answer["type"] not in ("subscribed", "error"):
            answer = _receive(ws)
        return answer["type"]


def test_rooms_respect_roles(live):
    teacher, course, learner = enrolled(live)
    other_teacher, other_learner, admin = live.user(Role.INSTRUCTOR), live.user(Role.LEARNER), live.user(Role.ADMIN)
    analyst = live.user(Role.ANALYST)
    course_room, staff_room = f"course:{course['id']}", f"course:{course['id']}:instructors"
    assert _joins(live, learner, course_room) == "subscribed"
    assert _joins(live, learner, staff_room) == "error"
    assert _joins(live, learner, f"user:{other_learner.id}") == "error"
    assert _joins(live, other_learner, course_room) == "error"  # not enrolled
    assert _joins(live, teacher, staff_room) == "subscribed"
    assert _joins(live, other_teacher, course_room) == "error"
    assert _joins(live, other_teacher, staff_room) == "error"
    assert _joins(live, admin, staff_room) == "subscribed"
    assert _joins(live, analyst, course_room) == "error"
    for room in ("course:nope", "course:", "anything", f"course:{course['id']}:other", "x" * 300):
        assert _joins(live, admin, room) == "error"


def test_malformed_or_oversized_client_messages_are_answered_or_closed_never_crash(live):
    learner = live.user(Role.LEARNER)
    with listening(live, learner) as ws:
        for bad in ("[]", "{}", '{"type": 1}', '{"type": "subscribe"}', '{"type": "dance"}',
                    '{"type": "subscribe", "room": "user:x", "since": -1}', "[" * 1000 + "]" * 1000):
            ws.send(bad)
            assert _next(ws, "error")["reason"]
        ws.send(json.dumps({"type": "ping"}))
        assert _next(ws, "pong")
        ws.send("x" * 10_000)
        assert _closed_with(ws) == 1009


def test_an_idle_connection_gets_heartbeats(live):
    with listening(live, live.user(Role.LEARNER)) as ws:
        assert _next(ws, "heartbeat", timeout=3)


# -- reconnecting, and slow clients --------------------------------------------------------------------

def test_a_reconnect_with_since_receives_what_it_missed_in_order(live):
    _, course, learner = enrolled(live)
    with listening(live, learner) as ws:
        progress(live, learner, course, item=0)
        last_seen = _next(ws, "recommendations.updated")["id"]
    for item in (1, 2):  # while away
        progress(live, learner, course, item=item)
    with listening(live, learner, since=last_seen) as ws:
        missed = [_next(ws, "course.progress.updated"), _next(ws, "recommendations.updated"),
                  _next(ws, "course.progress.updated"), _next(ws, "recommendations.updated")]
        assert [m["data"]["item_id"] for m in missed if m["type"] == "course.progress.updated"] == \
            course["item_ids"][1:3]
        assert [m["id"] for m in missed] == sorted(m["id"] for m in missed) and missed[0]["id"] > last_seen


def test_a_reconnect_beyond_the_buffer_is_told_to_resync(learnlake_home, tmp_path):
    settings = core_settings(learnlake_home, f"sqlite:///{tmp_path / 'core.db'}", ws_buffer_size=2)
    with serve(settings) as (client, ws_url):
        api = CoreApi(client, settings)
        api.ws_url = ws_url
        _, course, learner = enrolled(api)
        with listening(api, learner) as ws:
            progress(api, learner, course, item=0)
            last_seen = _next(ws, "recommendations.updated")["id"]
        for item in (1, 2, 3):
            progress(api, learner, course, item=item)
        with listening(api, learner, since=last_seen) as ws:
            assert _next(ws, "resync")["room"] == f"user:{learner.id}"


def _reading_nothing(ws_url: str, token: str) -> socket.socket:
    """A WebSocket client that completes the handshake (the token as protocol) and then reads nothing,
    with a small receive buffer: the server's writes to it soon have nowhere to go."""
    host, port = ws_url.removeprefix("ws://").split("/")[0].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(f"GET /api/v1/ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                 f"Sec-WebSocket-Protocol: learnlake, {token}\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def test_a_slow_client_is_dropped_and_the_others_get_everything(learnlake_home, tmp_path):
    from serving.realtime.messages import MessageType, NotificationNew, user_room

    settings = core_settings(learnlake_home, f"sqlite:///{tmp_path / 'core.db'}", ws_queue_size=8)
    with serve(settings) as (client, ws_url):
        api = CoreApi(client, settings)
        api.ws_url = ws_url
        learner = api.user(Role.LEARNER)
        hub = client.app.state.hub
        slow = _reading_nothing(ws_url, learner.access_token)
        with listening(api, learner) as fast:
            deadline = time.monotonic() + 5
            while hub.connections() < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            big, received = "x" * 60_000, 0
            for i in range(300):  # 18 MB (more than any socket buffer), each taken by the fast client before the next
                hub.publish(user_room(learner.id), MessageType.NOTIFICATION,
                            NotificationNew(id=i, kind="test", title="t", body=big, data={}))
                while _receive(fast)["type"] != "notification.new":
                    pass
                received += 1
            assert received == 300 and hub.connections() == 1  # the slow one was dropped, nobody waited for it
        slow.settimeout(10)  # and its connection is closed: reading what was sent ends (a timeout fails the test)
        with contextlib.suppress(ConnectionResetError):
            while slow.recv(1 << 20):
                pass
        slow.close()


# -- across replicas (Redis pub/sub) -------------------------------------------------------------------------

def test_a_write_on_one_replica_reaches_a_client_on_another_and_a_reconnect_anywhere_catches_up(
        learnlake_home, tmp_path, redis_url):
    settings = core_settings(learnlake_home, f"sqlite:///{tmp_path / 'core.db'}", redis_url=redis_url)
    with serve(settings) as (client_a, ws_a), serve(settings) as (client_b, ws_b):
        api_a, api_b = CoreApi(client_a, settings), CoreApi(client_b, settings)
        api_a.ws_url, api_b.ws_url = ws_a, ws_b
        teacher, course, learner = enrolled(api_a)
        with listening(api_b, learner) as on_b, listening(api_b, teacher) as staff_on_b:
            staff_on_b.send(json.dumps({"type": "subscribe", "room": f"course:{course['id']}:instructors"}))
            _next(staff_on_b, "subscribed")
            progress(api_a, learner, course, item=0)  # written through replica A
            update = _next(on_b, "course.progress.updated")
            assert update["data"]["item_id"] == course["item_ids"][0]
            assert _next(staff_on_b, "course.progress.updated")["data"] == update["data"]
            last_seen = _next(on_b, "recommendations.updated")["id"]
        progress(api_b, learner, course, item=1)  # while away, through replica B
        with listening(api_a, learner, since=last_seen) as on_a:  # back, on replica A
            missed = _next(on_a, "course.progress.updated")
            assert missed["data"]["item_id"] == course["item_ids"][1] and missed["id"] > last_seen


def test_an_instructors_announcement_reaches_everyone_in_the_course_room(live):
    teacher, course, learner = enrolled(live)
    other_teacher = live.user(Role.INSTRUCTOR)
    path = f"/api/v1/courses/{course['id']}/announcements"
    with listening(live, learner) as ws:
        ws.send(json.dumps({"type": "subscribe", "room": f"course:{course['id']}"}))
        _next(ws, "subscribed")
        sent = live.client.post(path, json={"title": "Quiz on Friday", "body": "Chapter 2"}, headers=teacher.headers)
        assert sent.status_code == 202
        message = _next(ws, "course.announcement")
        assert message["id"] == sent.json()["id"] and message["data"]["title"] == "Quiz on Friday"
    assert live.client.post(path, json={"title": "x"}, headers=learner.headers).status_code == 403
    assert live.client.post(path, json={"title": "x"}, headers=other_teacher.headers).status_code == 403
    assert live.client.post("/api/v1/courses/nope/announcements", json={"title": "x"},
                            headers=teacher.headers).status_code == 404
    for bad in ({}, {"title": ""}, {"title": "x" * 201}, {"title": "x", "extra": 1}):
        assert live.client.post(path, json=bad, headers=teacher.headers).status_code == 422


def test_with_redis_unreachable_writes_still_succeed_and_clients_are_told_to_resync(learnlake_home, tmp_path):
    from tests.serving.core.conftest import core_settings as settings_of

    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = settings_of(learnlake_home, f"sqlite:///{tmp_path / 'core.db'}", redis_url=down,
                           rate_limit_read="100000/minute")
    with serve(settings) as (client, ws_url):
        api = CoreApi(client, settings)
        api.ws_url = ws_url
        _, course, learner = enrolled(api)
        progress(api, learner, course)  # committed and answered 200, though nothing could be pushed
        with listening(api, learner, since=0) as ws:
            assert _next(ws, "resync")["room"] == f"user:{learner.id}"


def test_the_tutor_answers_over_the_websocket_a_sentence_at_a_time(small_demo, tmp_path, monkeypatch):
    from serving.core.seed import DEMO_PASSWORD
    from tests.conftest import copy_of_demo

    with serve(copy_of_demo(small_demo[0], tmp_path, monkeypatch)) as (client, ws_url):
        email = "learner00001@learnlake.example"
        token = client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        course_id = client.get("/api/v1/users/me/enrollments", headers=headers).json()["items"][0]["course_id"]
        with connect(ws_url, subprotocols=["learnlake", token["access_token"]]) as ws:
            _receive(ws)  # welcome
            ws.send(json.dumps({"type": "tutor.ask", "course_id": course_id, "question": "What is a loop?"}))
            pieces = []
            while (message := _receive(ws, timeout=60))["type"] != "tutor.answer.done":
                if message["type"] == "tutor.answer.delta":
                    pieces.append(message["text"])
            assert pieces and "".join(pieces) == message["answer"] and message["citations"]
            follow_up = {"type": "tutor.ask", "course_id": course_id, "question": "And a while loop?",
                         "conversation_id": message["conversation_id"]}  # the turn was kept: the conversation goes on
            ws.send(json.dumps(follow_up))
            assert _next(ws, "tutor.answer.done", timeout=60)["conversation_id"] == message["conversation_id"]
            for bad, expected in (({"course_id": course_id}, "error"), ({"course_id": "nope", "question": "x"},
                                                                            "tutor.error")):
                ws.send(json.dumps({"type": "tutor.ask", **bad}))
                assert _receive(ws, timeout=60)["type"] == expected
