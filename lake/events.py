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

What the lake can hold is checked here, before a batch is acknowledged: a timestamp is an ISO
8601 string between 1970 and tomorrow (a year-1 date or a Unix number once stalled the
committer), strings and the body are bounded, the JSON is strict and at most
``LEARNLAKE_MAX_JSON_DEPTH`` deep, and a learner id is a pseudonym, not an e-mail address.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, NotRequired

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from lake.schemas import EVENT_SCHEMA_VERSION, EVENTS, VERBS
from learnlake.json_bounds import DEFAULT_MAX_DEPTH, JsonRefused, parse_json

# A client clock may run a little fast; anything further ahead is a bug on its side.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# What the lake holds at all: no event before the Unix epoch, none more than a day ahead of the
# clock that commits it (the door's own limit, MAX_CLOCK_SKEW, is tighter).
EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=1)
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Id = Annotated[str, Field(min_length=1, max_length=256)]
# One event as stored (its payload): fields a newer client adds are kept, within reason.
DEFAULT_MAX_EVENT_BYTES = 64 * 1024


def _iso_text(value):
    # A number is not a timestamp: JSON has no date type, and epoch seconds or milliseconds are a guess.
    if not isinstance(value, str | datetime):
        raise ValueError("timestamp must be an ISO 8601 string with a time zone, e.g. 2026-09-07T10:15:00Z")  # noqa: TRY004 - pydantic reports ValueError, not TypeError
    return value


def _within_lake_window(value: datetime) -> datetime:
    if value < EARLIEST_TIMESTAMP:
        raise ValueError("timestamp is before 1970-01-01")
    if value > datetime.now(UTC) + LATEST_AHEAD:
        raise ValueError("timestamp is more than a day in the future")
    return value


def _pseudonym(value: str) -> str:
    if "@" in value:
        raise ValueError("learner_id must be the pseudonymous id from the core API, not an e-mail address")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_within_lake_window)]

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
    learner_id: Annotated[Id, AfterValidator(_pseudonym)]
    verb: Literal[VERBS]  # type: ignore[valid-type]
    object: EventObject
    result: NotRequired[EventResult]
    context: NotRequired[EventContext]
    timestamp: Timestamp
    schema_version: NotRequired[Literal[1]]


# Caching only keys: values (ids, timestamps) rarely repeat, and missing the cache costs more than it saves.
EVENT_LIST = TypeAdapter(list[NativeEvent], config=ConfigDict(cache_strings="keys"))


def future_timestamps(events: list[NativeEvent], now: datetime | None = None) -> list[int]:
    """Indexes of events whose timestamp is further in the future than clock skew explains."""
    limit = (now or datetime.now(UTC)) + MAX_CLOCK_SKEW
    return [i for i, event in enumerate(events) if event["timestamp"] > limit]


@dataclass(frozen=True)
class BatchCheck:
    """What validating a request body found: the lowercased event ids, or why it is refused.

    ``problem`` says what kind of refusal it is: ``malformed`` (not strict, bounded JSON),
    ``invalid`` (events that break the rules, with the index and reason of each), or
    ``too_many`` (more events than one batch may hold).
    """

    ids: list[str] | None = None
    problem: Literal["malformed", "invalid", "too_many"] | None = None
    detail: str | dict | None = None


def check_batch(body: bytes, max_events: int, max_depth: int = DEFAULT_MAX_DEPTH,
                max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> BatchCheck:
    """Validate a ``POST /v1/events`` body whole; a pure function, so it can run in a worker process."""
    try:
        items = parse_json(body, max_depth=max_depth)
    except JsonRefused as exc:
        return BatchCheck(problem="malformed", detail=str(exc))
    if not isinstance(items, list):
        return BatchCheck(problem="invalid", detail="the body must be a JSON array of events")
    if len(items) > max_events:
        return BatchCheck(problem="too_many", detail=f"{len(items)} events in one batch; at most {max_events} "
                                                     "are allowed")
    try:
        events = EVENT_LIST.validate_python(items)
    except ValidationError as exc:
        return _refusal([
            {"index": e["loc"][0], "field": ".".join(map(str, e["loc"][1:])) or None, "reason": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ])
    if not events:
        return BatchCheck(problem="invalid", detail="the batch is empty")
    if len(body) > max_event_bytes and (large := [i for i, item in enumerate(items)
                                                  if len(orjson.dumps(item)) > max_event_bytes]):
        return _refusal([{"index": i, "field": None, "reason": f"the event is over {max_event_bytes:,} bytes"}
                         for i in large])
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


MAX_PROBLEMS_LISTED = 100


def _refusal(problems: list[dict]) -> BatchCheck:
    listed = problems[:MAX_PROBLEMS_LISTED]
    more = f" (the first {len(listed)} are listed)" if len(problems) > len(listed) else ""
    return BatchCheck(problem="invalid", detail={"message": f"{len(problems)} problem(s){more}; nothing was stored",
                                                 "errors": listed})


def event_to_row(event: NativeEvent, *, received_at: datetime, source: str, payload: str,
                 source_key: str | None = None) -> dict:
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
        "source_key": source_key,
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

    def add(self, item: dict, *, received_at_us: int, source: str, payload: str, source_key: str | None) -> None:
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
            get("timestamp"), get("schema_version"), received_at_us, source, payload, source_key,
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
            "source_key": pa.array(columns["source_key"], pa.string()),
        })
        return pa.Table.from_pydict({name: arrays[name] for name in EVENTS.names}, schema=EVENTS)


def outside_lake_window(timestamps: pa.ChunkedArray | pa.Array) -> bool:
    """Whether any timestamp lies outside what the lake holds (see ``_within_lake_window``)."""
    if not len(timestamps):
        return False
    low, high = pc.min_max(timestamps).values()
    return low.as_py() < EARLIEST_TIMESTAMP or high.as_py() > datetime.now(UTC) + LATEST_AHEAD


_EMPTY: dict = {}
_COLUMNS = (
    "event_id", "learner_id", "verb", "object_type", "object_id", "course_id", "module_id",
    "result_score", "result_success", "result_completion", "result_duration_s", "result_response",
    "context_platform", "context_session_id", "context_registration",
    "timestamp", "schema_version", "received_at_us", "source", "payload", "source_key",
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
