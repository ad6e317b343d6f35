"""Learners' privacy rights: erasure (GDPR art. 17), for themselves or by an admin.

The core database is erased at once; the ``privacy_erasure`` Dagster job (its sensor starts it
within a minute, or ``learnlake privacy forget``) carries the erasure into every other store.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from serving.api.auth import DatabaseDep, enforce_rate_limit, require
from serving.api.deps import SettingsDep
from serving.api.responses import SIGNED_IN
from serving.api.schemas import Body
from serving.core.permissions import Permission
from serving.core.privacy import ErasureRefused, UnknownPerson, erase_account
from serving.core.rate_limits import EndpointClass
from serving.core.security import verify_password
from serving.core.tables import Erasure, User

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
    return await _erase(database, user_id, "admin", settings)


async def _erase(database, user_id: str, requested_by: str, settings) -> ErasureOut:
    try:
        erasure = await run_in_threadpool(erase_account, database, user_id, requested_by=requested_by,
                                          pseudonym_key=settings.pseudonym_key.get_secret_value())
    except UnknownPerson as exc:
        raise HTTPException(404, str(exc)) from None
    except ErasureRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return _out(erasure)
