"""Builds the FastAPI app: ``uvicorn serving.main:app`` or ``learnlake serve``."""

import asyncio
import logging
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from lake.committer import CommitterProcess
from lake.event_claims import EventClaims
from lake.events import check_batch
from lake.landing import LandingLog, strip_requested
from lake.statement_store import StatementStore
from learnlake import __version__
from learnlake.child_processes import exit_with_parent
from learnlake.errors import ModelNotFoundError, TableNotFoundError
from learnlake.logging import configure_logging
from learnlake.settings import Settings, get_settings
from models.chat import ChatEndpoint
from models.names import POPULARITY as POPULARITY_MODEL
from models.practice.written_by_model import QuestionWriter
from serving.api.accounts import AccountReader
from serving.api.middleware import BoundedJsonBodies, RefuseNulInUrl, SecurityHeaders, XapiVersionHeader
from serving.api.responses import public_problems
from serving.api.routes import (
    analytics,
    announcements,
    answers,
    auth,
    courses,
    docs,
    enrollments,
    events,
    health,
    learner_activity,
    learner_models,
    notifications,
    practice,
    privacy,
    realtime,
    recommendations,
    search,
    sources,
    tutor,
    tutor_report,
    users,
    xapi,
    xapi_documents,
    xapi_lookups,
)
from serving.api.xapi_alternate_syntax import XapiAlternateSyntax
from serving.champions import ChampionCache, settle_heap
from serving.core.db import Database
from serving.core.migrate import ensure_current
from serving.core.outbox import Outbox
from serving.core.pseudonyms import Pseudonyms
from serving.core.rate_limits import RateLimits
from serving.core.security import AccessTokenVerifier
from serving.core.source_keys import SourceKeyVerifier
from serving.grading import AnswerGrader
from serving.learner_models import LearnerModels
from serving.notifications.at_risk import score_publication
from serving.notifications.daily import run_daily
from serving.practice import PracticeBank
from serving.realtime.hub import Hub, LocalBus, RedisBus
from serving.search import ContentSearchService
from serving.telemetry import http as telemetry_http
from serving.telemetry.http import RequestTelemetry
from serving.telemetry.state import ServingState
from serving.telemetry.tracing import flush as flush_traces
from serving.telemetry.tracing import trace_app
from serving.tutor import Tutor
from serving.tutor_ratings import RatedAnswersCache
from serving.xapi.documents import DocumentStore
from serving.xapi.service import StatementResource

