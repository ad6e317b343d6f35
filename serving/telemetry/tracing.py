"""OpenTelemetry traces of the API: requests (FastAPI), SQL (SQLAlchemy), outgoing HTTP (httpx) and Redis.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set; then
spans go there by OTLP over HTTP, batched, with the standard ``OTEL_*`` variables (service name,
headers, sampler) read by the SDK itself.
"""

import os
import threading

from fastapi import FastAPI
from sqlalchemy import Engine

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
NOT_TRACED = "/metrics,/health/live"  # scrapes and probes

_provider = None
_lock = threading.Lock()


def tracing_configured() -> bool:
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def trace_app(app: FastAPI, engines: list[Engine]) -> bool:
    """Instrument ``app`` and its database ``engines`` when an OTLP endpoint is configured; returns whether."""
    if not tracing_configured():
        return False
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    provider = _tracer_provider()
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=NOT_TRACED)
    # Its declared range stops below SQLAlchemy 2.1, whose engine events it hooks are unchanged (the test sees
    # the SQL spans).
    SQLAlchemyInstrumentor().instrument(engines=engines, tracer_provider=provider, skip_dep_check=True)
    return True


def flush(timeout_ms: int = 5_000) -> None:
    """Send the spans waiting in the batch now (when an app stops, and in tests)."""
    if _provider is not None and tracing_configured():
        _provider.force_flush(timeout_ms)


def shutdown() -> None:
    """Send what waits, then stop tracing in this process: the exporter and the process-wide instrumentation
    (a test's; a server's tracing ends with its process)."""
    global _provider
    with _lock:
        if _provider is None:
            return
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        for instrumentor in (HTTPXClientInstrumentor(), RedisInstrumentor(), SQLAlchemyInstrumentor()):
            instrumentor.uninstrument()
        _provider.shutdown()
        _provider = None


def _tracer_provider():
    """One provider per process (OpenTelemetry's global), with httpx and Redis traced process-wide."""
    global _provider
    with _lock:
        if _provider is None:
            from opentelemetry import trace
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
            from opentelemetry.instrumentation.redis import RedisInstrumentor
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            service = os.environ.get("OTEL_SERVICE_NAME", "learnlake-api")
            _provider = TracerProvider(resource=Resource.create({"service.name": service}))
            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(_provider)
            HTTPXClientInstrumentor().instrument(tracer_provider=_provider)
            RedisInstrumentor().instrument(tracer_provider=_provider)
        return _provider
