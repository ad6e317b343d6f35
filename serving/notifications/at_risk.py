"""Who crossed the at-risk threshold since the last published warehouse, told to the course's instructor.

After each publication (the pipeline renames a new warehouse file into place), one replica scores
every active enrollment with the dropout champion, as the at-risk page does, and compares each risk
with ``LEARNLAKE_AT_RISK_THRESHOLD`` and with the learner's state at the previous scoring. Each
crossing, up or back down, becomes a notification in the instructor's inbox (with the model's
reasons) and an ``atrisk.changed`` message to the course's instructors room. The first scoring of a
course only records where everyone stands: the at-risk page already lists who is at risk.
"""

import logging
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lake.warehouse import query
from learnlake.errors import ModelNotFoundError, TableNotFoundError
from learnlake.settings import Settings
from serving.core.db import Database
from serving.core.enums import EnrollmentStatus, NotificationKind
from serving.core.pseudonyms import Pseudonyms
from serving.core.tables import AtRiskScoring, AtRiskState, Course, Enrollment, User
from serving.learner_models import LearnerModels
from serving.notifications.inbox import announce, notify
from serving.realtime.hub import Hub
from serving.realtime.messages import AtRiskChanged, MessageType, instructors_room

log = logging.getLogger(__name__)


def warehouse_version(settings: Settings) -> str | None:
    """An identity of the published warehouse file (a publication renames a new file into place)."""
    path = Path(settings.published_warehouse_path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return f"{stat.st_ino}-{stat.st_size}-{stat.st_mtime_ns}"


def score_publication(database: Database, models: LearnerModels, pseudonyms: Pseudonyms, hub: Hub,
                      settings: Settings) -> int | None:
    """Score the published warehouse if no replica has yet; the number of crossings, None if not scored."""
    version = warehouse_version(settings)
    if version is None:
        return None
    try:
        with database.write() as session:
            session.add(AtRiskScoring(warehouse_version=version))
    except IntegrityError:
        return None  # scored already, here or by another replica
    try:
        changes = score(database, models, pseudonyms, hub, settings)
    except (ModelNotFoundError, TableNotFoundError) as exc:
        log.info("at-risk changes not scored yet: %s", exc)
        with database.write() as session:  # try again when there is a model
            session.delete(session.get(AtRiskScoring, version))
        return None
    with database.write() as session:
        session.get(AtRiskScoring, version).changes = changes
    log.info("scored the published warehouse for at-risk changes", extra={"changes": changes, "version": version})
    return changes


def score(database: Database, models: LearnerModels, pseudonyms: Pseudonyms, hub: Hub, settings: Settings) -> int:
    """Score every active enrollment now; record states; notify each crossing. Returns the crossings."""
    with database.read() as session:
        enrolled = session.execute(
            select(Enrollment.course_id, User.id, User.name, Course.instructor_id, Course.title)
            .join(User, User.id == Enrollment.user_id).join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.status == EnrollmentStatus.ACTIVE)).all()
        previous = {(s.course_id, s.user_id): s.at_risk for s in session.scalars(select(AtRiskState))}
    as_of = query(settings, "select max(as_of_at) as as_of from marts.fct_enrollments")["as_of"][0] \
        or datetime.now(UTC)
    by_course = defaultdict(list)
    for row in enrolled:
        by_course[row.course_id].append(row)
    crossings, states = [], []
    for course_id, rows in by_course.items():
        learners = {pseudonyms.learner_id(row.id): row for row in rows}
        version, risks = models.risks(course_id, list(learners), as_of=as_of)
        first_scoring = not any((course_id, row.id) in previous for row in rows)
        for r in risks:
            row = learners[r.learner_id]
            at_risk = r.risk >= settings.at_risk_threshold
            states.append((course_id, row.id, at_risk, r.risk))
            was = previous.get((course_id, row.id), False if not first_scoring else at_risk)
            if at_risk != was:
                crossings.append((row, AtRiskChanged(course_id=course_id, user_id=row.id, name=row.name,
                                                     at_risk=at_risk, risk=round(r.risk, 4),
                                                     threshold=settings.at_risk_threshold, reasons=r.reasons,
                                                     model_version=version)))
    notifications = _record(database, states, crossings)
    for row, change in crossings:
        hub.publish(instructors_room(change.course_id), MessageType.AT_RISK, change)
    announce(hub, notifications)
    return len(crossings)


def _record(database: Database, states: list[tuple], crossings: list[tuple]) -> list:
    now = datetime.now(UTC)
    with database.write() as session:
        for course_id, user_id, at_risk, risk in states:
            state = session.get(AtRiskState, (course_id, user_id))
            if state is None:
                session.add(AtRiskState(course_id=course_id, user_id=user_id, at_risk=at_risk, risk=risk))
            else:
                state.at_risk, state.risk, state.updated_at = at_risk, risk, now
        notifications = []
        for row, change in crossings:
            what = "is now at risk" if change.at_risk else "is no longer at risk"
            body = f"{change.name} {what} in {row.title} (dropout risk {change.risk:.0%}, threshold " \
                   f"{change.threshold:.0%})." + (f" Why: {'; '.join(change.reasons)}." if change.reasons else "")
            notifications.append(notify(session, row.instructor_id, NotificationKind.AT_RISK,
                                        f"{change.name} {what} in {row.title}", body, change.model_dump(mode="json")))
    return notifications
