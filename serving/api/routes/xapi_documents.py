"""The xAPI document resources: ``/xapi/activities/state``, ``/xapi/activities/profile``, ``/xapi/agents/profile``.

Each takes its identifying parameters in the query (activity IRI, agent as JSON, registration UUID,
document id) and the document as the body, of any content type. GET with a document id answers the
document with its ``ETag`` and ``Last-Modified``; without one, the ids stored (``since`` a time).
DELETE without an id deletes every State of that activity, agent and registration. The rules of
storage and concurrency live in ``serving.xapi.documents``.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter, ValidationError

from learnlake.json_bounds import JsonRefused, parse_json
from learnlake.settings import Settings
from serving.api.deps import SettingsDep, XapiDocumentsDep
from serving.api.request_body import read_body_limited
from serving.api.responses import documented
from serving.api.routing import add_route_per_method
from serving.api.xapi_clients import DocumentCaller, document_caller, speaks_2_0
from serving.core.source_keys import Scope
from serving.xapi.documents import DocumentKind, DocumentSet, Preconditions, is_json
from serving.xapi.errors import XapiError
from serving.xapi.models import Actor, Iri, Timestamp

MAX_ID_CHARS = 2048  # activity IRIs and document ids: long enough for any real one, bounded for the database
MAX_AGENT_KEY_CHARS = 400  # an agent's identifier, as the database indexes it (XapiDocument.agent_key)
MAX_CONTENT_TYPE_CHARS = 255  # XapiDocument.content_type
ACTOR, IRI, TIMESTAMP = TypeAdapter(Actor), TypeAdapter(Iri), TypeAdapter(Timestamp)

router = APIRouter(prefix="/xapi", tags=["xapi"], responses=documented(400, 401, 403, 404, 409, 412, 413))


@dataclass(frozen=True)
class Resource:
    kind: DocumentKind
    path: str
    id_param: str
    activity: bool  # takes activityId
    agent: bool  # takes agent
    registration: bool  # takes registration
    caller: object  # its credentials dependency

    @property
    def params(self) -> set[str]:
        names = {self.id_param, "since"}
        names |= {"activityId"} if self.activity else set()
        names |= {"agent"} if self.agent else set()
        return names | ({"registration"} if self.registration else set())


STATE = Resource(DocumentKind.STATE, "/activities/state", "stateId", activity=True, agent=True, registration=True,
                 caller=document_caller(Scope.STATE_READ, Scope.STATE_WRITE))
ACTIVITY_PROFILE = Resource(DocumentKind.ACTIVITY_PROFILE, "/activities/profile", "profileId", activity=True,
                            agent=False, registration=False,
                            caller=document_caller(Scope.PROFILE_READ, Scope.PROFILE_WRITE, users_may_write=False))
AGENT_PROFILE = Resource(DocumentKind.AGENT_PROFILE, "/agents/profile", "profileId", activity=False, agent=True,
                         registration=False, caller=document_caller(Scope.PROFILE_READ, Scope.PROFILE_WRITE))


def _bounded(params, name: str, *, required: bool) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise HTTPException(400, f"the {name} parameter is required")
        return None
    if len(value) > MAX_ID_CHARS:
        raise HTTPException(400, f"{name} is longer than {MAX_ID_CHARS} characters")
    return value


def _document_set(resource: Resource, request: Request, caller: DocumentCaller) -> DocumentSet:
    params = request.query_params
    if unknown := set(params) - resource.params:
        raise HTTPException(400, f"unknown parameter(s) {sorted(unknown)}; {resource.path} takes {sorted(resource.params)}")
    activity_id = agent_key = registration = None
    if resource.activity:
        activity_id = _bounded(params, "activityId", required=True)
        try:
            IRI.validate_python(activity_id)
        except ValidationError:
            raise HTTPException(400, f"activityId {activity_id!r} is not an IRI") from None
    if resource.agent:
        raw = _bounded(params, "agent", required=True)
        try:
            agent_key = ACTOR.validate_json(raw).ifi_key()
        except ValidationError as exc:
            raise HTTPException(400, f"agent must be an Agent as JSON: {exc.errors(include_url=False)[0]['msg']}") from None
        if agent_key is None:
            raise HTTPException(400, "agent must be identified (mbox, mbox_sha1sum, openid or account)")
        if len(agent_key) > MAX_AGENT_KEY_CHARS:
            raise HTTPException(400, f"the agent's identifier is longer than {MAX_AGENT_KEY_CHARS} characters")
        if not caller.may_use_agent(agent_key):
            raise HTTPException(403, "with a user's token, only that user's own documents")
    if resource.registration and (registration := _bounded(params, "registration", required=False)) is not None:
        try:
            registration = str(uuid.UUID(registration))
        except ValueError:
            raise HTTPException(400, f"registration {registration!r} is not a UUID") from None
    return DocumentSet(resource.kind, activity_id, agent_key, registration)


def _since(request: Request) -> datetime | None:
    value = request.query_params.get("since")
    if value is None:
        return None
    try:
        TIMESTAMP.validate_python(value)
    except ValidationError:
        raise HTTPException(400, "since must be an ISO 8601 timestamp") from None
    since = datetime.fromisoformat(value.upper().replace(" ", "T"))
    return since if since.tzinfo else since.replace(tzinfo=UTC)


def _preconditions(resource: Resource, request: Request, caller: DocumentCaller) -> Preconditions:
    must = request.method == "PUT" and (resource.kind != DocumentKind.STATE or speaks_2_0(caller.version))
    return Preconditions(request.headers.get("if-match"), request.headers.get("if-none-match"), must)


async def _body(request: Request, settings: Settings) -> tuple[str, bytes]:
    content = await read_body_limited(request, settings.max_body_bytes)
    content_type = request.headers.get("content-type", "application/octet-stream")
    if len(content_type) > MAX_CONTENT_TYPE_CHARS:
        raise HTTPException(400, f"Content-Type is longer than {MAX_CONTENT_TYPE_CHARS} characters")
    if is_json(content_type):  # stored as sent, but it must be JSON within the API's bounds
        try:
            parse_json(content, max_depth=settings.max_json_depth)
        except JsonRefused as exc:
            raise HTTPException(400, f"the document is declared application/json: {exc}") from None
    return content_type, content


def _add_routes(resource: Resource) -> None:
    Caller = Annotated[DocumentCaller, Depends(resource.caller)]

    async def read(request: Request, caller: Caller, store: XapiDocumentsDep) -> Response:
        documents = _document_set(resource, request, caller)
        document_id = _bounded(request.query_params, resource.id_param, required=False)
        if document_id is None:
            ids = await run_in_threadpool(store.ids, documents, _since(request))
            return Response(_json_list(ids), media_type="application/json")
        _since(request)  # still checked, though it does not apply to one document
        document = await run_in_threadpool(store.get, documents, document_id)
        if document is None:
            raise HTTPException(404, f"no document {document_id!r} here")
        return Response(document.content, media_type=document.content_type,
                        headers={"ETag": f'"{document.etag}"',
                                 "Last-Modified": format_datetime(document.updated_at, usegmt=True)})

    async def write(request: Request, caller: Caller, store: XapiDocumentsDep, settings: SettingsDep) -> Response:
        documents = _document_set(resource, request, caller)
        document_id = _bounded(request.query_params, resource.id_param, required=True)
        _no_since(request)
        content_type, content = await _body(request, settings)
        save = store.put if request.method == "PUT" else store.merge
        try:
            etag = await run_in_threadpool(save, documents, document_id, content_type, content,
                                           _preconditions(resource, request, caller))
        except XapiError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return Response(status_code=204, headers={"ETag": f'"{etag}"'})

    async def remove(request: Request, caller: Caller, store: XapiDocumentsDep) -> Response:
        documents = _document_set(resource, request, caller)
        document_id = _bounded(request.query_params, resource.id_param, required=resource.kind != DocumentKind.STATE)
        _no_since(request)
        try:
            if document_id is None:
                await run_in_threadpool(store.delete_all, documents)
            else:
                await run_in_threadpool(store.delete, documents, document_id,
                                        _preconditions(resource, request, caller))
        except XapiError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return Response(status_code=204)

    name = resource.kind.value
    add_route_per_method(router, resource.path, read, ["GET", "HEAD"], name=f"read_{name}",
                         summary=f"One {name} document by {resource.id_param}, or the ids stored (since a time)")
    add_route_per_method(router, resource.path, write, ["PUT", "POST"], name=f"write_{name}", status_code=204,
                         summary=f"Store a {name} document (PUT replaces; POST merges JSON objects)")
    router.add_api_route(resource.path, remove, methods=["DELETE"], name=f"delete_{name}", status_code=204,
                         summary=f"Delete a {name} document" + (" (or all of them)" if name == "state" else ""))


def _no_since(request: Request) -> None:
    if "since" in request.query_params:
        raise HTTPException(400, "since applies to GET only")


def _json_list(ids: list[str]) -> bytes:
    return orjson.dumps(ids)


for _resource in (STATE, ACTIVITY_PROFILE, AGENT_PROFILE):
    _add_routes(_resource)
