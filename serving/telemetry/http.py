"""Per request: an id, a duration in Prometheus, a log line. And ``GET /metrics``.

Plain ASGI (see ``serving.api.middleware``): the route template is read from the scope after the
router matched it, so nothing is matched twice.
"""

import hmac
import logging
import os
import re
import time
import uuid

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
QUIET_PATHS = ("/health", "/metrics")  # probes and scrapes: their lines only at DEBUG


class RequestTelemetry:
    """Gives each request an id (the answer's ``X-Request-ID``, and every log line written while serving
    it), times it into ``learnlake_http_request_duration_seconds`` by route template and status, and
    logs one line when it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
            HTTP_REQUEST_SECONDS.labels(method, template, str(status)).observe(elapsed)
            level = logging.DEBUG if scope["path"].startswith(QUIET_PATHS) else logging.INFO
            if log.isEnabledFor(level):
                log.log(level, "%s %s %s", method, template, status, extra={
                    "method": method, "route": template, "status": status, "ms": round(elapsed * 1000, 2)})
            request_id.reset(token)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value.decode() if CLIENT_REQUEST_ID.match(value) else uuid.uuid4().hex
    return uuid.uuid4().hex


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
