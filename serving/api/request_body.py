"""Reading a request body within the API's one bound on size (and, for JSON, on depth).

``BoundedJsonBodies`` (middleware) applies it to every route; the routes that read their own
bodies (native events, xAPI) call ``read_body_limited`` and ``parse_json`` with the same settings.
"""

from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from learnlake.json_bounds import JsonRefused, parse_json
from learnlake.settings import Settings


class BodyTooLarge(Exception):
    """A request body over the limit (answered 413)."""


async def read_limited(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body, or ``BodyTooLarge`` as soon as it is known to exceed ``limit`` bytes."""
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body of {int(declared):,} bytes; at most {limit:,} are allowed")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body over {limit:,} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def read_body_limited(request: Request, limit: int) -> bytes:
    """The raw body, or 413 as soon as it is known to be larger than ``limit`` bytes."""
    try:
        return await read_limited(request.scope, request.receive, limit)
    except BodyTooLarge as exc:
        raise HTTPException(413, str(exc)) from None


def parse_json_or_400(body: bytes, settings: Settings) -> object:
    """``parse_json`` with the API's depth limit; a refusal is a 400 with the reason."""
    try:
        return parse_json(body, max_depth=settings.max_json_depth)
    except JsonRefused as exc:
        raise HTTPException(400, str(exc)) from None
