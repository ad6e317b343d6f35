"""``/api/v1/ws``: live updates over a WebSocket, with the same access tokens as the rest of the API.

The token never travels in the URL (where proxies log it): either the first message,
``{"type": "auth", "token": "...", "since": 41}``, or the ``Sec-WebSocket-Protocol`` header
``learnlake, <token>`` (the server answers with the ``learnlake`` protocol). The user's own room
is joined at once; ``{"type": "subscribe", "room": "course:<id>", "since": 41}`` joins another,
if the role allows it: a learner the courses they are enrolled in, an instructor their own courses
(and their ``:instructors`` room), an admin any. ``{"type": "tutor.ask", ...}`` asks the course's tutor,
whose answer comes back a sentence at a time. With ``since`` (the last message id the client
saw) the room's buffered messages after it are sent first, or ``{"type": "resync"}`` when the
buffer no longer reaches back that far. The server sends ``{"type": "heartbeat"}`` when idle; a
client too slow to take its messages is dropped (close code 4008). Refusals close with 4401
(credentials) or answer ``{"type": "error"}`` (a room, a malformed message).
"""

import asyncio
import contextlib
import re

import orjson
from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import State

from serving.api.auth import enforce_rate_limit, refuse_without, user_of_token
from serving.api.deps import StateDep
from serving.api.routes.tutor import AskBody, answer_turn
from serving.core.enums import EnrollmentStatus, Role
from serving.core.permissions import Permission
from serving.core.rate_limits import EndpointClass
from serving.core.tables import Course, Enrollment, User
from serving.realtime.hub import Hub, Subscriber
from serving.realtime.messages import Message, user_room

AUTH_TIMEOUT_S = 10
CLOSE_TIMEOUT_S = 2
MAX_CLIENT_MESSAGE = 4096  # bytes: a client sends small control messages only
PROTOCOL = "learnlake"
SENTENCE_END = re.compile(r"(?<=[.!?])(?=\s)")  # the tutor's answer goes out a sentence at a time
CLOSE_UNAUTHORIZED, CLOSE_TOO_SLOW, CLOSE_TOO_BIG = 4401, 4008, 1009

router = APIRouter()


class BadMessage(Exception):
    """A client message the server cannot act on: answered with an error, the connection stays."""


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def may_join(database, user: User, room: str) -> bool:
    """Whether ``user`` may listen in ``room`` (see the module's docstring)."""
    kind, _, rest = room.partition(":")
    if kind == "user":
        return rest == user.id
    if kind != "course" or not rest:
        return False
    course_id, _, suffix = rest.partition(":")
    if suffix not in ("", "instructors"):
        return False
    with database.read() as session:
        course = session.get(Course, course_id)
        if course is None:
            return False
        if user.role == Role.ADMIN or course.instructor_id == user.id:
            return True
        if suffix or user.role != Role.LEARNER:
            return False
        return session.scalar(select(Enrollment.id).where(
            Enrollment.course_id == course_id, Enrollment.user_id == user.id,
            Enrollment.status != EnrollmentStatus.UNENROLLED)) is not None


def _parse(raw: str) -> dict:
    if len(raw) > MAX_CLIENT_MESSAGE:
        raise Refused(CLOSE_TOO_BIG, f"a client message is at most {MAX_CLIENT_MESSAGE} bytes")
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        message = None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise BadMessage("a message is a JSON object with a type")
    return message


def _since(message: dict) -> int | None:
    since = message.get("since")
    if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
        raise BadMessage("since is the id of the last message received (a non-negative integer)")
    return since


async def _authenticate(websocket: WebSocket, state: State) -> tuple[User, int | None]:
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    if len(offered) == 2 and offered[0] == PROTOCOL:
        await websocket.accept(subprotocol=PROTOCOL)
        token, since = offered[1], None
    else:
        await websocket.accept()
        try:
            first = _parse(await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S))
            token, since = first.get("token"), _since(first)
        except (TimeoutError, BadMessage) as exc:
            raise Refused(CLOSE_UNAUTHORIZED, f"send {{'type': 'auth', 'token': ...}} first ({exc or 'timed out'})") \
                from None
        if first.get("type") != "auth" or not isinstance(token, str):
            raise Refused(CLOSE_UNAUTHORIZED, "the first message must be {'type': 'auth', 'token': ...}")
    try:
        user = await run_in_threadpool(user_of_token, state, token)
    except HTTPException as exc:
        raise Refused(CLOSE_UNAUTHORIZED, str(exc.detail)) from None
    return user, since


async def _send(websocket: WebSocket, message: Message | dict) -> None:
    raw = message.to_json() if isinstance(message, Message) else orjson.dumps(message)
    await websocket.send_text(raw.decode())


async def _join(websocket: WebSocket, hub: Hub, subscriber: Subscriber, room: str, since: int | None) -> None:
    missed = await hub.join(subscriber, room, since)
    if missed is None:
        await _send(websocket, {"type": "resync", "room": room})
        return
    for message in missed:
        await _send(websocket, message)


