"""Learners' privacy rights, and the record of who read their data.

- Erasure (GDPR art. 17), for themselves or by an admin: the core database at once; the
  ``privacy_erasure`` Dagster job (its sensor starts it within a minute, or ``learnlake privacy
  forget``) carries it into every other store.
- Export (art. 15 and 20): one zip of JSON files with all the platform holds of them.
- The access audit: every read of a learner's data by someone else, for admins to query.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from serving.api.auth import enforce_rate_limit, require
from serving.api.deps import DatabaseDep, LearnerModelsDep, SettingsDep
from serving.api.pagination import Limit, Offset, page
from serving.api.responses import SIGNED_IN
from serving.api.schemas import Body, Page
from serving.core.audit import record_access
from serving.core.permissions import Permission
from serving.core.privacy import ErasureRefused, UnknownPerson, erase_account
from serving.core.rate_limits import EndpointClass
from serving.core.security import verify_password
from serving.core.tables import AccessRecord, Erasure, User
from serving.export import export_archive

router = APIRouter(prefix="/api/v1", tags=["privacy"], responses=SIGNED_IN)


class ErasureBody(Body):
    password: Annotated[str, Field(min_length=1, max_length=256, description="Your current password")]


class ErasureOut(BaseModel):
    id: int
    status: str  # pending until every store is done and the grace period for old lake versions has passed
    requested_at: datetime
    requested_by: str
    stores: dict


def _out(erasure: Erasure) -> ErasureOut:
    return ErasureOut(id=erasure.id, status=erasure.status, requested_at=erasure.requested_at,
                      requested_by=erasure.requested_by, stores=erasure.stores)


@router.post("/users/me/erasure", status_code=202, responses={
    403: {"description": "Wrong password"}, 409: {"description": "The account owns courses"}})
async def erase_me(request: Request, body: ErasureBody, me: Annotated[User, Depends(require(Permission.UPDATE_SELF))],
                   database: DatabaseDep, settings: SettingsDep) -> ErasureOut:
    """Erase my account and everything the platform holds of me. Asks for my password: a stolen access
    token must not be enough to destroy an account."""
    enforce_rate_limit(request, EndpointClass.AUTH, f"password:{me.id}")
    if not await run_in_threadpool(verify_password, body.password, me.password_hash):
        raise HTTPException(403, "the password is wrong")
    return await _erase(database, me.id, "self", settings)


@router.post("/admin/users/{user_id}/erasure", status_code=202, responses={
    404: {"description": "No such account"}, 409: {"description": "The account owns courses"}})
async def erase_user(user_id: str, admin: Annotated[User, Depends(require(Permission.MANAGE_USERS))],
                     database: DatabaseDep, settings: SettingsDep) -> ErasureOut:
    """Erase an account and everything the platform holds of its person; erasing twice changes nothing."""
    if user_id == admin.id:
        raise HTTPException(409, "erase your own account at POST /api/v1/users/me/erasure, with your password")
    return await _erase(database, user_id, f"admin:{admin.id}", settings)


async def _erase(database, user_id: str, requested_by: str, settings) -> ErasureOut:
    try:
        erasure = await run_in_threadpool(erase_account, database, user_id, requested_by=requested_by,
                                          pseudonym_key=settings.pseudonym_key.get_secret_value())
    except UnknownPerson as exc:
        raise HTTPException(404, str(exc)) from None
    except ErasureRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return _out(erasure)


ZIP = {200: {"content": {"application/zip": {}}, "description": "The archive (README.md inside says its layout)"}}


@router.get("/users/me/export", response_class=Response, responses=ZIP)
async def export_me(me: Annotated[User, Depends(require(Permission.READ_SELF))], database: DatabaseDep,
                    settings: SettingsDep, learner_models: LearnerModelsDep) -> Response:
    """Everything the platform holds of me, as one zip of JSON files."""
    return await _archive(me, database, settings, learner_models)


@router.get("/admin/users/{user_id}/export", response_class=Response,
            responses={**ZIP, 404: {"description": "No such account"}})
async def export_user(user_id: str, admin: Annotated[User, Depends(require(Permission.MANAGE_USERS))],
                      database: DatabaseDep, settings: SettingsDep, learner_models: LearnerModelsDep) -> Response:
    """Everything the platform holds of an account's person (recorded in the access audit)."""
    with database.read() as session:
        person = session.get(User, user_id)
    if person is None:
        raise HTTPException(404, f"no account {user_id}")
    await run_in_threadpool(record_access, database, admin, "export", f"/api/v1/admin/users/{user_id}/export",
                            [user_id])
    return await _archive(person, database, settings, learner_models)


async def _archive(person: User, database, settings, learner_models) -> Response:
    archive = await run_in_threadpool(export_archive, person, database, settings, learner_models)
    return Response(archive, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="learnlake-export-{person.id}.zip"'})


class AccessRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    reader_id: str
    reader_role: str
    action: str
    resource: str
    learner_id: str


@router.get("/admin/audit")
def audit_log(_: Annotated[User, Depends(require(Permission.MANAGE_USERS))], database: DatabaseDep,
              reader_id: Annotated[str | None, Query(max_length=64)] = None,
              learner_id: Annotated[str | None, Query(max_length=64)] = None,
              action: Annotated[str | None, Query(max_length=64)] = None,
              since: datetime | None = None, until: datetime | None = None,
              limit: Limit = 50, offset: Offset = 0) -> Page[AccessRecordOut]:
    """Who read which learner's data, when, and through what, newest first, filtered as asked."""
    query = select(AccessRecord)
    for column, value in ((AccessRecord.reader_id, reader_id), (AccessRecord.learner_id, learner_id),
                          (AccessRecord.action, action)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AccessRecord.at >= _aware(since))
    if until is not None:
        query = query.where(AccessRecord.at < _aware(until))
    with database.read() as session:
        items, total = page(session, query, sort="-at", columns={"id": AccessRecord.id, "at": AccessRecord.at},
                            limit=limit, offset=offset)
    return Page(items=[AccessRecordOut.model_validate(r) for r in items], total=total, limit=limit, offset=offset)


def _aware(value: datetime) -> datetime:
    """A time to compare stored UTC times with; one that falls off the calendar in UTC is its end."""
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=UTC)
