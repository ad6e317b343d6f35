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

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, NotRequired

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError
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


# Caching only keys: values (ids, timestamps) rarely repeat, and missing the cache costs more than it saves.
EVENT_LIST = TypeAdapter(list[NativeEvent], config=ConfigDict(cache_strings="keys"))


def future_timestamps(events: list[NativeEvent], now: datetime | None = None) -> list[int]:
    """Indexes of events whose timestamp is further in the future than clock skew explains."""
    limit = (now or datetime.now(UTC)) + MAX_CLOCK_SKEW
    return [i for i, event in enumerate(events) if event["timestamp"] > limit]


@dataclass(frozen=True)
class BatchCheck:
    """What validating a request body found: the lowercased event ids, or why it is refused."""

    ids: list[str] | None = None
    status: int | None = None  # the HTTP status of the refusal
    detail: str | dict | None = None


def check_batch(body: bytes, max_events: int) -> BatchCheck:
    """Validate a ``POST /v1/events`` body whole; a pure function, so it can run in a worker process."""
    try:
        events = EVENT_LIST.validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if errors[0]["type"] == "json_invalid":
            return BatchCheck(status=400, detail=f"malformed JSON: {errors[0]['ctx']['error']}")
        if errors[0]["loc"] == ():
            return BatchCheck(status=422, detail="the body must be a JSON array of events")
        return _refusal([
            {"index": e["loc"][0], "field": ".".join(map(str, e["loc"][1:])) or None, "reason": e["msg"]}
            for e in errors
        ])
    if not events:
        return BatchCheck(status=422, detail="the batch is empty")
    if len(events) > max_events:
        return BatchCheck(status=413, detail=f"{len(events)} events in one batch; at most {max_events} are allowed")
    if future := future_timestamps(events):
        return _refusal([{"index": i, "field": "timestamp", "reason": "timestamp is in the future"} for i in future])
    ids = [event["event_id"].lower() for event in events]
    if len(set(ids)) != len(ids):
        first_seen: dict[str, int] = {}
        return _refusal([
            {"index": i, "field": "event_id", "reason": f"duplicate of the event at index {first_seen[event_id]}"}
            for i, event_id in enumerate(ids)
            if first_seen.setdefault(event_id, i) != i
        ])
    return BatchCheck(ids=ids)


def _refusal(problems: list[dict]) -> BatchCheck:
    return BatchCheck(status=422, detail={"message": f"{len(problems)} problem(s); nothing was stored",
                                          "errors": problems})


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


class EventColumns:
    """Accumulates validated native events column by column, then makes one Arrow table.

    The committer's fast path: items were validated at the door, so they are only
    transposed here; Arrow does the type conversion (and refuses anything unexpected with
    ``pa.ArrowException``, on which the caller falls back to ``event_to_row``).
    """

    def __init__(self) -> None:
        self.rows: list[tuple] = []  # one tuple per event, in _COLUMNS order; transposed at the end

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, item: dict, *, received_at_us: int, source: str, payload: str) -> None:
        get = item.get
        obj = get("object") or _EMPTY
        result = get("result") or _EMPTY
        context = get("context") or _EMPTY
        self.rows.append((
            get("event_id"), get("learner_id"), get("verb"),
            obj.get("type"), obj.get("id"), obj.get("course_id"), obj.get("module_id"),
            result.get("score"), result.get("success"), result.get("completion"), result.get("duration_s"),
            result.get("response"),
            context.get("platform"), context.get("session_id"), context.get("registration"),
            get("timestamp"), get("schema_version"), received_at_us, source, payload,
        ))

    def to_table(self) -> pa.Table:
        columns = dict(zip(_COLUMNS, map(list, zip(*self.rows)), strict=True)) if self.rows else \
            {name: [] for name in _COLUMNS}
        arrays = {name: pa.array(columns[name], type=EVENTS.field(name).type) for name in _COLUMNS[:15]}
        timestamp = pa.array(columns["timestamp"], pa.string()).cast(pa.timestamp("us", tz="UTC"))
        arrays["event_id"] = pc.utf8_lower(arrays["event_id"])
        arrays.update({
            "timestamp": timestamp,
            "received_at": pa.array(columns["received_at_us"], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "event_date": timestamp.cast(pa.date32()),
            "schema_version": pa.array(columns["schema_version"], pa.int32()).fill_null(EVENT_SCHEMA_VERSION),
            "source": pa.array(columns["source"], pa.string()),
            "payload": pa.array(columns["payload"], pa.string()),
        })
        return pa.Table.from_pydict({name: arrays[name] for name in EVENTS.names}, schema=EVENTS)


_EMPTY: dict = {}
_COLUMNS = (
    "event_id", "learner_id", "verb", "object_type", "object_id", "course_id", "module_id",
    "result_score", "result_success", "result_completion", "result_duration_s", "result_response",
    "context_platform", "context_session_id", "context_registration",
    "timestamp", "schema_version", "received_at_us", "source", "payload",
)


def rows_to_table(rows: list[dict]) -> pa.Table:
    """Rows (as from ``event_to_row``) as an Arrow table of the ``bronze.events`` schema."""
    return pa.Table.from_pydict({name: [row[name] for row in rows] for name in EVENTS.names}, schema=EVENTS)


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
