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

from lake.event_claims import EventClaims
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


def _from_state(name: str, what: str):
    """An async getter of ``app.state.<name>`` (one each, so FastAPI caches each per request)."""

    async def get(connection: HTTPConnection):
        return getattr(connection.app.state, name)

    get.__name__ = f"get_{name}"
    get.__doc__ = what
    return get


get_settings_dep = _from_state("settings", "The app's settings.")
get_database = _from_state("database", "The core database.")
get_popularity_model = _from_state("popularity", "The popularity champion, hot-swapped.")
get_landing = _from_state("landing", "This process's landing log.")
get_event_claims = _from_state("event_claims", "Event ids claimed by any API replica (None: one process).")
get_outbox = _from_state("outbox", "Domain events, in the caller's transaction.")
get_pseudonyms = _from_state("pseudonyms", "User id -> learner id.")
get_hub = _from_state("hub", "The real-time hub.")
get_learner_models = _from_state("learner_models", "Mastery, recommendations and risk from the champions.")
get_source_keys = _from_state("source_keys", "The source keys' verifier.")
get_xapi = _from_state("xapi", "The LRS's Statement Resource.")
get_xapi_documents = _from_state("xapi_documents", "The LRS's document store.")
get_validators = _from_state("validators", "Worker processes validating event batches (None: this process).")


async def get_state(connection: HTTPConnection) -> State:
    """The whole of the app's state, for the few functions that answer both HTTP and WebSocket callers."""
    return connection.app.state


StateDep = Annotated[State, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
PopularityDep = Annotated[ChampionCache, Depends(get_popularity_model)]
LandingDep = Annotated[LandingLog, Depends(get_landing)]
EventClaimsDep = Annotated[EventClaims | None, Depends(get_event_claims)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
PseudonymsDep = Annotated[Pseudonyms, Depends(get_pseudonyms)]
HubDep = Annotated[Hub, Depends(get_hub)]
LearnerModelsDep = Annotated[LearnerModels, Depends(get_learner_models)]
SourceKeysDep = Annotated[SourceKeyVerifier, Depends(get_source_keys)]
XapiDep = Annotated[StatementResource, Depends(get_xapi)]
XapiDocumentsDep = Annotated[DocumentStore, Depends(get_xapi_documents)]
ValidatorsDep = Annotated[Executor | None, Depends(get_validators)]
