"""Enrolments and progress: the writes and their domain events, for the routes and the seeder alike.

Who may enrol or report (a published course, the learner's own enrolment) is the caller's to decide;
these functions change the rows, recompute the percent and record what happened.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from serving.core.enums import EnrollmentStatus, ProgressStatus
from serving.core.outbox import Outbox
from serving.core.progress import recompute_percent
from serving.core.tables import Enrollment, ItemProgress, new_id, utcnow


def enroll(session: Session, outbox: Outbox, user_id: str, course_id: str, *, existing: Enrollment | None = None,
           enrollment_id: str | None = None, at: datetime | None = None, flush: bool = True) -> Enrollment:
    """A new enrolment (``enrollment.created``), or ``existing`` (an unenrolled one) active again
    (``enrollment.reactivated``). With ``flush``, a concurrent enrolment fails here, on the unique constraint."""
    if existing is None:
        at = at or utcnow()
        enrollment = Enrollment(id=enrollment_id or new_id(), user_id=user_id, course_id=course_id,
                                status=EnrollmentStatus.ACTIVE, progress_percent=0.0, enrolled_at=at, updated_at=at)
        session.add(enrollment)
        if flush:
            session.flush()
        record(session, outbox, "enrollment.created", user_id, enrollment, at=at, flush=flush)
        return enrollment
    existing.status = EnrollmentStatus.ACTIVE
    existing.unenrolled_at = None
    record(session, outbox, "enrollment.reactivated", user_id, existing)
    return existing


def unenroll(session: Session, outbox: Outbox, enrollment: Enrollment, *, actor_id: str) -> None:
    """The enrolment and its progress stay on record, marked unenrolled."""
    enrollment.status = EnrollmentStatus.UNENROLLED
    enrollment.unenrolled_at = utcnow()
    record(session, outbox, "enrollment.cancelled", actor_id, enrollment)


def record_progress(session: Session, outbox: Outbox, enrollment: Enrollment, item_id: str, *, actor_id: str,
                    status: ProgressStatus, time_spent_s: float = 0.0, score: float | None = None,
                    progress: ItemProgress | None = None, at: datetime | None = None,
                    flush: bool = True) -> ItemProgress:
    """Progress on one item (``progress`` is its row so far, if any): time adds up, a completion is never
    undone; then the enrolment's percent (``enrollment.completed`` once every item is done). With ``flush``
    false (a bulk replay) the percent is the caller's to set: ``replay_completions`` does."""
    at = at or utcnow()
    if progress is None:
        progress = ItemProgress(id=new_id(), enrollment_id=enrollment.id, item_id=item_id, status=status,
                                time_spent_s=0.0, created_at=at, updated_at=at)
        session.add(progress)
    elif progress.status == ProgressStatus.COMPLETED:
        status = ProgressStatus.COMPLETED
    progress.status = status
    progress.time_spent_s = (progress.time_spent_s or 0.0) + time_spent_s
    if score is not None:
        progress.score = score
    if status == ProgressStatus.COMPLETED and progress.completed_at is None:
        progress.completed_at = at
    if flush:
        session.flush()
    change = recompute_percent(session, enrollment, at) if flush else None
    record(session, outbox, "progress.updated", actor_id, enrollment, at=at, flush=flush, item_id=item_id,
           item_status=progress.status, score=progress.score, time_spent_s=time_spent_s)
    if change == "enrollment.completed":
        record(session, outbox, change, actor_id, enrollment, at=at, flush=flush)
    return progress


def replay_completions(session: Session, outbox: Outbox, enrollment: Enrollment, completions: list[dict],
                       items_in_course: int) -> None:
    """A past enrolment's completed items (``item_id``, ``completed_at``, ``score``, oldest first), written in
    bulk as ``record_progress`` would have written them live: the percent after each, and the completion."""
    for done, row in enumerate(completions, start=1):
        enrollment.progress_percent = round(100.0 * done / items_in_course, 2)
        if done >= items_in_course:
            enrollment.status, enrollment.completed_at = EnrollmentStatus.COMPLETED, row["completed_at"]
        enrollment.updated_at = row["completed_at"]
        record_progress(session, outbox, enrollment, row["item_id"], actor_id=enrollment.user_id,
                        status=ProgressStatus.COMPLETED, score=row["score"], at=row["completed_at"], flush=False)
        if done >= items_in_course:
            record(session, outbox, "enrollment.completed", enrollment.user_id, enrollment, at=row["completed_at"],
                   flush=False)


def record(session: Session, outbox: Outbox, event_type: str, actor_id: str, enrollment: Enrollment, *,
           at: datetime | None = None, flush: bool = True, **facts) -> None:
    """An enrolment's domain event, with its status and percent as they are now."""
    outbox.record(session, event_type, actor_id=actor_id, entity_type="enrollment", entity_id=enrollment.id,
                  course_id=enrollment.course_id, occurred_at=at, flush=flush, status=enrollment.status,
                  progress_percent=enrollment.progress_percent, **facts)
