"""The core database's tables (SQLAlchemy 2). Alembic migrations in ``migrations/`` create them.

Ids are UUID strings, portable between SQLite and PostgreSQL. Every table that the lake
snapshots has ``updated_at``, which the snapshot reads incrementally.
"""

import uuid
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from serving.core.enums import CourseStatus, EnrollmentStatus, Role


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


# Outbox ids order state changes: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {datetime: UtcDateTime}


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lowercased
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.LEARNER)
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None: cannot sign in (seeded accounts)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised when the password or e-mail changes: access tokens carry the value they were issued
    # under, so every one issued before the change stops working at once.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RefreshToken(Base):
    """A refresh token, stored as its SHA-256: the token itself is only ever in the client's hands."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SourceKey(Base):
    """The credential of one event source (an LMS, an app, an xAPI tool): ``learnlake sources add``.

    Only the key's SHA-256 is kept; the key itself is shown once, when it is made. A revoked key
    stays listed (its name is on the events it sent) and its name is never given out again.
    """

    __tablename__ = "source_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Course(Timestamps, Base):
    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    instructor_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT, index=True)
    meta: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    published_at: Mapped[datetime | None]

    modules: Mapped[list["Module"]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan", passive_deletes=True)


class Module(Timestamps, Base):
    __tablename__ = "modules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))

    course: Mapped[Course] = relationship(back_populates="modules")
    items: Mapped[list["ContentItem"]] = relationship(
        back_populates="module", order_by="ContentItem.position", cascade="all, delete-orphan", passive_deletes=True)


class ContentItem(Timestamps, Base):
    __tablename__ = "content_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    module_id: Mapped[str] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    difficulty: Mapped[float | None] = mapped_column(Float)
    estimated_minutes: Mapped[int | None] = mapped_column(Integer)
    prerequisites: Mapped[list] = mapped_column(JSON, default=list)  # content item ids
    # Where imported content came from (book, section, file), so answers built from it can cite it.
    source: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    module: Mapped[Module] = relationship(back_populates="items")


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "course_id", name="uq_enrollments_user_course"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=EnrollmentStatus.ACTIVE)
    progress_percent: Mapped[float] = mapped_column(Float, default=0.0)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    unenrolled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class ItemProgress(Timestamps, Base):
    __tablename__ = "item_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "item_id", name="uq_item_progress_enrollment_item"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    enrollment_id: Mapped[str] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    time_spent_s: Mapped[float] = mapped_column(Float, default=0.0)
    completed_at: Mapped[datetime | None]


class OutboxEvent(Base):
    """A domain event written in the same transaction as the change it records (ARCHITECTURE.md decision 1).

    The relay (``lake.sources.core_outbox``) claims undelivered rows in numbered batches
    (``relay_batch``) and appends each batch to ``bronze.events`` under that number as a
    Delta transaction id, so a crash between the two never loses or repeats one.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_undelivered", "relay_batch", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    event_type: Mapped[str] = mapped_column(String(64))  # user.registered, course.published...
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))  # pseudonymous for users
    learner_id: Mapped[str] = mapped_column(String(64))  # pseudonymous id of who made the change
    course_id: Mapped[str | None] = mapped_column(String(36))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict] = mapped_column(JSON)  # never e-mail or name
    relay_batch: Mapped[int | None] = mapped_column(BigId)


class OutboxRelayState(Base):
    """One row: the last relay batch number handed out, and the lease of the relay at work.

    Delta transaction ids stop a batch from being appended twice one after the other, not by
    two relays at the same instant; the lease lets one relay work at a time, on any host.
    """

    __tablename__ = "outbox_relay"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_batch: Mapped[int] = mapped_column(BigId, default=0)
    lease_holder: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[float | None] = mapped_column(Float)  # epoch seconds


