"""A ``DirectRoute`` answers plain requests without FastAPI's dependency solving, and every
other request exactly as FastAPI would (its validation errors, its documentation)."""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from serving.api.direct_route import DirectRoute, direct

solved_by_fastapi = []


async def caller(request: Request) -> str:
    solved_by_fastapi.append(request.url.path)
    name = request.headers.get("x-caller")
    if name is None:
        raise HTTPException(401, "who are you?")
    return name


class Greeting(BaseModel):
    text: str
    times: int


async def _plain(request: Request) -> dict | None:
    # The reader checks what the declared parameter checks (here ``ge=1``), or declines.
    times = request.query_params.get("times", "1")
    if not (times.isascii() and times.isdigit()) or int(times) < 1:
        return None
    name = request.headers.get("x-caller")
    if name is None:
        raise HTTPException(401, "who are you?")
    return {"who": request.path_params["who"], "caller_name": name, "times": int(times)}


router = APIRouter(route_class=DirectRoute)


@router.get("/greet/{who}")
@direct(_plain)
async def greet(who: str, caller_name: Annotated[str, Depends(caller)], times: int = Query(1, ge=1)) -> Greeting:
    if times > 3:
        raise HTTPException(400, "too many")
    return Greeting(text=f"{caller_name} greets {who}", times=times)


@router.get("/unmarked")
async def unmarked(caller_name: Annotated[str, Depends(caller)]) -> Greeting:
    return Greeting(text=caller_name, times=0)


app = FastAPI()
app.include_router(router)
client = TestClient(app)


def test_a_plain_request_takes_the_direct_path_and_gets_the_same_answer():
    solved_by_fastapi.clear()
    direct_answer = client.get("/greet/ada?times=2", headers={"x-caller": "bob"})
    assert solved_by_fastapi == []
    # "+2" is not plain to the reader: FastAPI solves it, and parses it to the same 2.
    fastapi_answer = client.get("/greet/ada?times=+2", headers={"x-caller": "bob"})
    assert solved_by_fastapi == ["/greet/ada"]
    assert direct_answer.status_code == fastapi_answer.status_code == 200
    assert direct_answer.json() == fastapi_answer.json() == {"text": "bob greets ada", "times": 2}
    assert direct_answer.headers["content-type"] == fastapi_answer.headers["content-type"] == "application/json"


def test_errors_are_fastapis_own_or_the_endpoints():
    assert client.get("/greet/ada?times=0", headers={"x-caller": "bob"}).json()["detail"][0]["type"] == "greater_than_equal"
    assert client.get("/greet/ada?times=many", headers={"x-caller": "bob"}).status_code == 422
    assert client.get("/greet/ada?times=2").json() == {"detail": "who are you?"}  # raised by the reader
    assert client.get("/greet/ada?times=4", headers={"x-caller": "bob"}).json() == {"detail": "too many"}


def test_unmarked_endpoints_and_the_documentation_are_fastapis():
    solved_by_fastapi.clear()
    assert client.get("/unmarked", headers={"x-caller": "bob"}).json() == {"text": "bob", "times": 0}
    assert solved_by_fastapi == ["/unmarked"]
    parameters = app.openapi()["paths"]["/greet/{who}"]["get"]["parameters"]
    assert {p["name"] for p in parameters} == {"who", "times"}


def test_overridden_dependencies_take_fastapis_path():
    app.dependency_overrides[caller] = lambda: "a stand-in"
    try:
        assert client.get("/greet/ada?times=2").json() == {"text": "a stand-in greets ada", "times": 2}
    finally:
        app.dependency_overrides.clear()
