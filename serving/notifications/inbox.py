"""A user's inbox: notifications written in the caller's transaction, pushed once it has committed."""

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from serving.core.db import Database
from serving.core.enums import NotificationKind
from serving.core.tables import Notification, NotificationPreference
from serving.realtime.hub import Hub
from serving.realtime.messages import MessageType, NotificationNew, user_room


def notify(session: Session, user_id: str, kind: NotificationKind, title: str, body: str,
           data: dict | None = None) -> Notification:
    """Add a notification to ``user_id``'s inbox (flushed, so it has its id); ``announce`` it after commit."""
    notification = Notification(user_id=user_id, kind=kind.value, title=title[:200], body=body, data=data or {})
    session.add(notification)
    session.flush()
    return notification


def announce(hub: Hub, notifications: list[Notification]) -> None:
    """Push committed notifications to their users' rooms (``notification.new``)."""
    for n in notifications:
        hub.publish(user_room(n.user_id), MessageType.NOTIFICATION,
                    NotificationNew(id=n.id, kind=n.kind, title=n.title, body=n.body, data=n.data))


def inbox(database: Database, user_id: str, *, unread_only: bool, limit: int, offset: int
          ) -> tuple[list[Notification], int, int]:
    """(one page of the user's notifications, newest first; how many match; how many are unread)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    with database.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        unread = session.scalar(select(func.count()).where(Notification.user_id == user_id,
                                                          Notification.read_at.is_(None)))
        rows = session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                               .limit(limit).offset(offset)).all()
    return list(rows), total or 0, unread or 0


def mark_read(database: Database, user_id: str, notification_id: int | None = None) -> int | None:
    """Mark one notification (or, with None, every one) of the user read; how many changed. None when the
    user has no notification ``notification_id`` (someone else's counts as none)."""
    query = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    with database.write() as session:
        if notification_id is not None and session.scalar(select(Notification.id).where(
                Notification.id == notification_id, Notification.user_id == user_id)) is None:
            return None
        return session.execute(query.values(read_at=datetime.now(UTC))).rowcount


def email_preferences(session: Session, user_id: str) -> dict[str, bool]:
    """Whether the user wants e-mail, per kind (yes unless they said no)."""
    chosen = dict(session.execute(select(NotificationPreference.kind, NotificationPreference.email)
                                  .where(NotificationPreference.user_id == user_id)).all())
    return {kind.value: chosen.get(kind.value, True) for kind in NotificationKind}


def set_email_preferences(database: Database, user_id: str, wanted: dict[NotificationKind, bool]) -> dict[str, bool]:
    with database.write() as session:
        for kind, email in wanted.items():
            row = session.get(NotificationPreference, (user_id, kind.value))
            if row is None:
                session.add(NotificationPreference(user_id=user_id, kind=kind.value, email=email))
            else:
                row.email = email
        session.flush()
        return email_preferences(session, user_id)
