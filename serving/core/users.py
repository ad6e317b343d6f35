"""Account writes with their domain events: registration (the API, the seeder, the importer's system account)
and changes to an account (by its owner or an admin). Who may do what is the caller's to decide."""

from datetime import datetime

from sqlalchemy.orm import Session

from serving.core.outbox import Outbox
from serving.core.tables import User, new_id, utcnow


def register_user(session: Session, outbox: Outbox, *, email: str, name: str, role: str,
                  password_hash: str | None, user_id: str | None = None, at: datetime | None = None,
                  flush: bool = True) -> User:
    """A new account (``password_hash`` None: it cannot sign in). With ``flush``, a taken e-mail fails here."""
    at = at or utcnow()
    user = User(id=user_id or new_id(), email=email.lower(), name=name, role=role, password_hash=password_hash,
                created_at=at, updated_at=at)
    session.add(user)
    if flush:
        session.flush()
    outbox.record(session, "user.registered", actor_id=user.id, entity_type="user", entity_id=user.id,
                  occurred_at=at, flush=flush, role=role)
    return user


def update_user(session: Session, outbox: Outbox, user: User, changes: dict, *, actor_id: str,
                changed: list[str] | None = None) -> None:
    """Set ``changes`` (column: value); the event names ``changed`` (default: the columns), never the values."""
    for column, value in changes.items():
        setattr(user, column, value)
    names = sorted(changed if changed is not None else changes)
    if names:
        outbox.record(session, "user.updated", actor_id=actor_id, entity_type="user", entity_id=user.id,
                      changed=names, role=user.role, is_active=user.is_active)
