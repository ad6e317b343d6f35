"""Settings from the environment (prefix ``LEARNLAKE_``) or a ``.env`` file.

Every path defaults under ``.learnlake/`` in the working directory, so a fresh clone
runs with no configuration at all; each one can be pointed elsewhere on its own.
"""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from learnlake.errors import ConfigurationError
from learnlake.json_bounds import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_DEPTH

DEV_PSEUDONYM_KEY = "dev-only-pseudonym-key-change-me"
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789"
# Secrets a server outside development must not run with: each one's placeholder, and the
# shortest value accepted (a pseudonym key as guessable as a password would re-identify learners).
SECRET_MINIMUM_LENGTH = 32


class Settings(BaseSettings):
    """All of LearnLake's configuration; see the README for each variable."""

    model_config = SettingsConfigDict(env_prefix="LEARNLAKE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", validation_alias=AliasChoices("LEARNLAKE_ENVIRONMENT", "LEARNLAKE_ENV"))
    log_level: str = Field("INFO", pattern=r"(?i)^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    # json: one object per line (structlog) for servers; console: for a person; auto: console at a terminal.
    log_format: Literal["auto", "console", "json"] = "auto"
    # Prometheus metrics and a log line per request; off only to measure what they cost (bench serve).
    telemetry: bool = True
    # When set, /metrics asks for `Authorization: Bearer <token>` (Prometheus: `authorization` in the scrape config).
    metrics_token: SecretStr | None = None

    home: Path = Path(".learnlake")
    lake_uri: str | None = Field(None, description="Root of the Delta lake: a folder or s3://, gs://, abfss://")
    warehouse_path: Path | None = Field(None, description="DuckDB file that dbt builds")
    published_warehouse_path: Path | None = Field(None, description="Read-only copy readers use")
    mlflow_tracking_uri: str | None = None
    mlflow_artifacts_dir: Path | None = None
    dagster_home: Path | None = None
    dagster_database_url: str | None = Field(
        None, pattern=r"^postgresql(\+\w+)?://", description="PostgreSQL for Dagster's runs, event logs and schedules "
        "(dagster-postgres; postgresql://user:password@host/db, any driver named is replaced by psycopg2, the one "
        "dagster-postgres speaks); SQLite files under dagster_home if unset")
    landing_dir: Path | None = Field(None, description="Where the API's fsync'd landing logs live")

    # Ingestion
    writer_id: str = Field("api-0", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="This API process's landing log")
    ingest_max_events: int = Field(5000, ge=1)
    ingest_max_event_bytes: int = Field(64 * 1024, ge=1024, description="One native event, as stored")
    # One bound for every JSON body of the API (core, xAPI, events): its size and its nesting.
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, ge=1024, validation_alias=AliasChoices(
        "LEARNLAKE_MAX_BODY_BYTES", "LEARNLAKE_INGEST_MAX_BODY_BYTES"))
    # At least 8: native events nest 5 levels at most (lake.events.MAX_EVENT_DEPTH), xAPI statements more.
    max_json_depth: int = Field(DEFAULT_MAX_DEPTH, ge=8, le=512)
    ingest_validation_workers: int = Field(1, ge=0, description="Processes that validate batches; 0: in the API")
    commit_interval_s: float = Field(0.5, gt=0)
    commit_batch_size: int = Field(50_000, ge=1)
    run_committer: bool = Field(True, description="Commit landed events from inside the API process")
    # Acknowledged events waiting longer than this for Delta: ingestion is stalled (a metric, an alert, doctor).
    ingest_stalled_after_s: float = Field(60.0, gt=0)
    landing_keep_s: float = Field(86_400, ge=0, description="How long committed landing batches (and replay "
                                  "detection of their ids) are kept")

    # The core course/user API: SQLite under home by default, PostgreSQL by URL
    # (postgresql+psycopg://user:password@host/db).
    database_url: str | None = None
    # The LRS's statement store: a SQLite file under home by default; API replicas share a PostgreSQL database.
    lrs_database_url: str | None = None
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_issuer: str = "learnlake"
    jwt_audience: str = "learnlake-api"
    access_token_ttl_s: int = Field(900, ge=30)
    refresh_token_ttl_s: int = Field(30 * 86_400, ge=60)
    # Rate limits (the `limits` library's notation) per user, or per client address before sign-in.
    redis_url: str | None = Field(None, description="Redis for rate limits (and later caches); memory if unset")
    qdrant_url: str | None = Field(None, description="Qdrant server for the tutor's passages; local mode if unset")
    qdrant_path: Path | None = Field(None, description="Qdrant local-mode folder (default: <home>/qdrant)")
    llm_url: str | None = Field(None, description="OpenAI-compatible endpoint for tutor answers and practice "
                                                   "questions (.../v1); extractive answers if unset")
    llm_model: str = "default"
    llm_api_key: SecretStr | None = None
    champion_refresh_s: float = Field(10.0, ge=0, description="How often serving looks for a new champion model")
    rate_limit_auth: str = "20/minute"
    rate_limit_read: str = "600/minute"
    rate_limit_write: str = "120/minute"
    # Per source key; generous, as xAPI tools often send one statement a request: it stops a flood, not a busy LMS.
    rate_limit_ingest: str = Field("200/second", description="Requests per source key to /v1/events and /xapi")
    # Addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For / -Proto are believed;
    # nobody's by default, so a client cannot choose the address its rate limit is counted on.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # /docs and /openapi.json for anyone (development) or for admins only (production, by default).
    public_docs: bool | None = None

    # Real time (/api/v1/ws): fan-out through Redis pub/sub when redis_url is set, in process otherwise.
    ws_heartbeat_s: float = Field(20.0, gt=0, description="A heartbeat to each idle WebSocket client this often")
    ws_queue_size: int = Field(256, ge=1, description="Messages waiting for one client before it is dropped as slow")
    ws_buffer_size: int = Field(1000, ge=1, description="Messages kept per room for clients that reconnect")
    # Notifications: at-risk changes after each warehouse publication, a daily digest, inactivity nudges.
    at_risk_threshold: float = Field(0.5, gt=0, lt=1, description="Dropout risk at which a learner is at risk")
    at_risk_check_s: float = Field(60.0, gt=0, description="How often the API looks for a new warehouse to score")
    inactive_days: float = Field(7.0, gt=0, description="Days without activity before a learner is nudged")
    digest_hour_utc: int = Field(7, ge=0, le=23, description="The hour (UTC) from which daily e-mails go out")
    smtp_url: str | None = Field(None, description="smtp://[user:password@]host:port (smtps:// for TLS); "
                                                   "no e-mail if unset, the inbox only")
    smtp_from: str = "LearnLake <noreply@learnlake.invalid>"

    # Privacy: how long the lake keeps old versions that still hold an erased learner (0: none).
    erasure_grace_days: float = Field(7.0, ge=0, description="Delta history kept after an erasure, in days")
    # Retention, applied daily by the privacy_retention job; None keeps forever. Aggregates in the marts stay.
    retention_events_days: float | None = Field(None, gt=0, description="Raw events in the lake")
    retention_tutor_days: float | None = Field(365, gt=0, description="Tutor conversations and questions")
    retention_audit_days: float | None = Field(365, gt=0, description="The access audit log")
    retention_notifications_days: float | None = Field(180, gt=0, description="Inbox notifications, and the "
                                                       "record of e-mails sent")
    retention_landing_days: float | None = Field(None, gt=0, description="Committed landing segments "
                                                 "(overrides LEARNLAKE_LANDING_KEEP_S)")

    # Keyed hash that turns user ids into pseudonymous learner ids (decision 6).
    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)

    seed: int = 42
    # Simulated learners the pipeline adds to the lake; 0 for a lake fed only by ingestion and datasets.
    learners: int = Field(400, ge=0)
    courses: int = 4
    simulation_days: int = 56
    simulation_start: str = "2026-09-07"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_url: str | None = None
    dashboard_port: int = 8501
    dagster_port: int = 3000
    mlflow_port: int = 5000
    pipeline_metrics_port: int = 9108  # `learnlake pipeline metrics`: the pipeline and data metrics for Prometheus

    @model_validator(mode="after")
    def _fill_paths_and_check_secrets(self) -> "Settings":
        home = self.home.expanduser().resolve()
        self.home = home
        self.lake_uri = self.lake_uri or str(home / "lake")
        self.warehouse_path = (self.warehouse_path or home / "warehouse.duckdb").resolve()
        self.published_warehouse_path = (
            self.published_warehouse_path or home / "published" / "warehouse.duckdb"
        ).resolve()
        self.mlflow_tracking_uri = self.mlflow_tracking_uri or f"sqlite:///{home / 'mlflow.db'}"
        self.mlflow_artifacts_dir = (self.mlflow_artifacts_dir or home / "mlartifacts").resolve()
        self.dagster_home = (self.dagster_home or home / "dagster").resolve()
        self.landing_dir = (self.landing_dir or home / "landing").resolve()
        self.qdrant_path = (self.qdrant_path or home / "qdrant").resolve()
        self.api_url = self.api_url or f"http://{self.api_host}:{self.api_port}"
        self.database_url = self.database_url or f"sqlite:///{home / 'core.db'}"
        self.lrs_database_url = self.lrs_database_url or f"sqlite:///{home / 'lrs' / 'statements.sqlite'}"
        if self.retention_landing_days is not None:
            self.landing_keep_s = self.retention_landing_days * 86_400
        if self.public_docs is None:
            self.public_docs = self.environment != "production"
        if self.environment != "development":
            self._refuse_weak_secrets()
        return self

    def _refuse_weak_secrets(self) -> None:
        for name, value, placeholder in (("PSEUDONYM_KEY", self.pseudonym_key, DEV_PSEUDONYM_KEY),
                                         ("JWT_SECRET", self.jwt_secret, DEV_JWT_SECRET)):
            secret = value.get_secret_value()
            if secret == placeholder:
                msg = (f"LEARNLAKE_{name} is left at its development placeholder; "
                       f"set a secret outside development (LEARNLAKE_ENVIRONMENT={self.environment})")
                raise ConfigurationError(msg)
            if len(secret) < SECRET_MINIMUM_LENGTH:
                msg = (f"LEARNLAKE_{name} must be at least {SECRET_MINIMUM_LENGTH} characters outside development "
                       "(`python -c 'import secrets; print(secrets.token_urlsafe(32))'` makes one)")
                raise ConfigurationError(msg)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


    def dbt_env(self) -> dict[str, str]:
        """The variables ``dbt_project/profiles.yml`` and its sources read."""
        return {"LEARNLAKE_WAREHOUSE_PATH": str(self.warehouse_path), "LEARNLAKE_LAKE_URI": str(self.lake_uri)}


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
