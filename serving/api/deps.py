"""Typed dependencies: the one way routes reach what the app holds (``app.state``).

The getters take an ``HTTPConnection``, so HTTP and WebSocket routes declare the same ones. They
are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a hop that costs more
than reading ``app.state``.
"""

from concurrent.futures import Executor
from typing import Annotated

from fastapi import Depends
from starlette.datastructures import State
from starlette.requests import HTTPConnection

from lake.landing import LandingLog
from learnlake.settings import Settings
from serving.champions import ChampionCache
from serving.core.db import Database
from serving.core.outbox import Outbox
from serving.core.pseudonyms import Pseudonyms
from serving.core.source_keys import SourceKeyVerifier
from serving.learner_models import LearnerModels
from serving.realtime.hub import Hub
from serving.xapi.documents import DocumentStore
from serving.xapi.service import StatementResource


async def get_state(connection: HTTPConnection) -> State:
    """The whole of the app's state, for the few functions that answer both HTTP and WebSocket callers."""
    return connection.app.state


async def get_settings_dep(connection: HTTPConnection) -> Settings:
    return connection.app.state.settings


async def get_database(connection: HTTPConnection) -> Database:
    return connection.app.state.database


async def get_popularity_model(connection: HTTPConnection) -> ChampionCache:
    return connection.app.state.popularity


async def get_landing(connection: HTTPConnection) -> LandingLog:
    return connection.app.state.landing


async def get_outbox(connection: HTTPConnection) -> Outbox:
    return connection.app.state.outbox


async def get_pseudonyms(connection: HTTPConnection) -> Pseudonyms:
    return connection.app.state.pseudonyms


async def get_hub(connection: HTTPConnection) -> Hub:
    return connection.app.state.hub


async def get_learner_models(connection: HTTPConnection) -> LearnerModels:
    return connection.app.state.learner_models


async def get_source_keys(connection: HTTPConnection) -> SourceKeyVerifier:
    return connection.app.state.source_keys


async def get_xapi(connection: HTTPConnection) -> StatementResource:
    return connection.app.state.xapi


async def get_xapi_documents(connection: HTTPConnection) -> DocumentStore:
    return connection.app.state.xapi_documents


async def get_validators(connection: HTTPConnection) -> Executor | None:
    """The worker processes that validate event batches (None: validate in this process)."""
    return connection.app.state.validators


StateDep = Annotated[State, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
PopularityDep = Annotated[ChampionCache, Depends(get_popularity_model)]
LandingDep = Annotated[LandingLog, Depends(get_landing)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
PseudonymsDep = Annotated[Pseudonyms, Depends(get_pseudonyms)]
HubDep = Annotated[Hub, Depends(get_hub)]
LearnerModelsDep = Annotated[LearnerModels, Depends(get_learner_models)]
SourceKeysDep = Annotated[SourceKeyVerifier, Depends(get_source_keys)]
XapiDep = Annotated[StatementResource, Depends(get_xapi)]
XapiDocumentsDep = Annotated[DocumentStore, Depends(get_xapi_documents)]
ValidatorsDep = Annotated[Executor | None, Depends(get_validators)]
