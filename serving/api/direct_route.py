"""A direct path past FastAPI's dependency solving, for the plainly well-formed requests of a hot route.

FastAPI solves a route's parameters and dependencies anew on every request. On the
recommendations route that was 45 % of a request's server time (cProfile over 5,000 requests),
more than finding the learner's items. An endpoint marked with ``direct(read)`` keeps its
declared parameters, so FastAPI still documents them and still answers every request that
``read`` declines. ``read(request)`` returns the endpoint's keyword arguments, authentication
included (it calls the same dependency the route declares), or None when the request is not
plainly well formed. A reader checks whatever the declared parameters check, or declines: then
the direct path answers as FastAPI would, only sooner (the recommendations route's test compares
the two answers, and FastAPI's errors for what its reader declines).

Routers whose routes may be marked use ``DirectRoute`` as their ``route_class``; unmarked
endpoints get FastAPI's handler unchanged. One thing the direct path does not do: fill in
FastAPI's ``get_telemetry_data()`` (the request and solved values, for an operator's own log
processors); the OpenTelemetry middleware's spans are the same.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

ReadArguments = Callable[[Request], Awaitable[dict[str, Any] | None]]


def direct(read: ReadArguments):
    """Mark an ``async`` endpoint returning a pydantic model as readable by ``read``."""
    def mark(endpoint):
        endpoint.read_arguments = read
        return endpoint
    return mark


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        standard = super().get_route_handler()
        read: ReadArguments | None = getattr(self.endpoint, "read_arguments", None)
        if read is None:
            return standard
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            # Overridden dependencies (tests, local tools) are FastAPI's to apply: the reader knows none.
            arguments = None if request.app.dependency_overrides else await read(request)
            if arguments is None:
                return await standard(request)
            answer: BaseModel = await endpoint(**arguments)
            return Response(answer.model_dump_json(by_alias=True), media_type="application/json")

        return handler
