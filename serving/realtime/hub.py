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
        pubsub = self._async.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel)
        self._listener = asyncio.create_task(self._listen(pubsub, deliver))

    async def _listen(self, pubsub, deliver: Callable[[Message], None]) -> None:
        while True:
            try:
                async for raw in pubsub.listen():
                    deliver(Message.from_json(raw["data"]))
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:  # a lost connection: resubscribe, and keep serving what arrives
                log.exception("the realtime listener lost Redis; resubscribing")
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):  # still down: tried again on the next turn
                    await pubsub.subscribe(self.channel)

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

    def publish(self, room: str, kind: MessageType, data) -> Message:
        """Send ``data`` (the payload model of ``kind``) to everyone in ``room``, on every replica."""
        return self.bus.publish(room, kind, payload(kind, data))

    def subscriber(self) -> Subscriber:
        return Subscriber(asyncio.Queue(self.queue_size))

    async def join(self, subscriber: Subscriber, room: str, since: int | None = None) -> list[Message] | None:
        """Add ``subscriber`` to ``room``; with ``since``, the room's buffered messages after it (None when the
        buffer no longer reaches back that far: the client missed some and must read the state afresh)."""
        subscriber.rooms.add(room)
        self._rooms.setdefault(room, set()).add(subscriber)
        if since is None:
            return []
        buffered = await self.bus.buffered(room)
        # A full buffer has dropped older messages: any with an id between ``since`` and its first may be lost.
        if len(buffered) >= self.bus.buffer_size and buffered[0].id > since + 1:
            return None
        return [m for m in buffered if m.id > since]

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
            except asyncio.QueueFull:  # too slow: dropped, never waited for
                self.leave(subscriber)
                subscriber.dropped.set()
