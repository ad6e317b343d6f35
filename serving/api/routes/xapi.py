"""The xAPI Statement Resource (xAPI 1.0.3 and 2.0.0; the client's version header decides the rules).

Requests need HTTP Basic credentials (a source key: ``xapi:write`` to store, ``xapi:read`` to
query) and a supported version header (``serving.api.xapi_clients``); ``/xapi/about`` needs neither.
An invalid statement is a 400 (not FastAPI's 422) and nothing of its batch is stored; a known id
with other content is a 409. Version and consistency headers are added by
``serving.api.middleware.XapiVersionHeader``, to refusals too.
"""

import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter, ValidationError

from lake.statement_store import Query
from learnlake.settings import Settings
from serving.api.deps import SettingsDep, XapiDep
from serving.api.request_body import parse_json_or_400, read_body_limited
from serving.api.responses import documented
from serving.api.routing import add_route_per_method
from serving.api.xapi_clients import LRS_VERSIONS, LrsClient, xapi_version
from serving.core.source_keys import Source
from serving.xapi.errors import XapiError
from serving.xapi.formats import accepted_languages, canonical_format, ids_format
from serving.xapi.models import Actor, Timestamp
from serving.xapi.multipart import attachment_hashes, build_multipart, parse_multipart
from serving.xapi.service import StatementResource

QUERY_PARAMS = {"agent", "verb", "activity", "registration", "related_activities", "related_agents", "since",
                "until", "limit", "format", "attachments", "ascending", "cursor"}
MAX_LIMIT = 1000
MAX_CURSOR = 2**63 - 1  # a stored statement's sequence number: SQLite and PostgreSQL integers
ACTOR = TypeAdapter(Actor)
TIMESTAMP = TypeAdapter(Timestamp)

router = APIRouter(prefix="/xapi", tags=["xapi"], responses=documented(400, 401, 404, 409, 412, 413))


async def _statements_body(request: Request, settings: Settings) -> tuple[object, dict[str, tuple[str, bytes]]]:
    """The statement JSON and the attachment contents of a request (application/json or multipart/mixed),
    within the API's bounds on body size and JSON depth."""
    header = request.headers.get("content-type", "application/json")
    content_type = header.split(";")[0].strip().lower()
    body = await read_body_limited(request, settings.max_body_bytes)
    if content_type == "multipart/mixed":
        try:
            statements, attachments = parse_multipart(header, body)
        except XapiError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return parse_json_or_400(statements, settings), attachments
    if content_type != "application/json":
        raise HTTPException(400, f"content type {content_type!r} is not supported; send application/json "
                                 "or multipart/mixed")
    return parse_json_or_400(body, settings), {}


async def _save(request: Request, resource: StatementResource, source: Source, raws: list, attachments: dict,
                statement_id: str | None = None) -> list[str]:
    try:
        return await run_in_threadpool(resource.save, raws, source=source.name, statement_id=statement_id,
                                       attachments=attachments, version=xapi_version(request))
    except XapiError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def about() -> dict:
    """The xAPI versions this LRS speaks (no credentials needed)."""
    return {"version": list(LRS_VERSIONS), "extensions": {}}


add_route_per_method(router, "/about", about, ["GET", "HEAD"])


@router.post("/statements")
async def post_statements(request: Request, source: LrsClient, settings: SettingsDep,
                          resource: XapiDep) -> list[str]:
    """Store one statement or an array of them; returns their ids in order."""
    body, attachments = await _statements_body(request, settings)
    raws = body if isinstance(body, list) else [body]
    if not raws:
        raise HTTPException(400, "no statements")
    return await _save(request, resource, source, raws, attachments)


@router.put("/statements", status_code=204)
async def put_statement(request: Request, source: LrsClient, settings: SettingsDep, resource: XapiDep,
                        statementId: str | None = None) -> Response:
    """Store one statement under the id given in the query."""
    if not statementId:
        raise HTTPException(400, "PUT needs the statementId parameter")
    _uuid_or_400(statementId, "statementId")
    body, attachments = await _statements_body(request, settings)
    if isinstance(body, list):
        raise HTTPException(400, "PUT takes a single statement")
    await _save(request, resource, source, [body], attachments, statement_id=statementId.lower())
    return Response(status_code=204)


