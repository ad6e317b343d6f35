"""Native event ingestion: ``POST /v1/events``.

The whole batch is validated first; one bad event rejects it all (422 with the index, field
and reason of each problem), so a client never has to guess what was kept. A valid batch is
appended to the landing log and fsync'd before the answer; the committer moves it into
``bronze.events`` shortly after. Event ids already accepted are acknowledged again and
counted as duplicates, never stored twice.
"""

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError

from lake.events import EVENT_LIST, future_timestamps
from serving.api.deps import LandingDep, SettingsDep
from serving.api.request_body import read_body_limited

router = APIRouter(prefix="/v1", tags=["ingestion"])


class IngestAck(BaseModel):
    accepted: int  # events in the batch, all durable now
    stored: int  # of which new
    duplicates: int  # of which had been accepted before


class IngestStatus(BaseModel):
    writer_id: str
    landed_seq: int  # last batch in the landing log
    committed_seq: int  # last batch known to be in Delta
    backlog_batches: int


def _reject(problems: list[dict]) -> HTTPException:
    return HTTPException(422, {"message": f"{len(problems)} problem(s); nothing was stored", "errors": problems})


@router.post("/events", status_code=202)
async def ingest_events(request: Request, landing: LandingDep, settings: SettingsDep) -> IngestAck:
    """Accept a JSON array of native events, durably, or reject it whole with the reasons."""
    body = await read_body_limited(request, settings.ingest_max_body_bytes)
    try:
        events = EVENT_LIST.validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if errors[0]["type"] == "json_invalid":
            raise HTTPException(400, f"malformed JSON: {errors[0]['ctx']['error']}") from None
        if errors[0]["loc"] == ():
            raise HTTPException(422, "the body must be a JSON array of events") from None
        raise _reject([
            {"index": e["loc"][0], "field": ".".join(map(str, e["loc"][1:])) or None, "reason": e["msg"]}
            for e in errors
        ]) from None
    if not events:
        raise HTTPException(422, "the batch is empty")
    if len(events) > settings.ingest_max_events:
        raise HTTPException(413, f"{len(events)} events in one batch; at most {settings.ingest_max_events} are allowed")
    if future := future_timestamps(events):
        raise _reject([{"index": i, "field": "timestamp", "reason": "timestamp is in the future"} for i in future])
    ids = [event["event_id"].lower() for event in events]
    if len(set(ids)) != len(ids):
        first_seen: dict[str, int] = {}
        raise _reject([
            {"index": i, "field": "event_id", "reason": f"duplicate of the event at index {first_seen[event_id]}"}
            for i, event_id in enumerate(ids)
            if first_seen.setdefault(event_id, i) != i
        ])
    stored = await run_in_threadpool(landing.append, ids, body, source="api")
    return IngestAck(accepted=len(ids), stored=stored, duplicates=len(ids) - stored)


@router.get("/ingest/status")
def ingest_status(landing: LandingDep) -> IngestStatus:
    """How far this process's landing log has been committed to Delta."""
    landed, committed = landing.last_seq(), landing.committed_seq()
    return IngestStatus(writer_id=landing.writer_id, landed_seq=landed, committed_seq=committed,
                        backlog_batches=max(0, landed - committed))
