"""An enrollment's progress percent: completed content items over the course's items."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from serving.core.tables import ContentItem, Enrollment, EnrollmentStatus, ItemProgress, ProgressStatus, utcnow


def recompute_percent(session: Session, enrollment: Enrollment, now: datetime) -> bool:
    """Set the enrollment's percent (and completion); True when something changed."""
    total = session.scalar(select(func.count()).where(ContentItem.course_id == enrollment.course_id)) or 0
    done = session.scalar(select(func.count()).select_from(ItemProgress).join(
        ContentItem, ContentItem.id == ItemProgress.item_id).where(
        ItemProgress.enrollment_id == enrollment.id, ItemProgress.status == ProgressStatus.COMPLETED,
        ContentItem.course_id == enrollment.course_id)) or 0
    before = (enrollment.progress_percent, enrollment.status)
    enrollment.progress_percent = round(100.0 * done / total, 2) if total else 0.0
    if total and done >= total and enrollment.status == EnrollmentStatus.ACTIVE:
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.completed_at = now
    return (enrollment.progress_percent, enrollment.status) != before


def recompute_course(session: Session, course_id: str) -> list[Enrollment]:
    """After the course's items changed: every enrollment's percent again; returns those that moved."""
    now = utcnow()
    enrollments = session.scalars(select(Enrollment).where(Enrollment.course_id == course_id)
                                  .order_by(Enrollment.id).with_for_update())
    return [e for e in enrollments if recompute_percent(session, e, now)]
