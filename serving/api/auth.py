"""Who is calling, and may they: bearer-token authentication, the permission check, rate limits."""

import asyncio
from collections.abc import Callable
from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from serving.api.accounts import AccountReader
from serving.core.permissions import Permission, allows, scope_of
from serving.core.rate_limits import EndpointClass, RateLimits
from serving.core.security import AccessTokenVerifier, InvalidTokenError
from serving.core.source_keys import Scope as SourceScope
from serving.core.source_keys import Source, SourceKeyVerifier
from serving.core.tables import User
from serving.telemetry.metrics import RATE_LIMITED

bearer = HTTPBearer(auto_error=False, description="The access token from POST /api/v1/auth/login")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


async def current_user(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User:
    """The signed-in user; the role comes from the database, so a change applies at once.

    Awaited by ``require``'s dependencies, on the event loop: its reads are short, and a hop to
    the thread pool cost more than they do (bench serve).
    """
    # One turn of the event loop first. Handlers here rarely wait on anything, so the requests read
    # in one turn ran back to back, and a request landing just after the loop polled its sockets
    # missed the next batch too: under 50 closed-loop clients one client in fifty saw twice the
    # others' latency, every time (bench serve: recommendations p99 at 2.2 times the p50). With
    # this turn the loop reads what arrived in between, and every client sees the same latency.
    await asyncio.sleep(0)
    if credentials is None:
        raise _unauthorized("sign in first: send 'Authorization: Bearer <access token>'")
    return user_of_token(request.app.state, credentials.credentials)


def user_of_token(state, token: str) -> User:
    """The live account behind an access token (``state``: the app's), or 401 with the reason."""
    try:
        tokens: AccessTokenVerifier = state.access_tokens
        claims = tokens.verify(token)
    except InvalidTokenError as exc:
        raise _unauthorized(str(exc)) from exc
    accounts: AccountReader = state.accounts
    user = accounts.get(claims.user_id)
    if user is None or not user.is_active:
        raise _unauthorized("this account does not exist or is disabled")
    if claims.token_version != user.token_version:
        raise _unauthorized("this token was issued before the password or e-mail changed; sign in again")
    return user


def require(permission: Permission) -> Callable[..., User]:
    """A dependency that lets through users whose role holds ``permission``, within their rate limit."""

    # ``current_user`` is awaited here, not a sub-dependency: each level of dependencies cost
    # FastAPI more than the account read itself (bench serve).
    async def dependency(request: Request, credentials: Credentials) -> User:
        user = await current_user(request, credentials)
        refuse_without(user, permission)
        endpoint_class = EndpointClass.READ if request.method in ("GET", "HEAD") else EndpointClass.WRITE
        enforce_rate_limit(request, endpoint_class, f"user:{user.id}")
        return user

    dependency.permission = permission  # the role x endpoint test reads it
    return dependency


def refuse_without(user: User, permission: Permission) -> None:
    """403 unless ``user``'s role holds ``permission`` on something."""
    if scope_of(user.role, permission) is None:
        raise HTTPException(403, f"the {user.role} role does not have the permission {permission.value!r}")


def require_on(user: User, permission: Permission, owner_id: str | None) -> None:
    """Refuse with 403 unless ``user`` may act under ``permission`` on what ``owner_id`` owns."""
    if not allows(user.role, user.id, permission, owner_id):
        raise HTTPException(403, f"{permission.value!r} covers only your own resources")


def enforce_rate_limit(request: Request, endpoint_class: EndpointClass, key: str) -> None:
    limits: RateLimits = request.app.state.rate_limits
    verdict = limits.hit(endpoint_class, key)
    if not verdict.allowed:
        RATE_LIMITED.labels(endpoint_class.value).inc()
        raise HTTPException(429, f"too many {endpoint_class.value} requests; retry in {verdict.retry_after_s} s",
                            headers={"Retry-After": str(verdict.retry_after_s)})


def limit_sign_in(request: Request) -> None:
    """Sign-in and registration are limited per client address: there is no user yet. The address is
    the peer's own, or the one a trusted proxy forwarded (``LEARNLAKE_TRUSTED_PROXIES``), never one a
    client wrote into a header."""
    client = request.client.host if request.client else "unknown"
    enforce_rate_limit(request, EndpointClass.AUTH, f"ip:{client}")


def require_source_key(scope: SourceScope) -> Callable[..., Source]:
    """A dependency that lets through requests bearing a live source key with ``scope``
    (``Authorization: Bearer <key>``), within that key's rate limit.

    It reads the header itself rather than through ``HTTPBearer``: each level of dependencies costs
    FastAPI more than checking the key does, on the busiest route (``bench ingest``). Routes using it
    declare the bearer scheme with ``BEARER_SECURITY`` for the OpenAPI document.
    """

    async def dependency(request: Request) -> Source:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise _unauthorized("send the source's key: 'Authorization: Bearer <key>' (learnlake sources add NAME)")
        return authorize_source(request, key.strip(), scope)

    return dependency


# How a route whose dependency reads the bearer token itself says so in the OpenAPI document.
BEARER_SECURITY = {"security": [{"HTTPBearer": []}]}


def authorize_source(request: Request, key: str, scope: SourceScope | None, *, name: str | None = None,
                     challenge: str = "Bearer") -> Source:
    """The source behind ``key`` (named ``name`` when given), if it holds ``scope`` (any, when None);
    401 for an unknown or revoked key, 403 for a missing scope, 429 over its rate limit."""
    keys: SourceKeyVerifier = request.app.state.source_keys
    source = keys.verify(key, name=name)
    if source is None:
        raise HTTPException(401, "unknown or revoked source key", headers={"WWW-Authenticate": challenge})
    if scope is not None and scope not in source.scopes:
        raise HTTPException(403, f"the key of {source.name!r} lacks the scope {scope.value!r} "
                                 f"(it has {list(source.scopes)})")
    enforce_rate_limit(request, EndpointClass.INGEST, f"source:{source.name}")
    return source


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})
