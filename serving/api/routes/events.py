"""Native event ingestion: ``POST /v1/events``, with a source key.

The whole batch is validated first; one bad event rejects it all (422 with the index, field
and reason of each problem), so a client never has to guess what was kept. A valid batch is
appended to the landing log and fsync'd before the answer; the committer moves it into
``bronze.events`` shortly after, with the name of the key it came with. Event ids already
accepted are acknowledged again and counted as duplicates, never stored twice, also when another API
replica accepted them (``lake/event_claims.py``).
"""

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from lake.committer_health import ingestion_report
from lake.event_claims import EventClaims
from lake.events import check_batch
from lake.landing import LandingLog
from learnlake.logging import request_id
from serving.api.auth import (
    BEARER_SECURITY,
    Credentials,
    authorize_source,
    current_user,
    refuse_without,
    require_source_key,
)
from serving.api.deps import EventClaimsDep, LandingDep, SettingsDep, ValidatorsDep
from serving.api.request_body import read_body_limited
from serving.api.responses import documented
from serving.core.permissions import Permission
from serving.core.source_keys import KEY_PREFIX, Scope, Source
from serving.telemetry.metrics import INGEST_EVENTS, INGEST_REJECTED

router = APIRouter(prefix="/v1", tags=["ingestion"], responses=documented(401, 403, 429))

# The HTTP answer to each kind of refusal ``check_batch`` finds.
REFUSAL_STATUS = {"malformed": 400, "invalid": 422, "too_many": 413}

EventWriter = Annotated[Source, Depends(require_source_key(Scope.EVENTS_WRITE))]


class IngestAck(BaseModel):
    accepted: int  # events in the batch, all durable now
    stored: int  # of which new
    duplicates: int  # of which had been accepted before


class CommitterStatus(BaseModel):
    state: Literal["ok", "idle", "failing", "stalled", "not_running"]
    lag_s: float  # age of the oldest batch not yet in Delta (0 when none waits)
    last_attempt_at: float | None
    last_success_at: float | None
    last_commit_at: float | None
    consecutive_failures: int
    last_error: str | None
    last_error_at: float | None
    committed_events: int
    dead_letters: int


class IngestStatus(BaseModel):
    writer_id: str
    landed_seq: int  # last batch in the landing log
    committed_seq: int  # last batch known to be in Delta
    backlog_batches: int
    backlog_events: int  # events in those batches
    committer: CommitterStatus


@router.post("/events", status_code=202, responses=documented(400, 413, 422), openapi_extra=BEARER_SECURITY)
async def ingest_events(request: Request, source: EventWriter, landing: LandingDep, claims: EventClaimsDep,
                        settings: SettingsDep, pool: ValidatorsDep) -> IngestAck:
    """Accept a JSON array of native events, durably, or reject it whole with the reasons."""
    try:
        body = await read_body_limited(request, settings.max_body_bytes)
    except HTTPException:
        INGEST_REJECTED.labels("native", "too_large").inc()
        raise
    args = (body, settings.ingest_max_events, settings.ingest_max_event_bytes)
    if pool is None:
        check = check_batch(*args)
    else:  # validation is CPU work: in worker processes it leaves this one free to serve
        check = await asyncio.get_running_loop().run_in_executor(pool, check_batch, *args)
    if check.ids is None:
        INGEST_REJECTED.labels("native", check.problem).inc()
        raise HTTPException(REFUSAL_STATUS[check.problem], check.detail)
    stored = await run_in_threadpool(_land, landing, claims, check.ids, body, source.name, request_id.get())
    INGEST_EVENTS.labels("native", "stored").inc(stored)
    INGEST_EVENTS.labels("native", "duplicate").inc(len(check.ids) - stored)
    return IngestAck(accepted=len(check.ids), stored=stored, duplicates=len(check.ids) - stored)


def _land(landing: LandingLog, claims: EventClaims | None, ids: list[str], body: bytes, source_key: str,
          request_id: str | None) -> int:
    """Land a checked batch; with several API replicas, what another one has claimed is a replay here too."""
    elsewhere = claims.claimed(ids) if claims is not None else ()
    return landing.append(ids, body, source="api", source_key=source_key, request_id=request_id,
                          accepted_elsewhere=elsewhere)


async def ingestion_monitor(request: Request, credentials: Credentials) -> None:
    """A source's key (any scope: a client may watch its events arrive) or an admin's access token."""
    if credentials is not None and credentials.credentials.startswith(KEY_PREFIX):
        authorize_source(request, credentials.credentials, None)
        return
    refuse_without(await current_user(request, credentials), Permission.MONITOR_INGESTION)


ingestion_monitor.permission = Permission.MONITOR_INGESTION  # the role x endpoint test reads it


@router.get("/ingest/status", dependencies=[Depends(ingestion_monitor)])
def ingest_status(landing: LandingDep, settings: SettingsDep) -> IngestStatus:
    """How far this process's landing log has been committed to Delta, and the committer's health."""
    return IngestStatus(**ingestion_report(landing, stalled_after_s=settings.ingest_stalled_after_s))
