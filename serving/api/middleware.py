"""Plain ASGI middleware: Starlette's ``@app.middleware("http")`` wraps every request in extra
tasks and streams, which costs about a millisecond a request under load; these cost nothing on
the requests they do not touch."""

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from learnlake.json_bounds import JsonRefused, parse_json
from serving.api.request_body import BodyTooLarge, read_limited
from serving.xapi.service import now_iso


class XapiVersionHeader:
    """Every answer under ``/xapi`` carries ``X-Experience-API-Version``: 2.0.0 to a client that speaks
    2.0, 1.0.3 to the others (xAPI part three, 3.3). Every answer of the Statement Resource, refusals
    too, carries ``X-Experience-API-Consistent-Through``: statements are stored before they are
    acknowledged, so every statement stored until the answer is sent can be read ("now")."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/xapi"):
            await self.app(scope, receive, send)
            return
        asked = Headers(scope=scope).get("x-experience-api-version", "")
        version = "2.0.0" if asked.startswith("2.") else "1.0.3"
        statements = scope["path"].rstrip("/") == "/xapi/statements"

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Experience-API-Version"] = version
                if statements:
                    headers["X-Experience-API-Consistent-Through"] = now_iso()
            await send(message)

        await self.app(scope, receive, send_with_version)


class RefuseNulInUrl:
    """NUL cannot be stored in PostgreSQL text (nor is it in any id): refuse it at the door."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            in_path = "\x00" in scope["path"] or b"%00" in scope.get("raw_path", b"")
            in_query = b"%00" in scope.get("query_string", b"")
            if in_path or in_query:
                problem = {"loc": ["query" if in_query else "path"],
                           "msg": "NUL characters are not allowed in the URL", "type": "value_error"}
                status = 400 if scope["path"].startswith("/xapi") else 422
                await JSONResponse({"detail": [problem]}, status_code=status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class BoundedJsonBodies:
    """Every request body is at most ``max_bytes``, and a JSON one must pass ``parse_json``, before any route
    reads it: one limit on size and depth for the whole API, checked before anything parses deeply.

    Routes under ``own_body_prefixes`` read their bodies themselves, with the same limits and the same
    function (``/v1/events`` validates in a worker process; ``/xapi`` also takes multipart bodies).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int, own_body_prefixes: tuple[str, ...]) -> None:
        self.app, self.max_bytes, self.max_depth = app, max_bytes, max_depth
        self.own_body_prefixes = own_body_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] in BODYLESS_METHODS
                or scope["path"].startswith(self.own_body_prefixes)):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_limited(scope, receive, self.max_bytes)
            if body and _is_json(scope):
                parse_json(body, max_depth=self.max_depth)
        except BodyTooLarge as exc:
            await JSONResponse({"detail": str(exc)}, status_code=413)(scope, receive, send)
            return
        except JsonRefused as exc:  # in the shape and status of FastAPI's own answer to a malformed body
            problem = {"type": "json_invalid", "loc": ["body"], "msg": str(exc)}
            await JSONResponse({"detail": [problem]}, status_code=422)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _is_json(scope: Scope) -> bool:
    # FastAPI reads a body as JSON when it says so or says nothing; anything else it refuses unread.
    content_type = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
    return content_type in ("", "application/json") or content_type.endswith("+json")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # only a disconnect can come after the whole body

    return replay


# Content-Security-Policy of the JSON API: it serves no page, so a browser may load nothing from it.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from jsDelivr and start them inline.
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
            "https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """The headers browsers and caches need on every answer: no sniffing, no framing, no referrer,
    a CSP, and ``Cache-Control: no-store`` (answers carry tokens and learners' data) unless a route
    set its own; with ``https_only``, HSTS too."""

    def __init__(self, app: ASGIApp, *, https_only: bool) -> None:
        self.app = app
        common = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                  (b"referrer-policy", b"no-referrer"), (b"cross-origin-resource-policy", b"same-origin")]
        if https_only:
            common.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.api_headers = [*common, (b"content-security-policy", API_CSP.encode())]
        self.docs_headers = [*common, (b"content-security-policy", DOCS_CSP.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self.docs_headers if scope["path"].startswith(DOCS_PATHS) else self.api_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers + added
            await send(message)

        await self.app(scope, receive, send_with_headers)
