"""Arrow schemas of the lake tables.

``bronze.events`` is the record of the platform: one row per learner action or domain
event. New optional columns may be added later (Delta schema evolution); existing ones
never change type.
"""

import pyarrow as pa

EVENT_SCHEMA_VERSION = 1

VERBS = (
    "registered",  # enrolled in a course
    "viewed",
    "started",
    "completed",
    "answered",
    "played",
    "paused",
    "searched",
    "asked",  # a question to the tutor (object: the conversation; result.response: the question)
    "rated",  # said whether something helped (result.success; null: the rating taken back), e.g. a tutor answer
    "other",  # an xAPI verb with no native equivalent; its IRI is in the payload
)
CONTENT_TYPES = ("lesson", "video", "quiz", "assignment")

_TS = pa.timestamp("us", tz="UTC")

EVENTS = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),  # client-supplied UUID, idempotency key
        pa.field("learner_id", pa.string(), nullable=False),  # pseudonymous, see lake.privacy
        pa.field("verb", pa.string(), nullable=False),
        pa.field("object_type", pa.string(), nullable=False),
        pa.field("object_id", pa.string(), nullable=False),
        pa.field("course_id", pa.string()),
        pa.field("module_id", pa.string()),
        pa.field("result_score", pa.float64()),  # scaled to [0, 1]
        pa.field("result_success", pa.bool_()),
        pa.field("result_completion", pa.bool_()),
        pa.field("result_duration_s", pa.float64()),
        pa.field("result_response", pa.string()),  # answer given, or the search query
        pa.field("context_platform", pa.string()),
        pa.field("context_session_id", pa.string()),
        pa.field("context_registration", pa.string()),  # enrollment id
        pa.field("timestamp", _TS, nullable=False),  # when it happened, by the client's clock
        pa.field("received_at", _TS, nullable=False),  # when the server received it
        pa.field("event_date", pa.date32(), nullable=False),  # partition column, UTC date of timestamp
        pa.field("schema_version", pa.int32(), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # simulator, api, xapi, outbox, dataset name
        pa.field("payload", pa.string()),  # the raw JSON received, for replay
        pa.field("source_key", pa.string()),  # the source key it came with (learnlake sources); null: none
    ]
)

ENROLLMENT_TRUTH = pa.schema(
    [
        pa.field("enrollment_id", pa.string(), nullable=False),
        pa.field("learner_id", pa.string(), nullable=False),
        pa.field("course_id", pa.string(), nullable=False),
        pa.field("enrolled_day", pa.int32(), nullable=False),
        pa.field("dropout_day", pa.int32()),  # null: never dropped out within the simulation
        pa.field("completed_day", pa.int32()),  # null: did not finish the course
    ]
)

MASTERY_TRUTH = pa.schema(
    [
        pa.field("learner_id", pa.string(), nullable=False),
        pa.field("skill_id", pa.string(), nullable=False),
        pa.field("week", pa.int32(), nullable=False),
        pa.field("mastery", pa.float64(), nullable=False),  # P(correct) on an item of difficulty 0
    ]
)