def _uuid_or_400(value: str, name: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise HTTPException(400, f"{name} {value!r} is not a UUID") from None


def _bool(params, name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise HTTPException(400, f"{name} must be true or false")
    return value == "true"


def get_statements(request: Request, response: Response, _: LrsClient, resource: XapiDep):
    """One statement by statementId / voidedStatementId, or a filtered page of statements."""
    params = request.query_params
    single = [p for p in ("statementId", "voidedStatementId") if p in params]
    if single:
        others = set(params) - {"statementId", "voidedStatementId", "format", "attachments"}
        if len(single) > 1 or others:
            raise HTTPException(400, f"{single[0]} cannot be combined with {sorted(others) or single}")
        statement_id = params[single[0]].lower()
        _uuid_or_400(statement_id, single[0])
        statement = resource.store.get(statement_id, voided=single[0] == "voidedStatementId")
        if statement is None:
            raise HTTPException(404, f"no statement {statement_id}" + (" (voided?)" if single[0] == "statementId" else ""))
        response.headers["Last-Modified"] = http_date(statement["stored"])
        return _answer(_formatted([statement], request)[0], [statement], request, response, resource)
    unknown = set(params) - QUERY_PARAMS
    if unknown:
        raise HTTPException(400, f"unknown parameter(s): {sorted(unknown)}")
    _bool(params, "attachments")  # checked here, used by _answer
    agent_key = None
    if "agent" in params:
        try:
            agent_key = ACTOR.validate_json(params["agent"]).ifi_key()
        except ValidationError as exc:
            raise HTTPException(400, f"agent: {exc.errors(include_url=False)[0]['msg']}") from None
    for name in ("since", "until"):
        if name in params:
            try:
                TIMESTAMP.validate_python(params[name])
            except ValidationError:
                raise HTTPException(400, f"{name} must be an ISO 8601 timestamp") from None
    if "registration" in params:
        _uuid_or_400(params["registration"], "registration")
    try:
        limit = int(params.get("limit", "0"))
        cursor = int(params["cursor"]) if "cursor" in params else None
    except ValueError:
        raise HTTPException(400, "limit and cursor must be integers") from None
    if limit < 0:
        raise HTTPException(400, "limit must not be negative")
    if cursor is not None and not 0 <= cursor <= MAX_CURSOR:
        raise HTTPException(400, f"cursor must be between 0 and {MAX_CURSOR}: use the 'more' link as given")
    query = Query(
        agent=agent_key, verb=params.get("verb"), activity=params.get("activity"),
        registration=params.get("registration", "").lower() or None,
        related_activities=_bool(params, "related_activities"), related_agents=_bool(params, "related_agents"),
        since=_utc(params.get("since")), until=_utc(params.get("until")), ascending=_bool(params, "ascending"),
        limit=min(limit or MAX_LIMIT, MAX_LIMIT), after_seq=cursor,
    )
    statements, next_seq = resource.store.query(query)
    if statements:
        response.headers["Last-Modified"] = http_date(max(s["stored"] for s in statements))
    more = ""
    if next_seq is not None:
        kept = {k: v for k, v in params.items() if k != "cursor"}
        more = f"/xapi/statements?{urlencode({**kept, 'cursor': next_seq})}"
    return _answer({"statements": _formatted(statements, request), "more": more}, statements, request, response,
                   resource)


add_route_per_method(router, "/statements", get_statements, ["GET", "HEAD"])


def _answer(content: dict, statements: list[dict], request: Request, response: Response,
            resource: StatementResource):
    """JSON, or with attachments=true a multipart/mixed answer carrying the attachments' contents."""
    if not _bool(request.query_params, "attachments"):
        return content
    stored = resource.store.attachments(attachment_hashes(statements))
    body, content_type = build_multipart(orjson.dumps(content), stored)
    return Response(body, media_type=content_type, headers=dict(response.headers))


def _formatted(statements: list[dict], request: Request) -> list[dict]:
    fmt = request.query_params.get("format", "exact")
    if fmt not in ("exact", "ids", "canonical"):
        raise HTTPException(400, "format must be exact, ids or canonical")
    if fmt == "ids":
        return [ids_format(s) for s in statements]
    if fmt == "canonical":
        languages = accepted_languages(request.headers.get("accept-language"))
        return [canonical_format(s, languages) for s in statements]
    return statements


def _utc(value: str | None) -> str | None:
    """A client timestamp in the stored form (UTC, milliseconds, Z) so string order is time order."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.upper().replace(" ", "T"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # within hours of year 1 or 9999: in UTC it falls off the calendar, past every statement
        parsed = datetime.min.replace(tzinfo=UTC) if parsed.year == 1 else datetime.max.replace(tzinfo=UTC)
    return parsed.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def http_date(stored: str) -> str:
    """A stored time (ISO 8601, UTC) as HTTP's Last-Modified wants it."""
    return format_datetime(datetime.fromisoformat(stored), usegmt=True)
