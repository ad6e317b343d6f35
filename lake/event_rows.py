"""Validated native events as ``bronze.events`` rows, and back: one row at a time (``event_to_row``), a
batch column by column (``EventColumns``, the committer's fast path), and a row's native JSON form."""

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from lake.events import EARLIEST_TIMESTAMP, LATEST_AHEAD, NativeEvent
from lake.schemas import EVENT_SCHEMA_VERSION, EVENTS


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
