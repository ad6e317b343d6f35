"""What the platform holds of one person, as one archive of JSON files (GDPR art. 15 and 20).

The files are listed in ``FILES`` (and in the archive's ``README.md``). Only the person's own
rows: events are chosen by their pseudonyms, statements by their identifiers, everything else
by their account. Nothing of another learner is in it.
"""

import io
import json
import logging
import zipfile
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import select

from lake.privacy import subject_of
from lake.readers import scan_table, table_exists
from lake.statement_store import StatementStore
from lake.warehouse import query
from learnlake.errors import LearnLakeError
from learnlake.settings import Settings
from serving.core.db import Database
from serving.core.tables import Enrollment, GradedAnswer, ItemProgress, TutorTurn, User
from serving.learner_models import LearnerModels
from serving.xapi.documents import DocumentStore

log = logging.getLogger(__name__)

FILES = {
    "profile.json": "the account: id, e-mail, name, role, dates, and the pseudonyms the lake knows you by "
                    "(keyed hashes of your account id and of your e-mail address as xAPI tools report it)",
    "enrollments.json": "each enrollment, with your progress on each content item",
    "events.json": "every event of yours in the lake: your actions, sent natively or by xAPI tools",
    "xapi_statements.json": "every xAPI statement that names you, as the learning record store keeps it",
    "xapi_documents.json": "what learning tools stored for you in the learning record store (State and Agent "
                           "Profile documents: bookmarks, suspend data, preferences)",
    "models.json": "what the models say of you: mastery per skill; per course, your dropout risk with its "
                   "reasons, and the next items recommended",
    "tutor_conversations.json": "your questions to the tutor, its answers, and whether you found them helpful",
    "written_answers.json": "your written answers, their grades and feedback, and any instructor's grade",
}
README = "# Your data at LearnLake\n\nExported {at} for account {user_id}. Each file is one JSON document (UTF-8):\n\n" \
    + "".join(f"- `{name}`: {what}\n" for name, what in FILES.items())


def export_archive(user: User, database: Database, settings: Settings, models: LearnerModels) -> bytes:
    """The zip archive of everything the platform holds of ``user``."""
    subject = subject_of(user.id, user.email, user.name, settings.pseudonym_key.get_secret_value())
    with database.read() as session:
        enrollments = session.scalars(select(Enrollment).where(Enrollment.user_id == user.id)).all()
        progress = session.scalars(select(ItemProgress).where(
            ItemProgress.enrollment_id.in_([e.id for e in enrollments]))).all()
        turns = session.scalars(select(TutorTurn).where(TutorTurn.user_id == user.id)
                                .order_by(TutorTurn.created_at)).all()
        answers = session.scalars(select(GradedAnswer).where(GradedAnswer.user_id == user.id)
                                  .order_by(GradedAnswer.created_at)).all()
    documents = {
        "profile.json": {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
                         "is_active": user.is_active, "created_at": user.created_at, "updated_at": user.updated_at,
                         "pseudonyms": list(subject.pseudonyms)},
        "enrollments.json": [{**_columns(e), "progress": [_columns(p) for p in progress if p.enrollment_id == e.id]}
                             for e in enrollments],
        "events.json": _events(subject.pseudonyms, settings),
        "xapi_statements.json": _statements(subject.xapi_keys, settings),
        "xapi_documents.json": DocumentStore(database).of_agents(list(subject.xapi_keys)),
        "models.json": _models(subject.pseudonyms[0], [e.course_id for e in enrollments], models, settings),
        "tutor_conversations.json": [_columns(t) for t in turns],
        "written_answers.json": [_columns(a) for a in answers],
    }
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.md", README.format(at=datetime.now(UTC).isoformat(), user_id=user.id))
        for name, document in documents.items():
            zf.writestr(name, json.dumps(document, default=str, indent=1, ensure_ascii=False))
    return archive.getvalue()


def _columns(row) -> dict:
    return {column.key: getattr(row, column.key) for column in row.__mapper__.column_attrs}


def _events(pseudonyms: tuple[str, ...], settings: Settings) -> list[dict]:
    if not table_exists("bronze.events", settings):
        return []
    events = scan_table("bronze.events", settings=settings).filter(pl.col("learner_id").is_in(pseudonyms)) \
        .sort("timestamp").collect()
    return [{**row, "payload": json.loads(row["payload"]) if row["payload"] else None}
            for row in events.iter_rows(named=True)]


def _statements(xapi_keys: tuple[str, ...], settings: Settings) -> list[dict]:
    store = StatementStore.existing(settings.lrs_database_url)
    if store is None:
        return []
    try:
        return store.naming(xapi_keys)
    finally:
        store.close()


def _models(learner_id: str, course_ids: list[str], models: LearnerModels, settings: Settings) -> dict:
    """Each model's view of the learner; where a model is not trained yet, the reason instead."""
    found: dict = {"learner_id": learner_id}
    try:
        mastery = models.mastery(learner_id)
        found["mastery"] = {"model_version": mastery.model_version, "skills": mastery.skills}
    except LearnLakeError as exc:
        found["mastery"] = {"unavailable": str(exc)}
    as_of = _warehouse_time(settings)
    courses = {}
    for course_id in course_ids:
        course: dict = {}
        try:
            version, (risk, *_) = models.risks(course_id, [learner_id], as_of=as_of)
            course["dropout_risk"] = {"model_version": version, "risk": risk.risk, "reasons": risk.reasons,
                                      "as_of": as_of}
        except (LearnLakeError, ValueError) as exc:
            course["dropout_risk"] = {"unavailable": str(exc)}
        try:
            ranked = models.recommendations(learner_id, course_id, 10)
            course["recommendations"] = [item.__dict__ for item in ranked.items] if ranked else []
        except LearnLakeError as exc:
            course["recommendations"] = {"unavailable": str(exc)}
        courses[course_id] = course
    found["courses"] = courses
    return found


def _warehouse_time(settings: Settings) -> datetime:
    """The moment the warehouse describes (its latest enrollment state), as the at-risk list uses."""
    try:
        found = query(settings, "select max(as_of_at) as at from marts.fct_enrollments")["at"][0]
    except LearnLakeError:
        found = None
    return found or datetime.now(UTC)
