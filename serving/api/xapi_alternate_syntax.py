"""xAPI 1.0.3's alternate request syntax (part three, 1.3), for clients that can send only GET and POST
(a browser's cross-origin form): ``POST /xapi/...?method=PUT`` with a form body whose fields are the
headers (``Authorization``, ``X-Experience-API-Version``, ``Content-Type``, ``If-Match``...), the
document or statements (``content``) and the query parameters. The request is rewritten into the
one it stands for before any route sees it, within the API's bound on body size.

The rules: only POST may carry ``method``; the query holds nothing else; the body is
``application/x-www-form-urlencoded``; a PUT or POST needs ``content``. A field that is also a real
header counts as the header. xAPI 2.0 removed this syntax: a 2.0 client gets a 400.
"""

from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.api.request_body import BodyTooLarge, read_limited

HEADER_FIELDS = ("authorization", "x-experience-api-version", "content-type", "content-length", "if-match",
                 "if-none-match")
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
FORM = "application/x-www-form-urlencoded"


class AlternateSyntaxRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class XapiAlternateSyntax:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/xapi/") \
                or not any(k == "method" for k, _ in parse_qsl(scope["query_string"].decode("latin-1"))):
            await self.app(scope, receive, send)
            return
        try:
            rewritten, body = await self._rewrite(scope, receive)
        except AlternateSyntaxRefused as exc:
            await JSONResponse({"detail": str(exc)}, status_code=exc.status)(scope, receive, send)
            return
        sent = False

        async def receive_body() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(rewritten, receive_body, send)

    async def _rewrite(self, scope: Scope, receive: Receive) -> tuple[Scope, bytes]:
        headers = Headers(scope=scope)
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if headers.get("x-experience-api-version", "").startswith("2."):
            raise AlternateSyntaxRefused(400, "xAPI 2.0 removed the alternate request syntax: send the method itself")
        if scope["method"] != "POST":
            raise AlternateSyntaxRefused(400, "the alternate request syntax (a method parameter) is a POST only")
        if len(query) != 1:
            raise AlternateSyntaxRefused(400, "with the alternate request syntax every parameter but method goes in "
                                              "the form body")
        method = query[0][1].upper()
        if method not in METHODS:
            raise AlternateSyntaxRefused(400, f"method must be one of {METHODS}")
        if headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
            raise AlternateSyntaxRefused(400, f"the alternate request syntax sends its fields as {FORM}")
        try:
            raw = await read_limited(scope, receive, self.max_bytes)
            form = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
        except BodyTooLarge as exc:
            raise AlternateSyntaxRefused(413, str(exc)) from None
        except (UnicodeDecodeError, ValueError):
            raise AlternateSyntaxRefused(400, "the form body is not URL-encoded UTF-8") from None
        fields = {name: value for name, value in form}
        content = fields.pop("content", None)
        if method in ("PUT", "POST") and content is None:
            raise AlternateSyntaxRefused(400, f"a {method} in the alternate request syntax needs the form field "
                                              "'content'")
        given = {name.lower(): value for name, value in fields.items() if name.lower() in HEADER_FIELDS}
        params = [(name, value) for name, value in fields.items() if name.lower() not in HEADER_FIELDS]
        body = (content or "").encode()
        kept = [(k, v) for k, v in scope["headers"] if k.decode("latin-1") not in ("content-type", "content-length")]
        present = {k.decode("latin-1") for k, _ in kept}
        extra = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in given.items()
                 if k not in present and k not in ("content-type", "content-length")]
        content_type = given.get("content-type", "application/json")
        rewritten = dict(scope, method=method, query_string=urlencode(params).encode("latin-1"),
                         headers=[*kept, *extra, (b"content-type", content_type.encode("latin-1", "replace")),
                                  (b"content-length", str(len(body)).encode())])
        return rewritten, body
