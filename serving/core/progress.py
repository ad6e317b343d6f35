"""An enrollment's progress percent: completed content items over the course's items."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from serving.core.enums import EnrollmentStatus, ProgressStatus
from serving.core.tables import ContentItem, Enrollment, ItemProgress, utcnow


def recompute_percent(session: Session, enrollment: Enrollment, now: datetime) -> str | None:
    """Set the enrollment's percent (and completion).

    Returns the domain event the change calls for: ``enrollment.completed``,
    ``enrollment.recomputed``, or None when nothing changed.
    """
    total = session.scalar(select(func.count()).where(ContentItem.course_id == enrollment.course_id)) or 0
    done = session.scalar(select(func.count()).select_from(ItemProgress).join(
        ContentItem, ContentItem.id == ItemProgress.item_id).where(
        ItemProgress.enrollment_id == enrollment.id, ItemProgress.status == ProgressStatus.COMPLETED,
        ContentItem.course_id == enrollment.course_id)) or 0
    before = enrollment.progress_percent
    enrollment.progress_percent = round(100.0 * done / total, 2) if total else 0.0
    if total and done >= total and enrollment.status == EnrollmentStatus.ACTIVE:
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.completed_at = now
        return "enrollment.completed"
    return "enrollment.recomputed" if enrollment.progress_percent != before else None


def recompute_course(session: Session, course_id: str) -> list[tuple[Enrollment, str]]:
    """After the course's items changed: every enrollment's percent again; returns those that moved,
    each with the domain event it calls for."""
    now = utcnow()
    enrollments = session.scalars(select(Enrollment).where(Enrollment.course_id == course_id)
                                  .order_by(Enrollment.id).with_for_update())
    changes = [(enrollment, recompute_percent(session, enrollment, now)) for enrollment in enrollments]
    return [(enrollment, event) for enrollment, event in changes if event is not None]
