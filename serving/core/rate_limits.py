"""Rate limits per user and endpoint class, with the ``limits`` library.

Counters live in memory by default (one API process) and in Redis when
``LEARNLAKE_REDIS_URL`` is set, so that API replicas share them.
"""

import math
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from learnlake.settings import Settings


class EndpointClass(StrEnum):
    AUTH = "auth"  # sign-in, registration, refresh: keyed by client address, strict
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class RateLimits:
    """Checks one request against the limit of its endpoint class."""

    def __init__(self, settings: Settings) -> None:
        storage_uri = settings.redis_url or "memory://"
        self.storage = storage_from_string(storage_uri)
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self.limits: dict[EndpointClass, RateLimitItem] = {
            EndpointClass.AUTH: parse(settings.rate_limit_auth),
            EndpointClass.READ: parse(settings.rate_limit_read),
            EndpointClass.WRITE: parse(settings.rate_limit_write),
        }
        # A namespace per app keeps replicas sharing a Redis on the same counters, and tests apart.
        self.namespace = f"learnlake:{settings.jwt_audience}"

    def hit(self, endpoint_class: EndpointClass, key: str) -> Verdict:
        item = self.limits[endpoint_class]
        if self.limiter.hit(item, self.namespace, endpoint_class, key):
            return Verdict(True)
        stats = self.limiter.get_window_stats(item, self.namespace, endpoint_class, key)
        return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))