DEAD_LETTERS = pa.schema(
    [
        pa.field("dead_letter_id", pa.string(), nullable=False),  # <writer id>:<landing sequence number>
        pa.field("target_table", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("received_at", _TS, nullable=False),
        pa.field("failed_at", _TS, nullable=False),
        pa.field("payload", pa.string(), nullable=False),
    ]
)


# Snapshots of the core API's tables (``bronze.core_*``), merged on their key. People appear
# only by pseudonymous learner id: e-mail and name stay in the core database (decision 6).
CORE_USERS = pa.schema([
    pa.field("learner_id", pa.string(), nullable=False),
    pa.field("role", pa.string(), nullable=False),
    pa.field("is_active", pa.bool_(), nullable=False),
    pa.field("created_at", _TS, nullable=False),
    pa.field("updated_at", _TS, nullable=False),
])

CORE_COURSES = pa.schema([
    pa.field("course_id", pa.string(), nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("description", pa.string()),
    pa.field("instructor_learner_id", pa.string(), nullable=False),
    pa.field("status", pa.string(), nullable=False),
    pa.field("metadata", pa.string()),  # JSON
    pa.field("published_at", _TS),
    pa.field("created_at", _TS, nullable=False),
    pa.field("updated_at", _TS, nullable=False),
])

CORE_MODULES = pa.schema([
    pa.field("module_id", pa.string(), nullable=False),
    pa.field("course_id", pa.string(), nullable=False),
    pa.field("position", pa.int32(), nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("created_at", _TS, nullable=False),
    pa.field("updated_at", _TS, nullable=False),
])

CORE_CONTENT_ITEMS = pa.schema([
    pa.field("item_id", pa.string(), nullable=False),
    pa.field("module_id", pa.string(), nullable=False),
    pa.field("course_id", pa.string(), nullable=False),
    pa.field("position", pa.int32(), nullable=False),
    pa.field("content_type", pa.string(), nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("body", pa.string()),
    pa.field("url", pa.string()),
    pa.field("skills", pa.list_(pa.string())),
    pa.field("difficulty", pa.float64()),
    pa.field("estimated_minutes", pa.int32()),
    pa.field("prerequisites", pa.list_(pa.string())),
    pa.field("source", pa.string()),  # JSON: where imported content came from
    pa.field("created_at", _TS, nullable=False),
    pa.field("updated_at", _TS, nullable=False),
])

CORE_ENROLLMENTS = pa.schema([
    pa.field("enrollment_id", pa.string(), nullable=False),
    pa.field("learner_id", pa.string(), nullable=False),
    pa.field("course_id", pa.string(), nullable=False),
    pa.field("status", pa.string(), nullable=False),
    pa.field("progress_percent", pa.float64(), nullable=False),
    pa.field("enrolled_at", _TS, nullable=False),
    pa.field("completed_at", _TS),
    pa.field("unenrolled_at", _TS),
    pa.field("updated_at", _TS, nullable=False),
])

CORE_ITEM_PROGRESS = pa.schema([
    pa.field("progress_id", pa.string(), nullable=False),
    pa.field("enrollment_id", pa.string(), nullable=False),
    pa.field("learner_id", pa.string(), nullable=False),
    pa.field("item_id", pa.string(), nullable=False),
    pa.field("status", pa.string(), nullable=False),
    pa.field("score", pa.float64()),
    pa.field("time_spent_s", pa.float64(), nullable=False),
    pa.field("completed_at", _TS),
    pa.field("created_at", _TS, nullable=False),
    pa.field("updated_at", _TS, nullable=False),
])

# An instructor's grade of a written answer (the core API's review queue): it replaces the automatic grade
# of the ``answered`` event whose session id is the answer's id.
CORE_ANSWER_REVIEWS = pa.schema([
    pa.field("answer_id", pa.string(), nullable=False),
    pa.field("learner_id", pa.string(), nullable=False),
    pa.field("course_id", pa.string(), nullable=False),
    pa.field("item_id", pa.string(), nullable=False),
    pa.field("reviewed_score", pa.int32(), nullable=False),
    pa.field("points", pa.int32(), nullable=False),
    pa.field("updated_at", _TS, nullable=False),  # when the grade was given, or last changed
])

# Outcomes that real datasets come with, for training and evaluating models on them.
DROPOUT_LABELS = pa.schema([
    pa.field("source", pa.string(), nullable=False),  # the dataset
    pa.field("enrollment_id", pa.string(), nullable=False),
    pa.field("learner_id", pa.string(), nullable=False),
    pa.field("course_id", pa.string()),
    pa.field("dropped_out", pa.bool_(), nullable=False),
    pa.field("final_result", pa.string()),  # the dataset's own outcome where it has one (OULAD: Pass, Fail...)
])

# The tutor's passages with their MiniLM vectors, as published for the API replicas (models/tutor/published.py):
# each version of the table is one whole snapshot of the index.
TUTOR_PASSAGES = pa.schema([
    pa.field("point_id", pa.string(), nullable=False),
    pa.field("course_id", pa.string(), nullable=False),
    pa.field("payload", pa.string(), nullable=False),  # the chunk and its fingerprint, JSON
    pa.field("vector", pa.list_(pa.float32()), nullable=False),
])
