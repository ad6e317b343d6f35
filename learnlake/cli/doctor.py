"""``learnlake doctor``: checks each configured component and says, for each, what is wrong and what to do.

Every check is independent (one failing never hides another) and imports what it needs itself.
Exit status: 1 when any check failed, 0 otherwise (warnings: something is not built yet, or
worth a look).
"""

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import typer
from rich.table import Table

from learnlake.cli.common import JsonOption, console
from learnlake.settings import Settings, get_settings

OK, WARNING, FAILED = "ok", "warning", "failed"
FREE_DISK_FAILED_BYTES = 1 * 1024**3
FREE_DISK_WARNING_SHARE = 0.10
RUN_PIPELINE = "learnlake pipeline run"


@dataclass(frozen=True)
class Finding:
    component: str
    status: str  # ok, warning, failed
    detail: str
    fix: str = ""


def doctor(as_json: JsonOption = False) -> None:
    """Check every configured component: core database, Redis, lake, ingestion, warehouse, MLflow, tutor
    index, Dagster, disk. Exits 1 when one has failed."""
    settings = get_settings()
    findings = run_checks(settings)
    if as_json:
        print(json.dumps({"ok": not any(f.status == FAILED for f in findings),
                          "findings": [asdict(f) for f in findings]}))
    else:
        table = Table(title="learnlake doctor")
        for column in ("component", "status", "detail", "what to do"):
            table.add_column(column, overflow="fold")
        colour = {OK: "green", WARNING: "yellow", FAILED: "red"}
        for f in findings:
            table.add_row(f.component, f"[{colour[f.status]}]{f.status}[/]", f.detail, f.fix)
        console.print(table)
    if any(f.status == FAILED for f in findings):
        raise typer.Exit(1)


def run_checks(settings: Settings) -> list[Finding]:
    findings = []
    for check in CHECKS:
        try:
            findings.extend(check(settings))
        except Exception as exc:  # noqa: BLE001 - a check that breaks is a finding, not the end of the others
            findings.append(Finding(check.__name__.removeprefix("check_").replace("_", " "), FAILED,
                                    f"the check itself failed: {type(exc).__name__}: {exc}"))
    return findings


def check_core_database(settings: Settings) -> list[Finding]:
    from sqlalchemy.exc import SQLAlchemyError

    from serving.core.migrate import current_revision, head_revision

    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return [Finding("core database", WARNING, f"{_safe(url)} does not exist yet",
                        "learnlake db upgrade (the API also creates it on start)")]
    try:
        current = current_revision(url)
    except SQLAlchemyError as exc:
        return [Finding("core database", FAILED, f"cannot connect to {_safe(url)}: {_first_line(exc)}",
                        "start the database server, or fix LEARNLAKE_DATABASE_URL")]
    head = head_revision()
    if current != head:
        return [Finding("core database", FAILED, f"{_safe(url)} is at migration {current}, the code needs {head}",
                        "learnlake db upgrade")]
    return [Finding("core database", OK, f"{_safe(url)} at migration {head}")]


def check_redis(settings: Settings) -> list[Finding]:
    if not settings.redis_url:
        return [Finding("redis", OK, "not configured: rate limits and online features stay in this machine")]
    import redis

    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        where = redis.connection.parse_url(settings.redis_url)
        start = (f"redis-server --daemonize yes --bind {where.get('host', '127.0.0.1')} "
                 f"--port {where.get('port', 6379)} --save '' --appendonly no")
        return [Finding("redis", FAILED, f"Redis at {_safe(settings.redis_url)} does not answer: {_first_line(exc)}",
                        f"start Redis: `{start}` (or your Redis service), or fix LEARNLAKE_REDIS_URL")]
    return [Finding("redis", OK, f"{_safe(settings.redis_url)} answers")]


def check_lake(settings: Settings) -> list[Finding]:
    from lake.maintenance import table_files

    tables = {t["table"]: t for t in table_files(settings)}
    if "bronze.events" not in tables:
        return [Finding("lake", WARNING, f"{settings.lake_uri} holds no bronze.events yet",
                        f"send events to the API, `learnlake datasets load`, or {RUN_PIPELINE}")]
    small = sorted(name for name, t in tables.items() if t["small_files"] > 1000)
    events = tables["bronze.events"]
    detail = f"{len(tables)} tables; bronze.events at version {events['version']} in {events['files']} files"
    if small:
        return [Finding("lake", WARNING, f"{detail}; over 1,000 small files in {', '.join(small)}",
                        "learnlake lake optimize TABLE (the daily lake_maintenance job does it too)")]
    return [Finding("lake", OK, detail)]


def check_ingestion(settings: Settings) -> list[Finding]:
    from lake.committer_health import STALLED_STATES, every_ingestion_report

    reports = every_ingestion_report(settings)
    if not reports:
        return [Finding("ingestion", OK, "no landing log yet (nothing received)")]
    findings = []
    for report in reports:
        health = report["committer"]
        name = f"ingestion {report['writer_id']}"
        if health["state"] in STALLED_STATES:
            why = f"; last error: {health['last_error']}" if health["last_error"] else ""
            findings.append(Finding(name, FAILED, f"committer {health['state'].replace('_', ' ')}: "
                                    f"{report['backlog_events']} events in {report['backlog_batches']} batches "
                                    f"have waited {health['lag_s']:.0f} s for Delta{why}",
                                    "see ops/RUNBOOK.md#learnlakeingestionstalled; `learnlake ingest flush` "
                                    "commits what waits"))
        else:
            findings.append(Finding(name, OK, f"committer {health['state']}, {report['backlog_batches']} batches "
                                    f"waiting, {health['dead_letters']} dead letters"))
    return findings


