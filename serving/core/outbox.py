"""Domain events, written to the outbox in the same transaction as the change they record.

The relay in ``lake.sources.core_outbox`` later moves them into ``bronze.events``. Payloads
carry ids and facts, never e-mail or name; users appear by their pseudonymous learner id.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from learnlake.settings import Settings
from serving.core.domain_events import payload_of
from serving.core.pseudonyms import Pseudonyms
from serving.core.tables import OutboxEvent, utcnow


class Outbox:
    """Writes domain events into the caller's session (and so into its transaction)."""

    def __init__(self, pseudonyms: Pseudonyms) -> None:
        self.pseudonyms = pseudonyms

    @classmethod
    def for_settings(cls, settings: Settings) -> "Outbox":
        return cls(Pseudonyms.for_settings(settings))

    def record(self, session: Session, event_type: str, *, actor_id: str, entity_type: str, entity_id: str,
               course_id: str | None = None, occurred_at: datetime | None = None, flush: bool = True,
               **facts) -> None:
        """Add one event; ``entity_id`` of a user is replaced by its learner id.

        ``facts`` must match the event type's schema (``domain_events.PAYLOADS``): UnknownDomainEvent
        otherwise. ``occurred_at`` (default now) is for imports of past changes; ``flush=False`` for
        bulk imports in one transaction, where nothing else competes for the rows.
        """
        payload = payload_of(event_type, facts)
        if entity_type == "user":
            entity_id = self.pseudonyms.learner_id(entity_id)
        session.add(OutboxEvent(
            event_type=event_type,
            entity_type=entity_type,
            entity_id=entity_id,
            learner_id=self.pseudonyms.learner_id(actor_id),
            course_id=course_id,
            occurred_at=occurred_at or utcnow(),
            payload=payload,
        ))
        # Flush now: the outbox id is drawn while the caller still holds its row locks, so
        # ids rise in commit order for each entity.
        if flush:
            session.flush()
