"""``/api/v1/notifications``: each user's own inbox (newest first), marking read, and e-mail preferences.

New notifications are also pushed live (``notification.new`` on ``/api/v1/ws``) and, unless the user
turned that kind off, e-mailed in the day's digest (``serving.notifications.daily``).
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict

from serving.api.auth import require
from serving.api.deps import DatabaseDep
from serving.api.pagination import Limit, Offset
from serving.api.responses import SIGNED_IN, documented
from serving.core.enums import NotificationKind
from serving.core.permissions import Permission
from serving.core.tables import User
from serving.notifications.inbox import email_preferences, inbox, mark_read, set_email_preferences

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=SIGNED_IN)
Me = Annotated[User, Depends(require(Permission.READ_SELF))]
MAX_ID = 2**63 - 1


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    body: str
    data: dict
    created_at: datetime
    read_at: datetime | None


class InboxOut(BaseModel):
    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


class EmailPreferences(BaseModel):
    """Whether to e-mail each kind of notification: ``at_risk`` (instructors' daily digest), ``inactive``."""

    model_config = ConfigDict(extra="forbid")

    at_risk: bool | None = None
    inactive: bool | None = None


@router.get("", response_model=InboxOut)
def list_notifications(me: Me, database: DatabaseDep, limit: Limit = 50, offset: Offset = 0,
                       unread: bool = False) -> InboxOut:
    """Your notifications, newest first (``unread=true``: only those not read yet)."""
    rows, total, unread_count = inbox(database, me.id, unread_only=unread, limit=limit, offset=offset)
    return InboxOut(items=[NotificationOut.model_validate(r) for r in rows], total=total, unread=unread_count,
                    limit=limit, offset=offset)


@router.post("/read-all")
def read_all(me: Me, database: DatabaseDep) -> dict:
    """Mark every notification of yours read."""
    return {"marked": mark_read(database, me.id)}


@router.post("/{notification_id}/read", status_code=204, responses=documented(404))
def read_one(me: Me, database: DatabaseDep, notification_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> None:
    """Mark one of your notifications read (again: no change); someone else's is a 404, as a missing one."""
    if mark_read(database, me.id, notification_id) is None:
        raise HTTPException(404, f"no notification {notification_id} of yours")


@router.get("/preferences")
async def get_preferences(me: Me, database: DatabaseDep) -> dict[str, bool]:
    """Whether you get e-mail, per kind of notification."""

    def read() -> dict[str, bool]:
        with database.read() as session:
            return email_preferences(session, me.id)

    return await run_in_threadpool(read)


@router.put("/preferences")
def put_preferences(me: Me, database: DatabaseDep, body: EmailPreferences) -> dict[str, bool]:
    """Turn e-mail on or off per kind; kinds left out keep their setting."""
    wanted = {NotificationKind(kind): value for kind, value in body.model_dump().items() if value is not None}
    return set_email_preferences(database, me.id, wanted)
