"""Plain ASGI middleware: Starlette's ``@app.middleware("http")`` wraps every request in extra
tasks and streams, which costs about a millisecond a request under load; these cost nothing on
the requests they do not touch."""

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class XapiVersionHeader:
    """Every answer under ``/xapi`` carries ``X-Experience-API-Version`` (xAPI 1.0.3, part three)."""

    def __init__(self, app: ASGIApp, version: str) -> None:
        self.app, self.version = app, version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/xapi"):
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Experience-API-Version"] = self.version
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
