"""Rate limits per user and endpoint class, with the ``limits`` library.

Counters live in memory by default (one API process) and in Redis when
``LEARNLAKE_REDIS_URL`` is set, so that API replicas share them. When that Redis does not answer,
requests are served without a limit (and a warning is logged each minute) rather than refused.
"""

import logging
import math
import threading
import time
import weakref
from dataclasses import dataclass
from enum import StrEnum

import redis
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from learnlake.settings import Settings

log = logging.getLogger(__name__)
WARN_EVERY_S = 60.0


class EndpointClass(StrEnum):
    AUTH = "auth"  # sign-in, registration, refresh: keyed by client address, strict
    READ = "read"
    WRITE = "write"
    INGEST = "ingest"  # events and statements, keyed by source key


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class SweptMemoryStorage(MemoryStorage):
    """limits' in-memory store, its expired counters swept by one long-lived thread.

    The parent starts a new 10 ms ``Timer`` thread on every hit after its last one has ended:
    under load a hundred thread starts a second, each one holding up the event loop while the
    new thread comes up (``bench serve``: 6 % of the API's time). Counters also expire when they
    are read (``MemoryStorage.get``), so the sweep only frees memory, and once a second is enough.
    """

    SWEEP_S = 1.0

    def __init__(self) -> None:
        super().__init__()
        threading.Thread(target=_sweep, args=(weakref.ref(self),), name="rate-limit-sweep", daemon=True).start()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the parent's private hook: no thread per hit
        pass


def _sweep(storage_ref: "weakref.ref[SweptMemoryStorage]") -> None:
    """Sweep the store until it is garbage (the thread holds no strong reference to it)."""
    while True:
        time.sleep(SweptMemoryStorage.SWEEP_S)
        if (storage := storage_ref()) is None:
            return
        storage._MemoryStorage__expire_events()
        del storage


class RateLimits:
    """Checks one request against the limit of its endpoint class."""

    def __init__(self, settings: Settings) -> None:
        self.storage: Storage = storage_from_string(settings.redis_url) if settings.redis_url else SweptMemoryStorage()
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self.limits: dict[EndpointClass, RateLimitItem] = {
            EndpointClass.AUTH: parse(settings.rate_limit_auth),
            EndpointClass.READ: parse(settings.rate_limit_read),
            EndpointClass.WRITE: parse(settings.rate_limit_write),
            EndpointClass.INGEST: parse(settings.rate_limit_ingest),
        }
        # A namespace per app keeps replicas sharing a Redis on the same counters, and tests apart.
        self.namespace = f"learnlake:{settings.jwt_audience}"
        self._warned_at = float("-inf")

    def hit(self, endpoint_class: EndpointClass, key: str) -> Verdict:
        item = self.limits[endpoint_class]
        try:
            allowed = self.limiter.hit(item, self.namespace, endpoint_class, key)
        except (redis.RedisError, OSError):  # Redis unreachable: serve unlimited rather than fail every request
            now = time.monotonic()
            if now - self._warned_at > WARN_EVERY_S:
                self._warned_at = now
                log.warning("rate limits are not enforced: their Redis does not answer", exc_info=True)
            return Verdict(True)
        if allowed:
            return Verdict(True)
        stats = self.limiter.get_window_stats(item, self.namespace, endpoint_class, key)
        return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))