# Routes that read their own bodies, within the same bounds (native events validate in a worker
# process; xAPI also takes multipart bodies).
SELF_READING_ROUTES = ("/v1/events", "/xapi/")


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app bound to ``settings`` (the process settings by default)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(ensure_current, settings.database_url)
        if _has_model_registry(settings):  # load the champions and the embedding model now, not in a request
            await run_in_threadpool(app.state.learner_models.warm_up)
            await run_in_threadpool(app.state.tutor.warm_up)
            await run_in_threadpool(app.state.content_search.current)  # the first search does not build it
            settle_heap()
        app.state.landing = LandingLog(settings.landing_dir / settings.writer_id, settings.writer_id)
        app.state.event_claims = EventClaims.for_database(settings.database_url, settings.writer_id)
        app.state.xapi = StatementResource(
            store=StatementStore(settings.lrs_database_url),
            landing=app.state.landing,
            pseudonym_key=settings.pseudonym_key.get_secret_value(),
            home_page=settings.api_url,
        )
        committer = CommitterProcess(settings) if settings.run_committer else None
        app.state.validators = None
        if settings.ingest_validation_workers:
            app.state.validators = ProcessPoolExecutor(
                settings.ingest_validation_workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=exit_with_parent)  # an API killed by SIGKILL leaves no worker behind
            # Workers start on first use; start (and import) them now, not in a client's request.
            warm_up = [app.state.validators.submit(check_batch, b"[]", 1)
                       for _ in range(settings.ingest_validation_workers)]
            for future in warm_up:
                future.result()
        pruner = asyncio.create_task(_prune_landing_log(app.state.landing, settings.landing_keep_s))
        await app.state.hub.start()
        notifier = asyncio.create_task(_notify(app, settings))
        yield
        notifier.cancel()
        pruner.cancel()
        await app.state.hub.stop()
        if app.state.validators is not None:
            app.state.validators.shutdown()
        if committer is not None:
            committer.stop()  # flushes what landed before the stop
        app.state.xapi.store.close()
        app.state.landing.close()
        app.state.practice.close()
        if app.state.event_claims is not None:
            app.state.event_claims.close()
        app.state.database.dispose()
        flush_traces()

    # Docs for anyone (development), or behind an admin's credentials (serving.api.routes.docs).
    public_docs = {} if settings.public_docs else {"openapi_url": None, "docs_url": None, "redoc_url": None}
    app = FastAPI(title="LearnLake API", version=__version__, lifespan=lifespan,
                  description="Learner activity ingestion (native and xAPI), the core course/user API, "
                              "and the models served from the lake.", **public_docs)
    app.state.settings = settings
    app.state.database = Database(settings.database_url)
    app.state.pseudonyms = Pseudonyms.for_settings(settings)
    app.state.outbox = Outbox(app.state.pseudonyms)
    app.state.rate_limits = RateLimits(settings)
    app.state.access_tokens = AccessTokenVerifier(settings)
    app.state.accounts = AccountReader(app.state.database)
    app.state.source_keys = SourceKeyVerifier(app.state.database)
    app.state.popularity = ChampionCache(POPULARITY_MODEL, settings)
    app.state.learner_models = LearnerModels(settings)
    app.state.tutor = Tutor(settings)
    app.state.tutor_ratings = RatedAnswersCache()
    app.state.content_search = ContentSearchService(app.state.database, app.state.tutor)
    endpoint = ChatEndpoint.configured(settings)
    app.state.practice = PracticeBank(app.state.tutor, app.state.database,
                                      QuestionWriter(endpoint) if endpoint else None)
    app.state.grader = AnswerGrader(app.state.tutor)
    app.state.xapi_documents = DocumentStore(app.state.database)
    bus = RedisBus(settings.redis_url, settings.ws_buffer_size) if settings.redis_url \
        else LocalBus(settings.ws_buffer_size)
    app.state.hub = Hub(bus, settings.ws_queue_size)
    # FastAPI tries the routers in this order, route by route, so the busiest come first (the
    # models' routes: 5 % of a recommendation's time went to matching). No request can match
    # routes of two routers (tests/serving/test_routes_do_not_overlap.py), so the order is free.
    for router in (learner_models.router, health.router, tutor.router, events.router, xapi.router,
                   recommendations.router, auth.router, users.router, courses.router, enrollments.router,
                   learner_activity.router, analytics.router, sources.router, privacy.router,
                   xapi_documents.router, xapi_lookups.router, realtime.router,
                   notifications.router, announcements.router, search.router, practice.router, answers.router,
                   tutor_report.router):
        app.include_router(router)
    if not settings.public_docs:
        app.include_router(docs.router)
    if settings.telemetry:
        app.include_router(telemetry_http.router)
        app.state.metrics_state = CollectorRegistry(auto_describe=False)
        app.state.metrics_state.register(ServingState(app))
    trace_app(app, [app.state.database.write_engine, app.state.database.read_engine])

    # Plain ASGI middleware: Starlette's @app.middleware("http") costs about a millisecond a request.
    # The last added is outermost: even a refused URL or body under /xapi gets the version header, and
    # every answer the security headers.
    app.add_middleware(BoundedJsonBodies, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth,
                       own_body_prefixes=SELF_READING_ROUTES)
    app.add_middleware(RefuseNulInUrl)
    app.add_middleware(XapiAlternateSyntax, max_bytes=settings.max_body_bytes)
    app.add_middleware(XapiVersionHeader)
    app.add_middleware(SecurityHeaders, https_only=settings.environment == "production")
    if settings.trusted_proxies:  # the client's address from X-Forwarded-For, only when a trusted proxy sent it
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    if settings.telemetry:  # outermost: every answer has its id, its time and its log line
        app.add_middleware(RequestTelemetry)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # xAPI wants 400 for any bad request; the rest of the API keeps FastAPI's 422.
        status = 400 if request.url.path.startswith("/xapi") else 422
        return JSONResponse({"detail": public_problems(exc.errors())}, status_code=status)

    # Our own errors become HTTP answers here, once: routes and lower layers never build them.
    @app.exception_handler(ModelNotFoundError)
    async def _no_model(_: Request, exc: ModelNotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(TableNotFoundError)
    async def _no_table(_: Request, exc: TableNotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    return app


def uvicorn_command(host: str, port: int, *options: str) -> list[str]:
    """How LearnLake's launchers start the API. Proxy headers are the app's to believe, from the addresses
    in LEARNLAKE_TRUSTED_PROXIES only; uvicorn's own default believes any X-Forwarded-For sent from
    loopback, where a client on the same host (or behind a careless proxy) could pick its address. The app logs
    each request itself (with its id, route and time), so uvicorn's access log is off."""
    return [sys.executable, "-m", "uvicorn", "serving.main:app", "--host", host, "--port", str(port),
            "--no-proxy-headers", "--no-access-log", "--ws-max-size", "65536", *options]


def _has_model_registry(settings: Settings) -> bool:
    """False only for a SQLite registry not created yet (nothing trained: nothing to load)."""
    uri = settings.mlflow_tracking_uri
    return not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).exists()


async def _prune_landing_log(landing: LandingLog, keep_s: float, every_s: float = 60, look_s: float = 5) -> None:
    """Forever: drop committed landing segments older than ``keep_s`` (and their ids from memory) every
    ``every_s``, and strip committed bodies whenever an erasure asks (``lake.landing.request_strip``):
    only this process may rewrite the segment it writes to."""
    since_prune = 0.0
    while True:
        await asyncio.sleep(look_s)
        since_prune += look_s
        try:
            if strip_requested(landing.directory):
                await run_in_threadpool(landing.strip_committed)
            if since_prune >= every_s:
                since_prune = 0.0
                await run_in_threadpool(landing.prune, keep_s=keep_s)
        except OSError:
            logging.getLogger(__name__).exception("pruning the landing log failed; will retry")


async def _notify(app: FastAPI, settings: Settings) -> None:
    """Forever, every ``at_risk_check_s``: score a newly published warehouse for at-risk changes, and from
    ``digest_hour_utc`` on, nudge the inactive and send what e-mail is due (each user's e-mail of a kind is
    claimed once a day, so later rounds send only what failed or had no e-mail yet). Each is safe to run on
    every replica at once (claimed in the core database)."""
    state = app.state
    while True:
        await asyncio.sleep(settings.at_risk_check_s)
        try:
            await run_in_threadpool(score_publication, state.database, state.learner_models, state.pseudonyms,
                                    state.hub, settings)
            now = datetime.now(UTC)
            if now.hour >= settings.digest_hour_utc:
                await run_in_threadpool(run_daily, state.database, state.hub, settings, now)
        except Exception:  # a failed round is logged; the next one tries again
            logging.getLogger(__name__).exception("notifications: this round failed; will retry")


def __getattr__(name: str):
    # `uvicorn serving.main:app` builds the app on first access, not at import; the server's logging is set up
    # here, at its entry point (an app built in a test or a tool logs as its caller set up).
    if name == "app":
        settings = get_settings()
        configure_logging(settings.log_level, settings.log_format)
        return create_app(settings)
    raise AttributeError(name)
