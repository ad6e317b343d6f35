"""Rate limits per user and endpoint class: 429 with Retry-After, in memory or in Redis."""

import time
import uuid

import pytest
import redis
from fastapi.testclient import TestClient

from serving.core.rate_limits import EndpointClass, RateLimits
from serving.main import create_app
from tests.conftest import unavailable
from tests.serving.core.conftest import CoreApi, core_settings

REDIS_URL = "redis://127.0.0.1:6379/0"


def _limited_api(learnlake_home, database_url, **overrides):
    # Hourly windows: a sliding window counter lets a request through just after a window boundary
    # (the previous window's hits are weighted below the limit), and with minutes a slow run of
    # argon2 sign-ins crossed one now and then.
    settings = core_settings(learnlake_home, database_url, rate_limit_read="5/hour", rate_limit_write="3/hour",
                             rate_limit_auth="4/hour", **overrides)
    return TestClient(create_app(settings)), settings


def _exhaust_reads(api: CoreApi, user) -> list:
    return [api.client.get("/api/v1/users/me", headers=user.headers) for _ in range(6)]


def test_reads_writes_and_sign_ins_have_their_own_limits(learnlake_home, database_url):
    client, settings = _limited_api(learnlake_home, database_url)
    with client:
        api = CoreApi(client, settings)
        learner, other = api.user(), api.user()
        responses = _exhaust_reads(api, learner)
        assert [r.status_code for r in responses] == [200] * 5 + [429]
        limited = responses[-1]
        assert 1 <= int(limited.headers["Retry-After"]) <= 3600
        assert "too many read requests" in limited.json()["detail"]
        # Limits are per user, and writes count apart from reads.
        assert client.get("/api/v1/users/me", headers=other.headers).status_code == 200
        writes = [client.patch("/api/v1/users/me", json={"name": "N"}, headers=learner.headers) for _ in range(4)]
        assert [w.status_code for w in writes] == [200] * 3 + [429]
        logins = [client.post("/api/v1/auth/login", json={"email": "x@example.org", "password": "p"})
                  for _ in range(5)]
        assert [r.status_code for r in logins] == [401] * 4 + [429]


def test_redis_shares_the_counters_between_api_processes(learnlake_home, database_url):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError as exc:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    namespace = f"test-{uuid.uuid4().hex[:8]}"  # the audience names the counters: keep runs apart
    first, settings = _limited_api(learnlake_home, database_url, redis_url=REDIS_URL, jwt_audience=namespace)
    second, _ = _limited_api(learnlake_home, database_url, redis_url=REDIS_URL, jwt_audience=namespace)
    with first, second:
        api = CoreApi(first, settings)
        learner = api.user()
        codes = [client.get("/api/v1/users/me", headers=learner.headers).status_code
                 for client in (first, second) * 3]
    assert codes == [200] * 5 + [429]
    assert any(key.startswith(b"LIMITS") for key in redis.Redis.from_url(REDIS_URL).scan_iter(count=1000))


@pytest.mark.parametrize("limit", ["nonsense", "5/fortnight"])
def test_a_malformed_limit_is_refused_at_startup(learnlake_home, database_url, limit):
    with pytest.raises(ValueError):
        create_app(core_settings(learnlake_home, database_url, rate_limit_read=limit))


def test_the_memory_store_expires_counters_without_a_thread_per_hit(learnlake_home):
    limits = RateLimits(learnlake_home.model_copy(update={"rate_limit_read": "3/second"}))
    time.sleep(0.05)  # the timer thread limits' store starts in its constructor has run out
    timer = limits.storage.timer
    verdicts = [limits.hit(EndpointClass.READ, "user:a").allowed for _ in range(4)]
    for n in range(200):
        limits.hit(EndpointClass.READ, f"user:{n}")
    assert verdicts == [True, True, True, False]
    assert limits.storage.timer is timer, "limits' own store would have started a new timer thread"
    assert limits.storage.storage, "counters are kept while their window lasts"
    deadline = time.monotonic() + 10
    while limits.storage.storage and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not limits.storage.storage, "the sweeping thread frees expired counters"
    assert limits.hit(EndpointClass.READ, "user:a").allowed, "a new window allows again"
