"""``/docs``, ``/redoc`` and ``/openapi.json`` for admins only: how the API is mounted when
``LEARNLAKE_PUBLIC_DOCS`` is off (the default in production).

A script sends an admin's access token; a browser is asked for an admin's e-mail and password
(HTTP Basic), which it then sends with the page's own request for ``/openapi.json``.
"""

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from sqlalchemy import select

from serving.api.auth import bearer, current_user, enforce_rate_limit, limit_sign_in
from serving.core.enums import Role
from serving.core.rate_limits import EndpointClass
from serving.core.security import verify_password
from serving.core.tables import User

basic = HTTPBasic(auto_error=False)
CHALLENGE = {"WWW-Authenticate": 'Basic realm="LearnLake API docs"'}


async def require_admin(request: Request) -> None:
    """An admin's bearer token, or an admin's e-mail and password by HTTP Basic."""
    scheme = request.headers.get("authorization", "").partition(" ")[0].lower()
    if scheme == "bearer":
        user = await current_user(request, await bearer(request))
    elif scheme == "basic" and (credentials := await basic(request)) is not None:
        user = await run_in_threadpool(_signed_in, request, credentials)
    else:
        raise HTTPException(401, "the API's documentation is for admins: sign in", headers=CHALLENGE)
    if user is None or user.role != Role.ADMIN:
        raise HTTPException(403 if user is not None else 401, "the API's documentation is for admins",
                            headers=None if user is not None else CHALLENGE)


def _signed_in(request: Request, credentials: HTTPBasicCredentials) -> User | None:
    limit_sign_in(request)
    enforce_rate_limit(request, EndpointClass.AUTH, f"docs:{credentials.username.lower()}")
    with request.app.state.database.read() as session:
        user = session.scalar(select(User).where(User.email == credentials.username.lower()))
    hashed = user.password_hash if user is not None else None
    return user if verify_password(credentials.password, hashed) and user.is_active else None


router = APIRouter(include_in_schema=False, dependencies=[Depends(require_admin)])


@router.get("/openapi.json")
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def swagger() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="LearnLake API")


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="LearnLake API")
