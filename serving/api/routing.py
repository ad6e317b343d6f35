"""Routes that answer several methods with one function."""

from collections.abc import Callable

from fastapi import APIRouter


def add_route_per_method(router: APIRouter, path: str, endpoint: Callable, methods: list[str], **options) -> None:
    """The endpoint at ``path`` for each method, as a route of its own: FastAPI gives every method of one route the
    same OpenAPI operation id (which client generators refuse); one route per method gets each its own."""
    for method in methods:
        router.add_api_route(path, endpoint, methods=[method], **options)
