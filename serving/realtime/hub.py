"""The connections of one API replica, by room, and the bus that brings every replica every message.

``Hub.publish`` may be called from any thread (routes run in FastAPI's thread pool): the bus gives
the message its id, keeps it in the room's bounded buffer (for reconnects with ``since``) and
carries it to every replica, each of which hands it to its own subscribers of that room. A
subscriber has a bounded queue: one that cannot keep up is dropped (its connection closes), so
a slow client never slows the others down.

Buses: ``LocalBus`` (one process: a counter, deques, the event loop) and ``RedisBus`` (ids from
``INCR``, buffers in capped lists, fan-out through pub/sub; the replica that publishes receives
its own message back like every other, so each client gets it once).
"""

import asyncio
import contextlib
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
import redis.asyncio as aioredis

from serving.realtime.messages import VERSIONS, Message, MessageType, now_iso, payload
from serving.telemetry.metrics import REALTIME_DELIVERED, REALTIME_DROPPED, REALTIME_PUBLISHED

log = logging.getLogger(__name__)

CHANNEL = "learnlake:realtime:db{db}"  # pub/sub ignores database numbers: the number goes in the name
SEQUENCE_KEY = "learnlake:realtime:seq"
BUFFER_KEY = "learnlake:realtime:room:{room}"
BUFFER_TTL_S = 7 * 24 * 3600


@dataclass(eq=False)
class Subscriber:
    """One connected client: the rooms it joined and the messages waiting to be sent to it."""

    queue: asyncio.Queue
    rooms: set[str] = field(default_factory=set)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    replayed: set[int] = field(default_factory=set)  # sent from a buffer: not sent again if they also arrive live


class LocalBus:
    """One process: ids from a counter, each room's last ``buffer_size`` messages in memory."""

    def __init__(self, buffer_size: int) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._buffers: dict[str, deque[Message]] = {}
        self.buffer_size = buffer_size
        self._deliver: Callable[[Message], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, deliver: Callable[[Message], None]) -> None:
        self._deliver, self._loop = deliver, asyncio.get_running_loop()

    async def stop(self) -> None:
        self._deliver = None

    def publish(self, room: str, kind: MessageType, data: dict) -> Message:
        with self._lock:
            message = Message(next(self._ids), kind.value, VERSIONS[kind], room, now_iso(), data)
            self._buffers.setdefault(room, deque(maxlen=self.buffer_size)).append(message)
        if self._deliver is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._deliver, message)
        return message

    async def buffered(self, room: str) -> list[Message]:
        with self._lock:
            return list(self._buffers.get(room, ()))


class RedisBus:
    """Every replica: ids from one Redis counter, buffers in capped lists, fan-out by pub/sub."""

    def __init__(self, url: str, buffer_size: int) -> None:
        self.url, self.buffer_size = url, buffer_size
        self._sync = redis.Redis.from_url(url)
        self.channel = CHANNEL.format(db=self._sync.connection_pool.connection_kwargs.get("db", 0))
        self._async: aioredis.Redis | None = None
        self._listener: asyncio.Task | None = None

    async def start(self, deliver: Callable[[Message], None]) -> None:
        self._async = aioredis.Redis.from_url(url=self.url)
        self._listener = asyncio.create_task(self._listen(deliver))

    async def _listen(self, deliver: Callable[[Message], None]) -> None:
        """Subscribe and hand on every message; when Redis is unreachable (at start, or later), keep trying."""
        while True:
            pubsub = self._async.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                async for raw in pubsub.listen():
                    deliver(Message.from_json(raw["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("the realtime listener cannot reach Redis; retrying", exc_info=True)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._async is not None:
            await self._async.aclose()
        self._sync.close()

    def publish(self, room: str, kind: MessageType, data: dict) -> Message:
        message = Message(int(self._sync.incr(SEQUENCE_KEY)), kind.value, VERSIONS[kind], room, now_iso(), data)
        raw, key = message.to_json(), BUFFER_KEY.format(room=room)
        with self._sync.pipeline(transaction=False) as pipe:
            pipe.rpush(key, raw).ltrim(key, -self.buffer_size, -1).expire(key, BUFFER_TTL_S).publish(self.channel, raw)
            pipe.execute()
        return message

    async def buffered(self, room: str) -> list[Message]:
        return [Message.from_json(raw) for raw in await self._async.lrange(BUFFER_KEY.format(room=room), 0, -1)]


class Hub:
    def __init__(self, bus: LocalBus | RedisBus, queue_size: int) -> None:
        self.bus, self.queue_size = bus, queue_size
        self._rooms: dict[str, set[Subscriber]] = {}

    async def start(self) -> None:
        await self.bus.start(self._deliver)

    async def stop(self) -> None:
        await self.bus.stop()

    def publish(self, room: str, kind: MessageType, data) -> Message | None:
        """Send ``data`` (the payload model of ``kind``) to everyone in ``room``, on every replica. None when the
        bus is unreachable: live updates are best effort, and the write that caused one stands (clients
        that reconnect read the state afresh)."""
        content = payload(kind, data)
        try:
            message = self.bus.publish(room, kind, content)
        except (redis.RedisError, OSError):
            log.warning("a live %s message could not be published", kind.value, exc_info=True)
            REALTIME_PUBLISHED.labels(kind.value, "failed").inc()
            return None
        REALTIME_PUBLISHED.labels(kind.value, "sent").inc()
        return message

    def subscriber(self) -> Subscriber:
        return Subscriber(asyncio.Queue(self.queue_size))

    async def join(self, subscriber: Subscriber, room: str, since: int | None = None) -> list[Message] | None:
        """Add ``subscriber`` to ``room``; with ``since``, the room's buffered messages after it (None when the
        buffer no longer reaches back that far: the client missed some and must read the state afresh)."""
        subscriber.rooms.add(room)
        self._rooms.setdefault(room, set()).add(subscriber)
        if since is None:
            return []
        try:
            buffered = await self.bus.buffered(room)
        except (redis.RedisError, OSError):  # the bus is unreachable: the client reads the state afresh
            return None
        # A full buffer has dropped older messages: any with an id between ``since`` and its first may be lost.
        if len(buffered) >= self.bus.buffer_size and buffered[0].id > since + 1:
            return None
        missed = [m for m in buffered if m.id > since]
        subscriber.replayed.update(m.id for m in missed)
        return missed

    def leave(self, subscriber: Subscriber, room: str | None = None) -> None:
        for name in [room] if room else list(subscriber.rooms):
            subscriber.rooms.discard(name)
            members = self._rooms.get(name)
            if members is not None:
                members.discard(subscriber)
                if not members:
                    del self._rooms[name]

    def connections(self) -> int:
        return len({s for members in self._rooms.values() for s in members})

    def _deliver(self, message: Message) -> None:
        for subscriber in list(self._rooms.get(message.room, ())):
            try:
                subscriber.queue.put_nowait(message)
                REALTIME_DELIVERED.inc()
            except asyncio.QueueFull:  # too slow: dropped, never waited for
                self.leave(subscriber)
                subscriber.dropped.set()
                REALTIME_DROPPED.inc()
