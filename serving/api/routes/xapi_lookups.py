"""The xAPI Activities and Agents Resources: what the LRS knows of an activity, and of a person.

``GET /xapi/activities?activityId=`` answers the Activity with its definition merged from every
statement that defined it (a newer statement's properties win; language maps gain languages); an
activity never defined is answered with its id alone, as the specification asks.
``GET /xapi/agents?agent=`` answers a Person: the agent's identifier and the names statements gave
it. Reading needs ``xapi:read``.
"""

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter, ValidationError

from serving.api.deps import XapiDep
from serving.api.responses import documented
from serving.api.routing import add_route_per_method
from serving.api.xapi_clients import LrsClient
from serving.xapi.formats import IFI_KEYS
from serving.xapi.models import Agent, Iri

AGENT, IRI = TypeAdapter(Agent), TypeAdapter(Iri)

router = APIRouter(prefix="/xapi", tags=["xapi"], responses=documented(400, 401, 403))


def _only(request: Request, name: str) -> str:
    params = request.query_params
    if unknown := set(params) - {name}:
        raise HTTPException(400, f"unknown parameter(s) {sorted(unknown)}; this resource takes {name} only")
    if not params.get(name):
        raise HTTPException(400, f"the {name} parameter is required")
    return params[name]


async def activity(request: Request, _: LrsClient, resource: XapiDep) -> dict:
    """The Activity ``activityId``, with its definition as the LRS knows it."""
    activity_id = _only(request, "activityId")
    try:
        IRI.validate_python(activity_id)
    except ValidationError:
        raise HTTPException(400, f"activityId {activity_id!r} is not an IRI") from None
    definition = await run_in_threadpool(resource.store.activity, activity_id)
    found = {"objectType": "Activity", "id": activity_id}
    return {**found, "definition": definition} if definition else found


add_route_per_method(router, "/activities", activity, ["GET", "HEAD"])


async def person(request: Request, _: LrsClient, resource: XapiDep) -> dict:
    """The Person behind ``agent`` (an Agent as JSON): every property an array, names from its statements."""
    raw = _only(request, "agent")
    try:
        agent = AGENT.validate_json(raw)
    except ValidationError as exc:
        raise HTTPException(400, f"agent must be an Agent as JSON: {exc.errors(include_url=False)[0]['msg']}") from None
    names = await run_in_threadpool(resource.store.names_of, agent.ifi_key())
    if agent.name and agent.name not in names:
        names.append(agent.name)
    identifier = agent.model_dump(by_alias=True, include=set(IFI_KEYS), exclude_none=True)
    return {"objectType": "Person", "name": names, **{key: [value] for key, value in identifier.items()}}


add_route_per_method(router, "/agents", person, ["GET", "HEAD"])