async def _read(websocket: WebSocket, state: State, subscriber: Subscriber, user: User) -> None:
    """The client's control messages: subscribe, unsubscribe, ping."""
    hub, database = state.hub, state.database
    while True:
        raw = await websocket.receive_text()
        try:
            message = _parse(raw)
            kind, room = message["type"], message.get("room")
            if kind == "ping":
                await _send(websocket, {"type": "pong"})
            elif kind == "tutor.ask":
                await _ask_tutor(websocket, state, user, message)
            elif kind in ("subscribe", "unsubscribe") and isinstance(room, str) and len(room) <= 200:
                if kind == "unsubscribe":
                    hub.leave(subscriber, room)
                elif await run_in_threadpool(may_join, database, user, room):
                    await _join(websocket, hub, subscriber, room, _since(message))
                    await _send(websocket, {"type": "subscribed", "room": room})
                else:
                    await _send(websocket, {"type": "error", "reason": f"you may not join {room!r}"})
            else:
                raise BadMessage(f"unknown message {kind!r}: send subscribe, unsubscribe (with a room), ping "
                                 "or tutor.ask")
        except BadMessage as exc:
            await _send(websocket, {"type": "error", "reason": str(exc)})


async def _ask_tutor(websocket: WebSocket, state: State, user: User, message: dict) -> None:
    """``{"type": "tutor.ask", "course_id", "question", "conversation_id"?}``: the tutor's answer, as the HTTP route
    gives it (same rules, same record), sent as ``tutor.answer.delta`` pieces, a sentence at a time, then
    ``tutor.answer.done`` with the whole answer and its citations; ``tutor.error`` with the status otherwise."""
    try:
        body = AskBody.model_validate({k: message[k] for k in ("course_id", "question", "conversation_id")
                                       if k in message})
    except ValidationError as exc:
        raise BadMessage(f"tutor.ask: {exc.errors(include_url=False)[0]['msg']}") from None
    try:
        refuse_without(user, Permission.ASK_TUTOR)
        enforce_rate_limit(websocket, EndpointClass.WRITE, f"user:{user.id}")
        reply = await run_in_threadpool(answer_turn, state, user, body)
    except HTTPException as exc:
        await _send(websocket, {"type": "tutor.error", "status": exc.status_code, "reason": exc.detail})
        return
    for piece in SENTENCE_END.split(reply.answer):
        if piece:
            await _send(websocket, {"type": "tutor.answer.delta", "conversation_id": reply.conversation_id,
                                    "text": piece})
    await _send(websocket, {"type": "tutor.answer.done", **reply.model_dump()})


async def _write(websocket: WebSocket, subscriber: Subscriber, heartbeat_s: float) -> None:
    """The subscriber's messages as they come, a heartbeat when there are none; ends when it is dropped,
    also while a send waits on a client that does not read."""
    dropped = asyncio.ensure_future(subscriber.dropped.wait())
    try:
        while True:
            get = asyncio.ensure_future(subscriber.queue.get())
            done, _ = await asyncio.wait({get, dropped}, timeout=heartbeat_s, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
            if dropped in done:
                raise Refused(CLOSE_TOO_SLOW, "too slow to take its messages")
            message = get.result() if get in done else {"type": "heartbeat"}
            if isinstance(message, Message) and message.id in subscriber.replayed:
                subscriber.replayed.discard(message.id)  # the client has it from the buffer already
                continue
            send = asyncio.ensure_future(_send(websocket, message))
            await asyncio.wait({send, dropped}, return_when=asyncio.FIRST_COMPLETED)
            if not send.done():
                send.cancel()
                raise Refused(CLOSE_TOO_SLOW, "too slow to take its messages")
            send.result()
    finally:
        dropped.cancel()


@router.websocket("/api/v1/ws")
async def live(websocket: WebSocket, state: StateDep) -> None:
    hub: Hub = state.hub
    settings = state.settings
    subscriber = None
    try:
        user, since = await _authenticate(websocket, state)
        subscriber = hub.subscriber()
        await _send(websocket, {"type": "welcome", "user_id": user.id, "room": user_room(user.id)})
        await _join(websocket, hub, subscriber, user_room(user.id), since)
        tasks = [asyncio.create_task(_read(websocket, state, subscriber, user)),
                 asyncio.create_task(_write(websocket, subscriber, settings.ws_heartbeat_s))]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    except Refused as exc:
        with contextlib.suppress(Exception):  # a client that reads nothing may never take the close frame
            await asyncio.wait_for(websocket.close(code=exc.code, reason=str(exc)[:120]), CLOSE_TIMEOUT_S)
    except WebSocketDisconnect:
        pass
    finally:
        if subscriber is not None:
            hub.leave(subscriber)

