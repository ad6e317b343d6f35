"""Liveness and what the service can see."""

from fastapi import APIRouter
from pydantic import BaseModel

from lake.readers import table_exists
from learnlake import __version__
from learnlake.errors import ModelNotFoundError
from serving.api.deps import PopularityDep, SettingsDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    events_table: bool
    popularity_champion: str | None


class Liveness(BaseModel):
    status: str


@router.get("/health/live")
async def live() -> Liveness:
    """The process answers: nothing is read (the floor that benchmarks compare against)."""
    return Liveness(status="ok")


@router.get("/health")
def health(settings: SettingsDep, popularity: PopularityDep) -> Health:
    """The service is up; says whether the lake and the champion model are there yet."""
    try:
        champion = popularity.get().version
    except ModelNotFoundError:
        champion = None
    return Health(
        status="ok",
        version=__version__,
        events_table=table_exists("bronze.events", settings),
        popularity_champion=champion,
    )
