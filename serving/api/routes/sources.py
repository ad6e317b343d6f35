"""``/api/v1/admin/sources``: the keys of event sources, for admins (as ``learnlake sources``)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from serving.api.auth import require
from serving.api.deps import DatabaseDep, SourceKeysDep
from serving.api.responses import SIGNED_IN
from serving.api.schemas import Body
from serving.core.permissions import Permission
from serving.core.source_keys import (
    ALL_SCOPES,
    NAME_PATTERN,
    Scope,
    SourceKeyExists,
    SourceKeyInfo,
    UnknownSourceKey,
    create_key,
    list_keys,
    revoke_key,
)
from serving.core.tables import User

router = APIRouter(prefix="/api/v1/admin/sources", tags=["admin"], responses=SIGNED_IN)

Admin = Annotated[User, Depends(require(Permission.MANAGE_SOURCES))]


class SourceCreate(Body):
    name: Annotated[str, Field(pattern=NAME_PATTERN.pattern, description="Letters, digits, '.', '_', '-'")]
    scopes: list[Scope] = Field(default_factory=lambda: list(ALL_SCOPES), min_length=1, max_length=len(ALL_SCOPES))


class SourcePublic(BaseModel):
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class SourceCreated(SourcePublic):
    key: str = Field(description="The key, shown this once: the source sends it as 'Authorization: Bearer <key>' "
                                 "(native events) or as the HTTP Basic password with the name as user (xAPI)")


def _public(info: SourceKeyInfo) -> SourcePublic:
    return SourcePublic(name=info.name, scopes=list(info.scopes), created_at=info.created_at,
                        last_used_at=info.last_used_at, revoked_at=info.revoked_at)


@router.get("")
def list_sources(_: Admin, database: DatabaseDep) -> list[SourcePublic]:
    """Every source key, revoked ones too, with its scopes and last use (never the key)."""
    return [_public(info) for info in list_keys(database)]


@router.post("", status_code=201, responses={409: {"description": "The name is taken"}})
async def add_source(body: SourceCreate, _: Admin, database: DatabaseDep) -> SourceCreated:
    """Make a key for a new source; the answer is the only time the key is shown."""
    try:
        info, key = await run_in_threadpool(create_key, database, body.name, body.scopes)
    except SourceKeyExists as exc:
        raise HTTPException(409, str(exc)) from None
    return SourceCreated(**_public(info).model_dump(), key=key)


@router.post("/{name}/revoke", responses={404: {"description": "No such source"}})
def revoke_source(name: str, _: Admin, database: DatabaseDep, source_keys: SourceKeysDep) -> SourcePublic:
    """Revoke a source's key: refused at once by this API process, within a second by every other."""
    try:
        revoked = revoke_key(database, name)
    except UnknownSourceKey as exc:
        raise HTTPException(404, str(exc)) from None
    source_keys.forget()
    return _public(revoked)
