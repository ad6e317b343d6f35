"""No request can match routes of two routers, so the order ``create_app`` includes them in
(the busiest first, for speed) cannot change which route answers."""

import re

from serving.main import create_app


def _routes(routes, router_index=None):
    for index, route in enumerate(routes):
        if hasattr(route, "original_router"):  # a router included by create_app
            yield from _routes(route.original_router.routes, index if router_index is None else router_index)
        elif getattr(route, "methods", None) and hasattr(route, "path_regex"):
            yield router_index, route


def test_no_path_matches_routes_of_two_routers(learnlake_home):
    routes = list(_routes(create_app(learnlake_home).router.routes))
    assert len(routes) > 40
    clashes = []
    for router, route in routes:
        # The path with every parameter filled in, as a client could send it.
        sample = re.sub(r"\{[^}]+\}", "x1", route.path)
        clashes += [(route.path, other.path) for other_router, other in routes
                    if other_router != router and other.methods & route.methods and other.path_regex.match(sample)]
    assert clashes == []
