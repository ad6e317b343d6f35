"""``/api/v1/users``: my account and enrollments; the admin's user list."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from serving.api.auth import enforce_rate_limit, require
from serving.api.deps import DatabaseDep, OutboxDep
from serving.api.pagination import Limit, Offset, page, sort_options
from serving.api.responses import SIGNED_IN
from serving.api.schemas import EnrollmentOut, Page, UpdateMeBody, UpdateUserBody, UserOut
from serving.core import users as user_accounts
from serving.core.audit import record_access
from serving.core.enums import EnrollmentStatus, Role
from serving.core.passwords import password_problem
from serving.core.permissions import Permission
from serving.core.rate_limits import EndpointClass
from serving.core.security import hash_password, sign_out_everywhere, verify_password
from serving.core.tables import Enrollment, User

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=SIGNED_IN)

USER_SORTS = sort_options("created_at", "email", "name", "role")
USER_COLUMNS = {"id": User.id, "created_at": User.created_at, "email": User.email, "name": User.name,
                "role": User.role}
ENROLLMENT_SORTS = sort_options("enrolled_at", "progress_percent")
ENROLLMENT_COLUMNS = {"id": Enrollment.id, "enrolled_at": Enrollment.enrolled_at,
                      "progress_percent": Enrollment.progress_percent}


@router.get("/me", response_model=UserOut)
def read_me(me: Annotated[User, Depends(require(Permission.READ_SELF))]) -> User:
    return me


@router.patch("/me", response_model=UserOut, responses={
    403: {"description": "The current password is wrong"}, 409: {"description": "The e-mail cannot be used"}})
def update_me(request: Request, body: UpdateMeBody, me: Annotated[User, Depends(require(Permission.UPDATE_SELF))],
              database: DatabaseDep, outbox: OutboxDep) -> User:
    """Change my name, or my e-mail or password with the current password. A new e-mail or password
    signs me out everywhere: every refresh token is revoked and every access token stops working."""
    credentials = body.password is not None or body.email is not None
    if credentials:
        # The current password guards the account against a stolen access token: guessing it is
        # limited like signing in.
        enforce_rate_limit(request, EndpointClass.AUTH, f"password:{me.id}")
        if not verify_password(body.current_password, me.password_hash):
            raise HTTPException(403, "the current password is wrong")
        if body.password is not None and (problem := password_problem(
                body.password, email=body.email or me.email, name=body.name or me.name)):
            raise HTTPException(422, problem)
    password_hash = hash_password(body.password) if body.password else None
    try:
        with database.write() as session:
            user = session.get(User, me.id, with_for_update=True)
            changes = {column: value for column, value in (("name", body.name), ("email", body.email),
                                                           ("password_hash", password_hash)) if value is not None}
            if credentials:
                sign_out_everywhere(session, user)
            user_accounts.update_user(session, outbox, user, changes, actor_id=me.id,
                                      changed=list(body.model_dump(exclude_none=True, exclude={"current_password"})))
    except IntegrityError:
        raise HTTPException(409, "this e-mail cannot be used for this account") from None
    return user


@router.get("/me/enrollments", response_model=Page[EnrollmentOut])
def my_enrollments(
    me: Annotated[User, Depends(require(Permission.READ_SELF))],
    database: DatabaseDep,
    status: EnrollmentStatus | None = None,
    sort: Literal[ENROLLMENT_SORTS] = "-enrolled_at",  # type: ignore[valid-type]
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EnrollmentOut]:
    query = select(Enrollment).where(Enrollment.user_id == me.id)
    if status is not None:
        query = query.where(Enrollment.status == status)
    with database.read() as session:
        items, total = page(session, query, sort=sort, columns=ENROLLMENT_COLUMNS, limit=limit, offset=offset)
    return Page(items=[EnrollmentOut.model_validate(e) for e in items], total=total, limit=limit, offset=offset)


@router.get("", response_model=Page[UserOut])
def list_users(
    admin: Annotated[User, Depends(require(Permission.LIST_USERS))],
    database: DatabaseDep,
    q: Annotated[str | None, Query(max_length=200, description="Part of the e-mail or name")] = None,
    role: Role | None = None,
    sort: Literal[USER_SORTS] = "created_at",  # type: ignore[valid-type]
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[UserOut]:
    query = select(User)
    if q:
        needle = q.lower()
        query = query.where(or_(User.email.contains(needle, autoescape=True),
                                func.lower(User.name).contains(needle, autoescape=True)))
    if role is not None:
        query = query.where(User.role == role)
    with database.read() as session:
        items, total = page(session, query, sort=sort, columns=USER_COLUMNS, limit=limit, offset=offset)
    record_access(database, admin, "user_list", "/api/v1/users", [u.id for u in items])
    return Page(items=[UserOut.model_validate(u) for u in items], total=total, limit=limit, offset=offset)


@router.get("/{user_id}", response_model=UserOut, responses={404: {"description": "No such user"}})
def read_user(user_id: str, admin: Annotated[User, Depends(require(Permission.LIST_USERS))],
              database: DatabaseDep) -> User:
    with database.read() as session:
        user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, f"no user {user_id}")
    record_access(database, admin, "user_read", f"/api/v1/users/{user_id}", [user_id])
    return user


@router.patch("/{user_id}", response_model=UserOut, responses={
    404: {"description": "No such user"}, 409: {"description": "An admin cannot demote or disable themselves"}})
def update_user(user_id: str, body: UpdateUserBody, admin: Annotated[User, Depends(require(Permission.MANAGE_USERS))],
                database: DatabaseDep, outbox: OutboxDep) -> User:
    with database.write() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user is None:
            raise HTTPException(404, f"no user {user_id}")
        if user.id == admin.id and (body.role not in (None, Role.ADMIN) or body.is_active is False):
            raise HTTPException(409, "admins cannot demote or disable themselves; ask another admin")
        user_accounts.update_user(session, outbox, user, body.model_dump(exclude_none=True), actor_id=admin.id)
    return user
