"""The day's e-mail: a digest to each instructor of the at-risk changes in their courses not e-mailed
yet, and a nudge (inbox, and e-mail) to each learner inactive for ``LEARNLAKE_INACTIVE_DAYS``.

At most one e-mail a day per kind per user: each is claimed first (a row whose unique key is user,
kind and day), so replicas running this at the same time send it once; a failed send gives the
claim back, for a later run. A learner is nudged once per spell of inactivity; nobody who turned a
kind of e-mail off gets it (their inbox still does).
"""

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from learnlake.settings import Settings
from serving.core.db import Database
from serving.core.enums import EnrollmentStatus, NotificationKind
from serving.core.tables import EmailDelivery, Enrollment, ItemProgress, Notification, User
from serving.notifications.inbox import announce, email_preferences, notify
from serving.notifications.mailer import send_email
from serving.realtime.hub import Hub
from serving.telemetry.metrics import NOTIFICATION_EMAILS

log = logging.getLogger(__name__)


def run_daily(database: Database, hub: Hub, settings: Settings, now: datetime | None = None,
              send=send_email) -> dict[str, int]:
    """Nudge the inactive, then send the day's e-mails (when SMTP is configured); counts of each."""
    now = now or datetime.now(UTC)
    nudged = nudge_inactive(database, hub, settings, now)
    sent = {"at_risk": 0, "inactive": 0}
    if settings.smtp_url:
        sent = send_emails(database, settings, now, send)
    return {"nudged": nudged, "emails_at_risk": sent["at_risk"], "emails_inactive": sent["inactive"]}


def nudge_inactive(database: Database, hub: Hub, settings: Settings, now: datetime) -> int:
    """An ``inactive`` notification for each learner with an active enrollment and no activity (progress,
    or enrolling) for ``inactive_days``, unless they were nudged since their last activity."""
    cutoff = now - timedelta(days=settings.inactive_days)
    last_progress = select(Enrollment.user_id, func.max(ItemProgress.updated_at).label("at")) \
        .join(ItemProgress, ItemProgress.enrollment_id == Enrollment.id).group_by(Enrollment.user_id).subquery()
    with database.read() as session:
        active = session.execute(
            select(Enrollment.user_id, func.max(Enrollment.enrolled_at), last_progress.c.at)
            .outerjoin(last_progress, last_progress.c.user_id == Enrollment.user_id)
            .where(Enrollment.status == EnrollmentStatus.ACTIVE)
            .group_by(Enrollment.user_id, last_progress.c.at)).all()
        last_nudged = dict(session.execute(
            select(Notification.user_id, func.max(Notification.created_at))
            .where(Notification.kind == NotificationKind.INACTIVE).group_by(Notification.user_id)).all())
    due = []
    for user_id, enrolled_at, progressed_at in active:
        last_active = max(t for t in (enrolled_at, progressed_at) if t is not None)
        nudged_at = last_nudged.get(user_id)
        if last_active < cutoff and (nudged_at is None or nudged_at < last_active):
            due.append((user_id, (now - last_active).days))
    if not due:
        return 0
    with database.write() as session:
        notifications = [notify(session, user_id, NotificationKind.INACTIVE, "Your courses are waiting for you",
                                f"You have not studied for {days} days. A few minutes today keep what you learned "
                                "fresh: your next items are on your learning page.", {"days_inactive": days})
                         for user_id, days in due]
    announce(hub, notifications)
    return len(notifications)


def send_emails(database: Database, settings: Settings, now: datetime, send) -> dict[str, int]:
    """Each user's notifications not e-mailed yet, one e-mail per kind, if they want it and none went today."""
    with database.read() as session:
        pending = session.execute(
            select(Notification, User.email, User.name).join(User, User.id == Notification.user_id)
            .where(Notification.emailed_at.is_(None), Notification.read_at.is_(None),
                   Notification.kind.in_([k.value for k in NotificationKind]))
            .order_by(Notification.created_at, Notification.id)).all()
        wanted = {user_id: email_preferences(session, user_id) for user_id in {n.user_id for n, _, _ in pending}}
    groups = defaultdict(list)
    for notification, email, name in pending:
        if wanted[notification.user_id][notification.kind]:
            groups[(notification.user_id, notification.kind, email, name)].append(notification)
    sent = {kind.value: 0 for kind in NotificationKind}
    day = now.date().isoformat()
    for (user_id, kind, email, name), notifications in groups.items():
        if not _claim(database, user_id, kind, day):
            continue  # one went today already (perhaps from another replica)
        subject, body = _compose(kind, name, notifications)
        try:
            send(settings, email, subject, body)
        except Exception:  # the claim goes back: a later run tries again
            log.exception("sending the %s e-mail failed; will retry", kind)
            NOTIFICATION_EMAILS.labels(kind, "failed").inc()
            with database.write() as session:
                session.execute(delete(EmailDelivery).where(EmailDelivery.user_id == user_id,
                                                            EmailDelivery.kind == kind, EmailDelivery.day == day))
            continue
        with database.write() as session:
            session.execute(update(Notification).where(Notification.id.in_([n.id for n in notifications]))
                            .values(emailed_at=now))
        sent[kind] += 1
        NOTIFICATION_EMAILS.labels(kind, "sent").inc()
    return sent


def _claim(database: Database, user_id: str, kind: str, day: str) -> bool:
    try:
        with database.write() as session:
            session.add(EmailDelivery(user_id=user_id, kind=kind, day=day))
        return True
    except IntegrityError:
        return False


def _compose(kind: str, name: str, notifications: list[Notification]) -> tuple[str, str]:
    unsubscribe = "You can turn these e-mails off at /api/v1/notifications/preferences (your account's settings)."
    if kind == NotificationKind.AT_RISK:
        lines = "\n".join(f"- {n.title}: {n.body}" for n in notifications)
        body = (f"Hello {name},\n\nSince the last digest:\n\n{lines}\n\nThe at-risk page of each course has "
                f"the details.\n\n{unsubscribe}\n")
        return f"LearnLake: {len(notifications)} at-risk change(s) in your courses", body
    latest = notifications[-1]
    return latest.title, f"Hello {name},\n\n{latest.body}\n\n{unsubscribe}\n"
