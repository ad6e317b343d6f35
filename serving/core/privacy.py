"""Erasure of a person from the core database, at once; the erasure job does every other store.

``erase_account`` closes the account and deletes what the core database holds of the person,
in one transaction: the user row (e-mail, name, password), their enrollments and progress,
their tutor conversations, their refresh tokens, the domain events in the outbox that name
them, the xAPI documents (State, Agent Profile) stored for their agent, their notifications and
the at-risk notifications about them in instructors' inboxes. Enrollments and
progress are deleted rather than anonymised: an "anonymous" enrollment keeps its progress, its dates and its course together, which is a profile, and the marts keep
the aggregates that matter (counts, averages). The erasure is recorded with hashes of the
person's identifiers, so that their events arriving later are dropped, and with the clear
pseudonyms the job needs, until it has finished with them.
"""

import re
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select

from lake.privacy import PSEUDONYM_PATTERN, Subject, identifier_hash, identifier_hashes, subject_of
from learnlake.errors import LearnLakeError
from serving.core.audit import forget_in_log
from serving.core.db import Database
from serving.core.enums import NotificationKind
from serving.core.tables import (
    AtRiskState,
    Course,
    EmailDelivery,
    Enrollment,
    Erasure,
    GradedAnswer,
    ItemProgress,
    Notification,
    NotificationPreference,
    OutboxEvent,
    RefreshToken,
    TutorTurn,
    User,
    XapiDocument,
)


class UnknownPerson(LearnLakeError):
    """No account has that id or e-mail, and no erasure was recorded for one."""


class ErasureRefused(LearnLakeError):
    """The account cannot be erased as it stands (it owns courses)."""


def find_erasure(database: Database, user: str) -> Erasure | None:
    """The erasure recorded for ``user`` (an account id or e-mail), if any."""
    hashed = identifier_hash(user)
    with database.read() as session:
        found = session.scalar(select(Erasure).where(Erasure.subject_hash == hashed))
        if found is None:  # an e-mail: look among the e-mails erasures remember
            for erasure in session.scalars(select(Erasure)):
                if hashed in erasure.identifier_hashes.get("email", []):
                    return erasure
        return found


def find_account(database: Database, user: str) -> User | None:
    """The account of ``user``: an account id, or an e-mail address (any case)."""
    with database.read() as session:
        return session.get(User, user) or session.scalar(select(User).where(User.email == user.lower()))


def erase_account(database: Database, user: str, *, requested_by: str, pseudonym_key: str) -> Erasure:
    """Erase ``user`` (an account id or e-mail) from the core database and record the erasure.

    Erasing twice returns the first erasure and changes nothing. Raises ``UnknownPerson`` when no
    such account exists or was erased, ``ErasureRefused`` when the account owns courses.
    """
    account = find_account(database, user)
    if account is None:
        if (erased := find_erasure(database, user)) is not None:
            return erased
        if re.fullmatch(PSEUDONYM_PATTERN, user):  # a learner the lake knows with no account (a dataset's)
            return erase_pseudonyms(database, [user], requested_by=requested_by)[0]
        raise UnknownPerson(f"no account {user!r}")
    subject = subject_of(account.id, account.email, account.name, pseudonym_key)
    with database.write() as session:
        account = session.get(User, account.id, with_for_update=True)
        if account is None:  # erased by a concurrent request
            return find_erasure(database, subject.user_id)
        owned = session.scalar(select(func.count()).select_from(Course).where(Course.instructor_id == account.id))
        if owned:
            msg = f"the account owns {owned} course(s): give them to another instructor before erasing it"
            raise ErasureRefused(msg)
        deleted = _delete_personal_rows(session, subject)
        erasure = Erasure(subject_hash=identifier_hash(subject.user_id), identifier_hashes=identifier_hashes(subject),
                          pending={"pseudonyms": list(subject.pseudonyms), "xapi_keys": list(subject.xapi_keys),
                                   "user_id": subject.user_id},
                          requested_by=requested_by,
                          stores={"core_database": {"done_at": datetime.now(UTC).isoformat(), **deleted}})
        session.add(erasure)
    return erasure


def erase_pseudonyms(database: Database, pseudonyms: list[str], *, requested_by: str) -> list[Erasure]:
    """Record the erasure of learners the lake knows only by pseudonym (imported from a dataset, with no
    core account); the erasure job does the rest. Already erased ones are returned as they are."""
    erasures = []
    with database.write() as session:
        for pseudonym in dict.fromkeys(pseudonyms):
            hashed = identifier_hash(pseudonym)
            erasure = session.scalar(select(Erasure).where(Erasure.subject_hash == hashed))
            if erasure is None:
                erasure = Erasure(subject_hash=hashed, identifier_hashes={"pseudonym": [hashed]},
                                  pending={"pseudonyms": [pseudonym], "xapi_keys": [], "user_id": None},
                                  requested_by=requested_by, stores={"core_database": {
                                      "done_at": datetime.now(UTC).isoformat(), "accounts": 0}})
                session.add(erasure)
            erasures.append(erasure)
    return erasures


def _delete_personal_rows(session, subject: Subject) -> dict[str, int]:
    enrollments = select(Enrollment.id).where(Enrollment.user_id == subject.user_id)
    names_them = or_(OutboxEvent.learner_id.in_(subject.pseudonyms), OutboxEvent.entity_id.in_(subject.pseudonyms),
                     OutboxEvent.entity_id == subject.user_id)
    counts = {
        "progress": session.execute(delete(ItemProgress).where(ItemProgress.enrollment_id.in_(enrollments))).rowcount,
        "enrollments": session.execute(delete(Enrollment).where(Enrollment.user_id == subject.user_id)).rowcount,
        "tutor_turns": session.execute(delete(TutorTurn).where(TutorTurn.user_id == subject.user_id)).rowcount,
        "graded_answers": session.execute(
            delete(GradedAnswer).where(GradedAnswer.user_id == subject.user_id)).rowcount,
        "refresh_tokens": session.execute(delete(RefreshToken).where(RefreshToken.user_id == subject.user_id)).rowcount,
        "outbox_events": session.execute(delete(OutboxEvent).where(names_them)).rowcount,
        "xapi_documents": session.execute(
            delete(XapiDocument).where(XapiDocument.agent_key.in_(subject.xapi_keys))).rowcount,
    }
    counts["notifications"] = _delete_notifications(session, subject.user_id)
    counts["access_log_entries"] = forget_in_log(session, subject.user_id)
    counts["accounts"] = session.execute(delete(User).where(User.id == subject.user_id)).rowcount
    return counts


def _delete_notifications(session, user_id: str) -> int:
    """The person's inbox, e-mail preferences and deliveries, at-risk states, and the notifications about
    them in their instructors' inboxes (which name them)."""
    about_them = [n.id for n in session.scalars(select(Notification).where(Notification.kind == NotificationKind.AT_RISK))
                  if (n.data or {}).get("user_id") == user_id]
    deleted = session.execute(delete(Notification).where(
        or_(Notification.user_id == user_id, Notification.id.in_(about_them)))).rowcount
    for table in (NotificationPreference, EmailDelivery, AtRiskState):
        session.execute(delete(table).where(table.user_id == user_id))
    return deleted
