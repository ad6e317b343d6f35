"""Per request: an id, a duration in Prometheus, a log line. And ``GET /metrics``.

Plain ASGI (see ``serving.api.middleware``): the route template is read from the scope after the
router matched it, so nothing is matched twice.
"""

import hmac
import itertools
import logging
import os
import re
import time

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from learnlake.logging import request_id
from serving.telemetry.metrics import HTTP_REQUEST_SECONDS

log = logging.getLogger("learnlake.request")

REQUEST_ID_HEADER = b"x-request-id"
# A client's own id is kept when it looks like one (a proxy's, a tracing client's); anything else is replaced.
CLIENT_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{8,64}$")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Load balancers' probes and Prometheus' scrapes, every few seconds: not the users' traffic, left out (their
# instrumentation was 13 % of /health/live's own cost in bench serve).
PROBES = frozenset({"/health", "/health/live", "/metrics"})
READS = frozenset({"GET", "HEAD", "OPTIONS"})
SLOW_S = 1.0  # a read slower than this is logged at INFO too


class RequestTelemetry:
    """Gives each request but probes an id (the answer's ``X-Request-ID``, and every log line written while
    serving it), times it into ``learnlake_http_request_duration_seconds`` by route template and status, and
    logs one line when it is answered (at INFO for writes, errors and slow answers, else at DEBUG)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series: dict[tuple[str, str, int], object] = {}  # bounded: methods x route templates x statuses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        token = request_id.set(rid)
        status = 500  # what the client sees when nothing was sent (the server answers 500 then)
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "other"
            series = (method, template, status)
            if (histogram := self._series.get(series)) is None:  # labels() costs more than observing
                histogram = self._series[series] = HTTP_REQUEST_SECONDS.labels(method, template, str(status))
            histogram.observe(elapsed)
            level = logging.INFO if _worth_a_line(method, status, elapsed) else logging.DEBUG
            if log.isEnabledFor(level):
                log.log(level, "%s %s %s", method, template, status, extra={
                    "method": method, "route": template, "status": status, "ms": round(elapsed * 1000, 2)})
            request_id.reset(token)


def _worth_a_line(method: str, status: int, elapsed_s: float) -> bool:
    """At INFO: every write (its id follows the events it carried), every error, every slow answer. A plain
    successful read is only counted (the metrics have it by route and status) and logged at DEBUG: a line
    for each cost a quarter of a read's throughput on this machine (bench serve --telemetry-rounds)."""
    return method not in READS or status >= 400 or elapsed_s >= SLOW_S


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and CLIENT_REQUEST_ID.match(value):
            return value.decode()
    return f"{_PROCESS_ID}{next(_counter):08x}"


# A random prefix per process and a counter: unique across replicas and restarts, and a fifth of uuid4's cost.
_PROCESS_ID = os.urandom(8).hex()
_counter = itertools.count(1)


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus' text format: every worker's counts (multiprocess mode) and this app's state."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token.get_secret_value()}".encode()):
            raise HTTPException(401, "a bearer token is needed (LEARNLAKE_METRICS_TOKEN)",
                                headers={"WWW-Authenticate": "Bearer"})
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    body = generate_latest(counted) + generate_latest(request.app.state.metrics_state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
