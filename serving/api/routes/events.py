"""Native event ingestion: ``POST /v1/events``.

The whole batch is validated first; one bad event rejects it all (422 with the index, field
and reason of each problem), so a client never has to guess what was kept. A valid batch is
appended to the landing log and fsync'd before the answer; the committer moves it into
``bronze.events`` shortly after. Event ids already accepted are acknowledged again and
counted as duplicates, never stored twice.
"""

import asyncio

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from lake.events import check_batch
from serving.api.deps import LandingDep, SettingsDep
from serving.api.request_body import read_body_limited
from serving.api.responses import documented

router = APIRouter(prefix="/v1", tags=["ingestion"], responses=documented(400, 413, 422))


class IngestAck(BaseModel):
    accepted: int  # events in the batch, all durable now
    stored: int  # of which new
    duplicates: int  # of which had been accepted before


class IngestStatus(BaseModel):
    writer_id: str
    landed_seq: int  # last batch in the landing log
    committed_seq: int  # last batch known to be in Delta
    backlog_batches: int


@router.post("/events", status_code=202)
async def ingest_events(request: Request, landing: LandingDep, settings: SettingsDep) -> IngestAck:
    """Accept a JSON array of native events, durably, or reject it whole with the reasons."""
    body = await read_body_limited(request, settings.ingest_max_body_bytes)
    pool = request.app.state.validators
    if pool is None:
        check = check_batch(body, settings.ingest_max_events)
    else:  # validation is CPU work: in worker processes it leaves this one free to serve
        check = await asyncio.get_running_loop().run_in_executor(pool, check_batch, body, settings.ingest_max_events)
    if check.ids is None:
        raise HTTPException(check.status, check.detail)
    stored = await run_in_threadpool(landing.append, check.ids, body, source="api")
    return IngestAck(accepted=len(check.ids), stored=stored, duplicates=len(check.ids) - stored)


@router.get("/ingest/status")
def ingest_status(landing: LandingDep) -> IngestStatus:
    """How far this process's landing log has been committed to Delta."""
    return IngestStatus(writer_id=landing.writer_id, landed_seq=landing.last_seq(),
                        committed_seq=landing.committed_seq(), backlog_batches=landing.backlog())
