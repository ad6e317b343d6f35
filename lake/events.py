"""The native event format clients send, its validation, and its mapping to ``bronze.events`` rows.

A native event (``POST /v1/events``)::

    {"event_id": "5f0c...",                      # client-made UUID: the idempotency key
     "learner_id": "lrn_...",                     # pseudonymous id from the core API
     "verb": "completed",
     "object": {"type": "quiz", "id": "...", "course_id": "...", "module_id": "..."},
     "result": {"score": 0.8, "success": true, "completion": true, "duration_s": 95.0,
                "response": "choice-2"},
     "context": {"platform": "web", "session_id": "...", "registration": "..."},
     "timestamp": "2026-09-07T10:15:00Z",
     "schema_version": 1}

``object.type``, ``result`` and ``context`` fields are optional; fields this version does
not know are kept in the stored raw payload, never refused, so newer clients keep working.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, NotRequired

import pyarrow as pa
from pydantic import AwareDatetime, Field, TypeAdapter
from typing_extensions import TypedDict

from lake.schemas import EVENT_SCHEMA_VERSION, EVENTS, VERBS

# A client clock may run a little fast; anything further ahead is a bug on its side.
MAX_CLOCK_SKEW = timedelta(minutes=5)
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Id = Annotated[str, Field(min_length=1, max_length=256)]

# TypedDicts rather than models: validation is on the hot path of ingestion, and
# pydantic-core validates these straight from JSON bytes several times faster.


class EventObject(TypedDict):
    type: Id
    id: Id
    course_id: NotRequired[Id | None]
    module_id: NotRequired[Id | None]


class EventResult(TypedDict, total=False):
    score: Annotated[float, Field(ge=0, le=1)] | None
    success: bool | None
    completion: bool | None
    duration_s: Annotated[float, Field(ge=0)] | None
    response: Annotated[str, Field(max_length=10_000)] | None


class EventContext(TypedDict, total=False):
    platform: Id | None
    session_id: Id | None
    registration: Id | None


class NativeEvent(TypedDict):
    """One learner action as a client reports it (unknown keys are ignored, kept in the payload)."""

    event_id: Annotated[str, Field(pattern=UUID_PATTERN)]
    learner_id: Id
    verb: Literal[VERBS]  # type: ignore[valid-type]
    object: EventObject
    result: NotRequired[EventResult]
    context: NotRequired[EventContext]
    timestamp: AwareDatetime
    schema_version: NotRequired[Literal[1]]


EVENT_LIST = TypeAdapter(list[NativeEvent])


def future_timestamps(events: list[NativeEvent], now: datetime | None = None) -> list[int]:
    """Indexes of events whose timestamp is further in the future than clock skew explains."""
    limit = (now or datetime.now(UTC)) + MAX_CLOCK_SKEW
    return [i for i, event in enumerate(events) if event["timestamp"] > limit]


def event_to_row(event: NativeEvent, *, received_at: datetime, source: str, payload: str) -> dict:
    """The ``bronze.events`` row of a validated event."""
    obj = event["object"]
    result = event.get("result") or {}
    context = event.get("context") or {}
    timestamp = event["timestamp"].astimezone(UTC)
    return {
        "event_id": event["event_id"].lower(),
        "learner_id": event["learner_id"],
        "verb": event["verb"],
        "object_type": obj["type"],
        "object_id": obj["id"],
        "course_id": obj.get("course_id"),
        "module_id": obj.get("module_id"),
        "result_score": result.get("score"),
        "result_success": result.get("success"),
        "result_completion": result.get("completion"),
        "result_duration_s": result.get("duration_s"),
        "result_response": result.get("response"),
        "context_platform": context.get("platform"),
        "context_session_id": context.get("session_id"),
        "context_registration": context.get("registration"),
        "timestamp": timestamp,
        "received_at": received_at,
        "event_date": timestamp.date(),
        "schema_version": event.get("schema_version", EVENT_SCHEMA_VERSION),
        "source": source,
        "payload": payload,
    }


def rows_to_table(rows: list[dict]) -> pa.Table:
    """Rows (as from ``event_to_row``) as an Arrow table of the ``bronze.events`` schema."""
    return pa.Table.from_pylist(rows, schema=EVENTS)


def row_to_native(row: dict) -> dict:
    """The native JSON form of a ``bronze.events`` row (the simulator's rows, for instance)."""
    event = {
        "event_id": row["event_id"],
        "learner_id": row["learner_id"],
        "verb": row["verb"],
        "object": {k: v for k, v in (("type", row["object_type"]), ("id", row["object_id"]),
                                     ("course_id", row["course_id"]), ("module_id", row["module_id"]))
                   if v is not None},
        "timestamp": row["timestamp"].isoformat().replace("+00:00", "Z"),
        "schema_version": EVENT_SCHEMA_VERSION,
    }
    result = {k: row[f"result_{k}"] for k in ("score", "success", "completion", "duration_s", "response")
              if row[f"result_{k}"] is not None}
    context = {k: row[f"context_{c}"] for k, c in (("platform", "platform"), ("session_id", "session_id"),
                                                  ("registration", "registration"))
               if row[f"context_{c}"] is not None}
    if result:
        event["result"] = result
    if context:
        event["context"] = context
    return event
