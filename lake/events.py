"""The native event format clients send and its validation (its rows in ``bronze.events``: ``lake.event_rows``).

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
not know are kept in the stored raw payload, so newer clients keep working.

What the lake can hold is checked here, before a batch is acknowledged, in one pass of
pydantic-core over the raw bytes: the JSON is strict (no NaN or Infinity, no lone surrogates,
no number a double cannot hold), a timestamp is an ISO 8601 string from 1970 on (a year-1
date or a Unix number once stalled the committer), a learner id is a pseudonym, not an e-mail
address, and the fields a newer client adds are JSON of at most ``EXTENSION_DEPTH`` levels with
bounded strings and lists, so no native event nests deeper than ``MAX_EVENT_DEPTH`` however it is
built. One event, as stored, is at most ``DEFAULT_MAX_EVENT_BYTES``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from operator import itemgetter, methodcaller
from typing import Annotated, Literal, NotRequired

import numpy as np
import orjson
from pydantic import AwareDatetime, ConfigDict, Field, Strict, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from lake.schemas import VERBS

# A client clock may run a little fast; anything further ahead is a bug on its side.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# What the lake holds at all: no event before the Unix epoch, none more than a day ahead of the
# clock that commits it (the door's own limit, MAX_CLOCK_SKEW, is tighter).
EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=1)
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DEFAULT_MAX_EVENT_BYTES = 64 * 1024  # one event as stored (its payload), with the fields a client added

Id = Annotated[str, Field(min_length=1, max_length=256)]
# An ISO 8601 string with a time zone (Strict: a JSON number is refused, not read as epoch seconds).
Timestamp = Annotated[AwareDatetime, Strict(), Field(ge=EARLIEST_TIMESTAMP)]
# A learner id is the core API's pseudonym; an e-mail address there would put a person in the lake.
LearnerId = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^@]+$")]

# What a newer client may add: JSON values, EXTENSION_DEPTH levels at most, within bounds.
ExtensionLeaf = Annotated[str, Field(max_length=10_000)] | Annotated[int, Field(ge=-(2**63), lt=2**64)] | \
    float | bool | None
ExtensionKey = Annotated[str, Field(max_length=256)]
ExtensionShallow = ExtensionLeaf | Annotated[list[ExtensionLeaf], Field(max_length=100)] | \
    Annotated[dict[ExtensionKey, ExtensionLeaf], Field(max_length=100)]
Extension = ExtensionShallow | Annotated[list[ExtensionShallow], Field(max_length=100)] | \
    Annotated[dict[ExtensionKey, ExtensionShallow], Field(max_length=100)]
EXTENSION_DEPTH = 2  # levels of lists and objects, as JSON depth counts them: {"a": [1]} is 2
# The batch, the event and an extension (or its object and a shallow one): no native event body nests deeper.
MAX_EVENT_DEPTH = 2 + EXTENSION_DEPTH

# TypedDicts rather than models: validation is on the hot path of ingestion, and
# pydantic-core validates these straight from JSON bytes several times faster.
# Caching only keys: values (ids, timestamps) rarely repeat, and missing the cache costs more than it saves.
# No NaN or Infinity anywhere: neither Parquet statistics nor a later JSON reader can hold them.
EVENT_CONFIG = ConfigDict(cache_strings="keys", allow_inf_nan=False)


def _event_types(extension: object | None, shallow: object | None) -> tuple[type, type, type, type]:
    """The TypedDicts of a native event, its object, result and context. With ``extension`` (and
    ``shallow`` inside the object, result and context) the fields a newer client adds are validated
    by those types and kept; with None they are skipped, which pydantic-core does faster."""
    top = {"extra_items": extension} if extension is not None else {}
    inner = {"extra_items": shallow} if shallow is not None else {}

    @with_config(EVENT_CONFIG)
    class EventObject(TypedDict, **inner):
        type: Id
        id: Id
        course_id: NotRequired[Id | None]
        module_id: NotRequired[Id | None]

    @with_config(EVENT_CONFIG)
    class EventResult(TypedDict, total=False, **inner):
        score: Annotated[float, Field(ge=0, le=1)] | None
        success: bool | None
        completion: bool | None
        duration_s: Annotated[float, Field(ge=0)] | None
        response: Annotated[str, Field(max_length=10_000)] | None

    @with_config(EVENT_CONFIG)
    class EventContext(TypedDict, total=False, **inner):
        platform: Id | None
        session_id: Id | None
        registration: Id | None

    @with_config(EVENT_CONFIG)
    class NativeEvent(TypedDict, **top):
        """One learner action as a client reports it (fields it does not know are kept in the payload)."""

        event_id: Annotated[str, Field(pattern=UUID_PATTERN)]
        learner_id: LearnerId
        verb: Literal[VERBS]  # type: ignore[valid-type]
        object: EventObject
        result: NotRequired[EventResult]
        context: NotRequired[EventContext]
        timestamp: Timestamp
        schema_version: NotRequired[Literal[1]]

    return NativeEvent, EventObject, EventResult, EventContext


# The rules in full, added fields included; and the same rules for the known fields alone.
NativeEvent, EventObject, EventResult, EventContext = _event_types(Extension, ExtensionShallow)
EVENT_LIST = TypeAdapter(list[NativeEvent])
ONE_EVENT = TypeAdapter(NativeEvent)
KNOWN_FIELDS_LIST = TypeAdapter(list[_event_types(None, None)[0]])
# The fields each part of an event declares ("." is the event itself); any other is an extension.
_KNOWN_FIELDS = {".": set(NativeEvent.__annotations__), "object": set(EventObject.__annotations__),
                 "result": set(EventResult.__annotations__), "context": set(EventContext.__annotations__)}
# The largest event of known fields alone, as stored: 10,000 characters of response and nine 256-character
# ids, four bytes a character, with its keys (tests/lake/test_events.py builds it).
KNOWN_FIELDS_MAX_BYTES = 56 * 1024
_OBJECT, _RESULT, _CONTEXT = itemgetter("object"), methodcaller("get", "result", {}), methodcaller("get", "context", {})
_EVENT_ID, _TIMESTAMP = itemgetter("event_id"), itemgetter("timestamp")
_COLON, _QUOTE, _SPACE = ord(":"), ord('"'), ord(" ")
_SPACED_COLONS = (b" :", b"\t:", b"\n:", b"\r:")
_SMALL_BODY = 8 * 1024


def _only_known_fields(body: bytes, events: list) -> bool:
    """Whether ``body`` holds no key but those validated into ``events`` (read with unknown fields
    skipped), so nothing in it escaped validation. Proved without a second parse: every key is
    followed by a colon, so when no whitespace comes before any colon, each key shows as ``":``
    (a string holding ``":`` only adds to the count); as many of those as known keys means no other."""
    shown = _keys_shown(body)
    known = sum(map(len, chain(events, map(_OBJECT, events), map(_RESULT, events), map(_CONTEXT, events))))
    return shown is not None and shown <= known


def _keys_shown(body: bytes) -> int | None:
    """How many times ``":`` occurs in ``body``, or None when whitespace comes before some colon."""
    if len(body) < _SMALL_BODY:  # searching bytes is quicker than setting up arrays, until it is not
        return None if any(spaced in body for spaced in _SPACED_COLONS) else body.count(b'":')
    raw = np.frombuffer(body, dtype=np.uint8)
    before = raw[np.flatnonzero(raw[1:] == _COLON)]
    if (before <= _SPACE).any():  # JSON's whitespace (space, tab, CR, LF); no other byte that low is valid there
        return None
    return int(np.count_nonzero(before == _QUOTE))


def future_timestamps(events: list[NativeEvent], now: datetime | None = None,
                      skew: timedelta = MAX_CLOCK_SKEW) -> list[int]:
    """Indexes of events whose timestamp is further in the future than clock skew explains."""
    limit = (now or datetime.now(UTC)) + skew
    if not events or max(map(_TIMESTAMP, events)) <= limit:  # the usual answer, found in C
        return []
    return [i for i, event in enumerate(events) if event["timestamp"] > limit]


def validate_one(item: object) -> NativeEvent | str:
    """One landed item as the lake takes it (with the door's rules, read as JSON), or why it cannot be."""
    try:
        event = ONE_EVENT.validate_json(orjson.dumps(item))
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
    if future_timestamps([event], skew=LATEST_AHEAD):
        return "timestamp: more than a day in the future"
    return event


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


def check_batch(body: bytes, max_events: int, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> BatchCheck:
    """Validate a ``POST /v1/events`` body whole; a pure function, so it can run in a worker process.

    Most batches carry only the fields this version knows: they are read once, with unknown fields
    skipped, and ``_only_known_fields`` proves there were none. A batch with added fields (or one that
    fails) is read again with the rules for added fields, and its events' sizes are measured.
    """
    try:
        events = KNOWN_FIELDS_LIST.validate_json(body)
        extended = not _only_known_fields(body, events)
        if extended:
            events = EVENT_LIST.validate_json(body)
    except ValidationError:
        try:
            events = EVENT_LIST.validate_json(body)  # the full rules name every problem, added fields' too
            extended = True
        except ValidationError as exc:
            return _refusal_of(exc)
    if not events:
        return BatchCheck(problem="invalid", detail="the batch is empty")
    if len(events) > max_events:
        return BatchCheck(problem="too_many", detail=f"{len(events)} events in one batch; at most {max_events} "
                                                     "are allowed")
    if future := future_timestamps(events):
        return _refusal([{"index": i, "field": "timestamp", "reason": "timestamp is in the future"} for i in future])
    # Known fields alone never make an event that large; added fields may, once the body could hold one.
    if (extended or max_event_bytes < KNOWN_FIELDS_MAX_BYTES) and len(body) > max_event_bytes and (
            large := [i for i, event in enumerate(events) if len(orjson.dumps(event)) > max_event_bytes]):
        return _refusal([{"index": i, "field": None, "reason": f"the event is over {max_event_bytes:,} bytes"}
                         for i in large])
    ids = list(map(str.lower, map(_EVENT_ID, events)))
    if len(set(ids)) != len(ids):
        first_seen: dict[str, int] = {}
        return _refusal([
            {"index": i, "field": "event_id", "reason": f"duplicate of the event at index {first_seen[event_id]}"}
            for i, event_id in enumerate(ids)
            if first_seen.setdefault(event_id, i) != i
        ])
    return BatchCheck(ids=ids)


def _refusal_of(exc: ValidationError) -> BatchCheck:
    errors = exc.errors(include_url=False, include_input=False)
    if errors[0]["type"] == "json_invalid":
        return BatchCheck(problem="malformed", detail=f"malformed JSON: {errors[0]['ctx']['error']}")
    if errors[0]["loc"] == ():
        return BatchCheck(problem="invalid", detail="the body must be a JSON array of events")
    return _refusal(_problems(errors))


MAX_PROBLEMS_LISTED = 100
# pydantic's words where the rule behind a constraint is not obvious from them.
REASONS = {
    ("learner_id", "string_pattern_mismatch"):
        "learner_id must be the pseudonymous id from the core API, not an e-mail address",
    ("timestamp", "datetime_type"): "timestamp must be an ISO 8601 string with a time zone, e.g. 2026-09-07T10:15:00Z",
    ("timestamp", "greater_than_equal"): "timestamp is before 1970-01-01",
}


EXTENSION_RULE = (f"a field this version does not know may hold strings of up to 10,000 characters, numbers, "
                  f"booleans, null, and lists and objects of them {EXTENSION_DEPTH} levels deep at most")


def _problem(error: dict) -> dict:
    """One problem as the client reads it. An extension field that breaks its rule is named once, with
    the rule, not once per kind of JSON value pydantic tried."""
    index, *path = error["loc"]
    known = _KNOWN_FIELDS.get(path[0]) if len(path) > 1 else None
    if path and path[0] not in _KNOWN_FIELDS["."]:
        return {"index": index, "field": str(path[0]), "reason": EXTENSION_RULE}
    if known is not None and path[1] not in known:
        return {"index": index, "field": f"{path[0]}.{path[1]}", "reason": EXTENSION_RULE}
    field = ".".join(map(str, path)) or None
    return {"index": index, "field": field, "reason": REASONS.get((field, error["type"]), error["msg"])}


def _problems(errors: list[dict]) -> list[dict]:
    """The distinct problems of pydantic's errors, in order."""
    found: dict[tuple, dict] = {}
    for error in errors:
        problem = _problem(error)
        found.setdefault(tuple(problem.values()), problem)
    return list(found.values())


def _refusal(problems: list[dict]) -> BatchCheck:
    listed = problems[:MAX_PROBLEMS_LISTED]
    more = f" (the first {len(listed)} are listed)" if len(problems) > len(listed) else ""
    return BatchCheck(problem="invalid", detail={"message": f"{len(problems)} problem(s){more}; nothing was stored",
                                                 "errors": listed})
