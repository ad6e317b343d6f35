"""Typed dependencies shared by the routes.

The getters are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a hop
that costs more than reading ``app.state``.
"""

from typing import Annotated

from fastapi import Depends, Request

from lake.landing import LandingLog
from learnlake.settings import Settings
from serving.champions import ChampionCache
from serving.core.outbox import Outbox
from serving.realtime.hub import Hub


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_popularity_model(request: Request) -> ChampionCache:
    return request.app.state.popularity


async def get_landing(request: Request) -> LandingLog:
    return request.app.state.landing


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
PopularityDep = Annotated[ChampionCache, Depends(get_popularity_model)]
LandingDep = Annotated[LandingLog, Depends(get_landing)]


async def get_outbox(request: Request) -> Outbox:
    return request.app.state.outbox


OutboxDep = Annotated[Outbox, Depends(get_outbox)]


async def get_hub(request: Request) -> Hub:
    return request.app.state.hub


HubDep = Annotated[Hub, Depends(get_hub)]
