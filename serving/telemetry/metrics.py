"""The API's Prometheus metrics, each defined once here (prometheus-client).

Counters and histograms are counted where things happen (ingestion, xAPI, models, the tutor,
rate limits). With ``PROMETHEUS_MULTIPROC_DIR`` set before the process starts (``learnlake
serve`` sets it when uvicorn runs several workers), prometheus-client keeps them in files there
and ``/metrics`` adds up every worker's. What is state rather than a count (the landing
backlog, the committer's health, Delta tables, champion versions) is read when Prometheus
scrapes, by ``serving.telemetry.state``.

Label values are bounded: route templates, not paths; a fixed set of reasons; at most
``MAX_VERBS`` xAPI verbs, then ``other``. A client cannot grow the series without end.
"""

import threading

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MAX_VERBS = 50

HTTP_REQUEST_SECONDS = Histogram(
    "learnlake_http_request_duration_seconds", "API requests by method, route template and status",
    ["method", "route", "status"], buckets=LATENCY_BUCKETS_S)
INGEST_EVENTS = Counter(
    "learnlake_ingest_events_total", "Events acknowledged at ingestion: stored (new) or duplicate (a replay)",
    ["api", "outcome"])
INGEST_REJECTED = Counter(
    "learnlake_ingest_rejected_total", "Ingestion requests refused, by reason", ["api", "reason"])
XAPI_STATEMENTS = Counter(
    "learnlake_xapi_statements_total", "xAPI statements stored, by verb", ["verb"])
PREDICTION_SECONDS = Histogram(
    "learnlake_prediction_duration_seconds", "Time a served model takes for one answer", ["model"],
    buckets=LATENCY_BUCKETS_S)
TUTOR_QUESTIONS = Counter(
    "learnlake_tutor_questions_total", "Questions the tutor answered: from the material, or 'I don't know'",
    ["outcome"])
TUTOR_RATINGS = Counter(
    "learnlake_tutor_ratings_total", "Ratings of the tutor's answers by their askers: helpful, unhelpful, or "
    "withdrawn (a changed mind counts again)", ["rating"])
TUTOR_RETRIEVAL_SECONDS = Histogram(
    "learnlake_tutor_retrieval_duration_seconds", "Time to find a question's passages", buckets=LATENCY_BUCKETS_S)
RATE_LIMITED = Counter(
    "learnlake_rate_limited_total", "Requests refused with 429, by endpoint class", ["endpoint_class"])

_verbs: set[str] = set()
_verbs_lock = threading.Lock()


def verb_label(verb_id: str) -> str:
    """The verb's last path segment (``completed`` for ADL's), for the first ``MAX_VERBS`` verbs seen."""
    label = verb_id.rstrip("/").rsplit("/", 1)[-1][:40] or "other"
    if label in _verbs:
        return label
    with _verbs_lock:
        if len(_verbs) >= MAX_VERBS:
            return "other"
        _verbs.add(label)
    return label
REALTIME_PUBLISHED = Counter(
    "learnlake_realtime_published_total", "Live messages published, by type; failed: the bus was unreachable",
    ["type", "outcome"])
REALTIME_DELIVERED = Counter(
    "learnlake_realtime_delivered_total", "Live messages handed to this replica's connected clients")
REALTIME_DROPPED = Counter(
    "learnlake_realtime_dropped_clients_total", "WebSocket clients dropped for not taking their messages")
NOTIFICATION_EMAILS = Counter(
    "learnlake_notification_emails_total", "Notification e-mails by kind: sent, or failed (retried later)",
    ["kind", "outcome"])
