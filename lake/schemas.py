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