def check_warehouse(settings: Settings) -> list[Finding]:
    import duckdb

    published = Path(settings.published_warehouse_path)
    if not published.exists():
        return [Finding("published warehouse", WARNING, f"{published} does not exist yet", RUN_PIPELINE)]
    with duckdb.connect(str(published), read_only=True) as con:
        marts = con.execute("select count(*) from information_schema.tables where table_schema = 'marts'").fetchone()[0]
    age_h = (time.time() - published.stat().st_mtime) / 3600
    if not marts:
        return [Finding("published warehouse", FAILED, f"{published} has no marts", RUN_PIPELINE)]
    if age_h > 26:
        return [Finding("published warehouse", WARNING, f"{marts} marts, published {age_h:.0f} h ago",
                        f"{RUN_PIPELINE}; is the Dagster daemon running its schedule?")]
    return [Finding("published warehouse", OK, f"{marts} marts, published {age_h:.1f} h ago")]


def check_mlflow(settings: Settings) -> list[Finding]:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from models import names
    from models.tracking import CHAMPION

    uri = settings.mlflow_tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return [Finding("mlflow", WARNING, "no model trained yet", RUN_PIPELINE)]
    client = MlflowClient(uri, uri)
    try:
        client.search_experiments(max_results=1)
    except MlflowException as exc:
        return [Finding("mlflow", FAILED, f"the tracking store {_safe(uri)} does not answer: {_first_line(exc)}",
                        "start the MLflow server, or fix LEARNLAKE_MLFLOW_TRACKING_URI")]
    champions, missing = [], []
    for model in (names.POPULARITY, names.KNOWLEDGE_TRACING, names.NEXT_ITEMS, names.DROPOUT):
        try:
            champions.append(f"{model} v{client.get_model_version_by_alias(model, CHAMPION).version}")
        except MlflowException:
            missing.append(model)
    if missing:
        return [Finding("mlflow", WARNING, f"no champion for {', '.join(missing)} (served: 503)",
                        f"{RUN_PIPELINE}; a model without enough data says why in its asset's metadata")]
    return [Finding("mlflow", OK, "champions: " + ", ".join(champions))]


def check_tutor_index(settings: Settings) -> list[Finding]:
    from models.tutor.index import COLLECTION

    if settings.qdrant_url:
        from qdrant_client import QdrantClient

        client = QdrantClient(url=settings.qdrant_url, timeout=5)
        try:
            points = client.count(COLLECTION).count if client.collection_exists(COLLECTION) else 0
        except Exception as exc:  # noqa: BLE001 - the client raises several kinds
            return [Finding("tutor index", FAILED, f"Qdrant at {settings.qdrant_url} does not answer: "
                            f"{_first_line(exc)}", "start Qdrant, or fix LEARNLAKE_QDRANT_URL")]
        where = settings.qdrant_url
    else:  # the API replicas read the published snapshots, not the working index
        from lake.readers import open_table
        from models.tutor import published

        version = published.latest_version(settings)
        points = 0 if version is None else open_table(published.TABLE, settings).to_pyarrow_dataset().count_rows()
        where = f"the published snapshot {version} ({published.TABLE})" if version is not None else published.TABLE
    if not points:
        return [Finding("tutor index", WARNING, f"no passages indexed in {where}", "learnlake tutor index")]
    return [Finding("tutor index", OK, f"passages indexed in {where}")]


def check_dagster(settings: Settings) -> list[Finding]:
    home = settings.dagster_home
    if not (home / "dagster.yaml").exists():
        return [Finding("dagster", WARNING, f"no Dagster instance in {home} yet", RUN_PIPELINE)]
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        latest = instance.get_run_records(limit=1)
    if latest and latest[0].dagster_run.status == dg.DagsterRunStatus.FAILURE:
        run = latest[0].dagster_run
        return [Finding("dagster", FAILED, f"the latest run ({run.job_name}, {run.run_id[:8]}) failed",
                        "open it in the Dagster UI; see ops/RUNBOOK.md#learnlakepipelinefailed")]
    state = latest[0].dagster_run.status.value.lower() if latest else "no run yet"
    return [Finding("dagster", OK, f"instance in {home}; latest run: {state}")]


def check_disk(settings: Settings) -> list[Finding]:
    path = settings.home if settings.home.exists() else Path.cwd()
    usage = shutil.disk_usage(path)
    detail = f"{usage.free / 1024**3:.1f} GiB free of {usage.total / 1024**3:.1f} GiB under {path}"
    if usage.free < FREE_DISK_FAILED_BYTES:
        return [Finding("disk", FAILED, detail, "free space: `learnlake lake vacuum TABLE`, prune old runs, "
                        "or move LEARNLAKE_HOME")]
    if usage.free < FREE_DISK_WARNING_SHARE * usage.total:
        return [Finding("disk", WARNING, detail, "plan more space; `learnlake lake vacuum TABLE` frees old files")]
    return [Finding("disk", OK, detail)]


CHECKS: list[Callable[[Settings], list[Finding]]] = [
    check_core_database, check_redis, check_lake, check_ingestion, check_warehouse, check_mlflow,
    check_tutor_index, check_dagster, check_disk]


def _safe(url: str) -> str:
    """A URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True) if "://" in url and "@" in url else url
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: show its scheme only
        return url.split("://", 1)[0] + "://..."


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