class TutorTurn(Base):
    """One question to the tutor and its answer; the turns of one ``conversation_id`` are a conversation.

    The question log for analytics goes to the lake as events; these rows let a conversation
    continue (its owner, the question before), let a learner read it back, and keep whether the
    asker found the answer helpful.
    """

    __tablename__ = "tutor_turns"
    __table_args__ = (Index("ix_tutor_turns_course_at", "course_id", "created_at"),  # a course's tutor report
                      # its rated turns, newest rating first: what each question reads (serving/tutor_ratings.py)
                      Index("ix_tutor_turns_course_rated", "course_id", "rated_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    grounded: Mapped[bool] = mapped_column(Boolean)
    citations: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The asker's judgement of the answer (None: not rated): the relevance labels a reranker can learn from.
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    rated_at: Mapped[datetime | None]


class Erasure(Base):
    """One erasure of a person (GDPR art. 17): who asked and when, and how far each store is.

    Identifiers are kept only as SHA-256 hashes (``identifier_hashes``): enough to recognise the
    person's pseudonym on an event that arrives later (and drop it), to answer "erased already",
    and for ``learnlake privacy verify`` to recognise any that remain, never enough to name them.
    ``pending`` holds the clear pseudonyms and xAPI identifiers that the erasure job still needs,
    and is emptied when it has finished.
    """

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the user id
    identifier_hashes: Mapped[dict] = mapped_column(JSON)  # kind (user_id, email, name, pseudonym...) -> hashes
    pending: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # pseudonyms, xapi_keys: until done
    requested_by: Mapped[str] = mapped_column(String(64))  # "self", "admin:<their id>" or "cli": never the person
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, done
    stores: Mapped[dict] = mapped_column(JSON, default=dict)  # store -> what was done there, and when
    completed_at: Mapped[datetime | None]


class AccessRecord(Base):
    """One read of one learner's data by someone else (an instructor's at-risk list, a drill-down, an
    admin's export...): who read, with which role, when, what, and whose. Kept for
    ``LEARNLAKE_RETENTION_AUDIT_DAYS``; an erasure leaves the record and takes the learner's id out."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_learner_at", "learner_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reader_id: Mapped[str] = mapped_column(String(36), index=True)
    reader_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))  # at_risk_list, learner_activity, export...
    resource: Mapped[str] = mapped_column(String(300))  # the path read
    learner_id: Mapped[str] = mapped_column(String(36))  # the account whose data was read


class XapiDocument(Base):
    """One document of the LRS's document resources (xAPI part three): a State, an Activity Profile or an
    Agent Profile, stored as the client sent it (bytes and content type).

    A document is found by its ``key_hash`` (SHA-256 of its kind and every identifying parameter) and a
    set of documents ("the ids since", "delete all") by ``scope_hash`` (the same without the document id):
    activity ids and document ids are IRIs and strings of any length, too long for a portable index.
    ``agent_key`` is the agent's inverse functional identifier (``mbox:mailto:...``), so that an erasure
    or an export finds a person's documents.
    """

    __tablename__ = "xapi_documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope_hash: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # state, activity_profile, agent_profile
    activity_id: Mapped[str | None] = mapped_column(Text)
    agent_key: Mapped[str | None] = mapped_column(String(400), index=True)
    registration: Mapped[str | None] = mapped_column(String(36))
    document_id: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(40))  # SHA-1 of the content, as the conformance suite expects
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """One message in a user's inbox (``/api/v1/notifications``); also pushed live and, if the user
    wants, e-mailed in the day's digest (``emailed_at``)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]


class NotificationPreference(Base):
    """Whether a user gets e-mail for one kind of notification (yes unless they said no)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)


class EmailDelivery(Base):
    """One e-mail of one kind to one user on one day (UTC): the unique key is what keeps it to one a day,
    across API replicas, whichever sends first."""

    __tablename__ = "email_deliveries"
    __table_args__ = (UniqueConstraint("user_id", "kind", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class AtRiskState(Base):
    """Whether a learner was at risk in a course when the last published warehouse was scored: what the
    next scoring compares with to find who crossed the threshold."""

    __tablename__ = "at_risk_states"

    course_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    at_risk: Mapped[bool] = mapped_column(Boolean)
    risk: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AtRiskScoring(Base):
    """One published warehouse scored for at-risk changes; the replica that inserts the row does it."""

    __tablename__ = "at_risk_scorings"

    warehouse_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[int | None] = mapped_column(Integer)


class EventClaim(Base):
    """Which API replica's committer puts an event id into the lake: the first to claim it. Replicas share
    the core database, so a replay landed on another replica is recognised there and dropped
    (``lake/event_claims.py``). Kept as long as the landing logs keep replays (``LEARNLAKE_LANDING_KEEP_S``)."""

    __tablename__ = "event_claims"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    writer_id: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ItemAssessment(Timestamps, Base):
    """How a free-text item is graded: its reference answer, the key points a full answer makes, and its
    scale. Kept apart from the item, which learners read: only those who may edit the course see it."""

    __tablename__ = "item_assessments"

    item_id: Mapped[str] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(Text)
    key_points: Mapped[list] = mapped_column(JSON, default=list)
    points: Mapped[int] = mapped_column(Integer)


class GradedAnswer(Base):
    """A learner's written answer to an item, its automatic grade, and a person's grade where one was
    needed (``status`` ``pending_review`` until the instructor gives it). Personal data: erased with the
    learner, in their export, and removed with the events after ``LEARNLAKE_RETENTION_EVENTS_DAYS``."""

    __tablename__ = "graded_answers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(Text)
    score: Mapped[int] = mapped_column(Integer)  # the automatic grade, 0 .. points
    points: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    feedback: Mapped[dict] = mapped_column(JSON, default=dict)  # what was found, missed, and the passage cited
    status: Mapped[str] = mapped_column(String(16), index=True)  # graded | pending_review | reviewed
    reviewed_score: Mapped[int | None] = mapped_column(Integer)
    reviewer_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ModelPracticeQuestion(Base):
    """A practice question a language model wrote from a passage of the course
    (``models/practice/written_by_model.py``), after its checks. Kept so that every API replica serves
    and marks the same questions and a passage with questions is not sent again; bound to its version
    (``fingerprint``): an edited passage gets new questions and these are no longer served."""

    __tablename__ = "model_practice_questions"

    question_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(16), index=True)  # the passage's version
    chunk_id: Mapped[str] = mapped_column(Text)  # which passage, for people reading the table
    kind: Mapped[str] = mapped_column(String(16))  # cloze | multiple_choice
    prompt: Mapped[str] = mapped_column(Text)
    options: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)  # the passage's sentence that answers it
    model: Mapped[str] = mapped_column(String(200))  # the endpoint's model name
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelPracticePassage(Base):
    """A passage version the language model was sent for practice questions and answered on, whatever it
    wrote: kept so that no replica, now or after a restart, sends the passage again, also when none of its
    questions passed the checks (``questions`` 0, ``dropped`` says why). A failed request leaves no row."""

    __tablename__ = "model_practice_passages"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(16), primary_key=True)  # the passage's version
    chunk_id: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    questions: Mapped[int] = mapped_column(Integer)  # how many passed the checks
    dropped: Mapped[list] = mapped_column(JSON, default=list)  # why the others were turned down
    written_at: Mapped[datetime] = mapped_column(default=utcnow)


class WithdrawnPracticeQuestion(Base):
    """A practice question the course's instructor took out of the course (unclear, wrong, or not what the
    course teaches), whoever made it, rules or a model: not served or marked while this row exists."""

    __tablename__ = "withdrawn_practice_questions"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime] = mapped_column(default=utcnow)
