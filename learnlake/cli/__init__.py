"""The ``learnlake`` command line.

Commands import the rest of the project lazily, inside each command, so that the kernel
itself depends on nothing else of the project (ARCHITECTURE.md) and ``--help`` is fast.
"""

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from learnlake.cli.common import JsonOption, clear_errors, console
from learnlake.cli.doctor import doctor
from learnlake.cli.privacy import privacy_app
from learnlake.cli.sources import sources_app
from learnlake.logging import configure_logging
from learnlake.settings import Settings, get_settings

app = typer.Typer(help="LearnLake: a lakehouse data and ML platform for online learning.", no_args_is_help=True)
pipeline_app = typer.Typer(help="Run the Dagster assets in this process.", no_args_is_help=True)
app.add_typer(pipeline_app, name="pipeline")
ingest_app = typer.Typer(help="The ingestion landing logs.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
lake_app = typer.Typer(help="Delta table maintenance.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")
datasets_app = typer.Typer(help="Real public datasets into the lake.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")
db_app = typer.Typer(help="The core course/user database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
bench_app = typer.Typer(help="Benchmarks that print their figures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
tutor_app = typer.Typer(help="The tutor's index of course content.", no_args_is_help=True)
app.add_typer(tutor_app, name="tutor")
eval_app = typer.Typer(help="Evaluate the models on real datasets; each run is logged to MLflow.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(sources_app, name="sources")
app.add_typer(privacy_app, name="privacy")
app.command()(doctor)

DEMO_KEY_FILE = "demo_source_key"  # under the home: the demo's source key
LearnersOption = Annotated[int | None, typer.Option(help="Simulated learners (default: LEARNLAKE_LEARNERS).", min=1)]
PipelineLearnersOption = Annotated[int | None, typer.Option(
    help="Simulated learners to add (default: LEARNLAKE_LEARNERS); 0: none, the lake's own events only.", min=0)]


@app.callback()
def _main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded at run time
    configure_logging(get_settings().log_level, get_settings().log_format)


@pipeline_app.command("run")
def pipeline_run(learners: PipelineLearnersOption = None) -> None:
    """Materialise every asset: events -> dbt warehouse -> published copy -> models."""
    run = _run_pipeline(learners)
    _print_summary(run, get_settings())
    if not run.success:
        raise typer.Exit(1)


@pipeline_app.command("metrics")
def pipeline_metrics(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: LEARNLAKE_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: LEARNLAKE_PIPELINE_METRICS_PORT).")] = None,
) -> None:
    """Serve the pipeline and data metrics for Prometheus (last runs, freshness, checks, marts, models, drift)."""
    from pipelines.defs.transforms.project import prepare_manifest
    from pipelines.metrics import serve_forever

    settings = get_settings()
    prepare_manifest()
    serve_forever(settings, host or settings.api_host, port or settings.pipeline_metrics_port)


@pipeline_app.command("close-days")
def pipeline_close_days(
    days: Annotated[list[str] | None, typer.Argument(
        help="Days to close, YYYY-MM-DD (default: every day bronze.events holds, up to yesterday).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Close days of bronze.events (the daily partitions): compact each day's files and count its events."""
    from rich.progress import track

    from pipelines.defs.lake.event_days import EVENT_DAYS, days_in_lake
    from pipelines.run import close_event_days

    if not days:
        closable = set(EVENT_DAYS.get_partition_keys())
        days = [day for day in days_in_lake() if day in closable]
    closed: dict[str, dict] = {}
    with clear_errors("cannot close"):
        for day, figures in track(close_event_days(days), total=len(days), description="Closing event days...",
                                  console=console, disable=len(days) < 2):
            closed[day] = figures
    if as_json:
        import json

        print(json.dumps(closed))
        return
    table = Table("day", "events", "learners", "courses", "arrived late", "files compacted", title="Closed event days")
    for day, figures in closed.items():
        table.add_row(day, f"{figures['events']:,}", f"{figures.get('learners', 0):,}", f"{figures.get('courses', 0):,}",
                      f"{figures.get('arrived_after_the_day', 0):,}", f"{figures['files_compacted']:,}")
    Console().print(table)


@ingest_app.command("flush")
def ingest_flush() -> None:
    """Commit everything waiting in the landing logs, and the core API's outbox, to bronze.events.

    Safe beside a running API: committers of one landing log take turns (a file lock), outbox
    relays too (a lease in the database), and Delta transaction ids skip what is already in.
    """
    from lake.committer import Committer
    from lake.landing import LandingLog
    from lake.sources.core_outbox import outbox_relay_for

    settings = get_settings()
    logs = sorted(p for p in settings.landing_dir.glob("*") if p.is_dir()) if settings.landing_dir.exists() else []
    for directory in logs:
        landing = LandingLog(directory, directory.name, readonly=True)
        stats = Committer(landing, settings, max_events=settings.commit_batch_size).flush()
        console.print(f"{directory.name}: {stats.committed:,} events committed, {stats.dead_letters:,} dead letters, "
                      f"up to batch {stats.last_seq}")
    if not logs:
        console.print(f"no landing logs under {settings.landing_dir}")
    relay = outbox_relay_for(settings)
    if relay is None:
        console.print("no core database yet: no domain events to relay")
        return
    try:
        relayed = relay.relay()
    finally:
        relay.close()
    console.print(f"outbox: {relayed.events:,} domain events relayed in {relayed.batches} batches")


@datasets_app.command("load")
def datasets_load(
    name: Annotated[str, typer.Argument(help="assistments, kddcup2015, oulad or openstax")],
    data_dir: Annotated[Path, typer.Option("--data-dir", help="A directory in the layout of shared/data/README.md")],
) -> None:
    """Load a real dataset: events (and labels) into the lake, or (openstax) a book as a course.

    Loading the same files again adds nothing.
    """
    from lake.sources.datasets.loading import load_dataset

    if name == "openstax":
        _import_openstax(data_dir.expanduser().resolve(), get_settings())
        return
    with console.status(f"Loading {name} from {data_dir}..."):
        report = load_dataset(name, data_dir.expanduser().resolve(), get_settings())
    labels = "".join(f", {rows:,} rows to {table}" for table, rows in report.labels.items())
    if report.appended:
        console.print(f"{name}: {report.events:,} events to bronze.events{labels}")
    else:
        console.print(f"{name}: these files were loaded before ({report.app_id}); nothing added")


def _import_openstax(data_dir: Path, settings: Settings) -> None:
    """A book is course content: it goes to the core database, and from there to the lake."""
    from lake.sources.datasets.openstax import read_book
    from serving.core.db import Database
    from serving.core.imports import import_book
    from serving.core.migrate import upgrade
    from serving.core.outbox import Outbox

    book = read_book(data_dir)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        report = import_book(database, Outbox(settings.pseudonym_key.get_secret_value()), book)
    finally:
        database.dispose()
    console.print(f"openstax: {book.title!r} is course {report.course_id} "
                  f"({'created' if report.created else 'already there'}): {report.sections_added} sections added, "
                  f"{report.sections_updated} updated, in {len(book.chapters)} modules")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Alembic revision")] = "head") -> None:
    """Apply the core database's migrations (LEARNLAKE_DATABASE_URL; SQLite under home by default)."""
    from serving.core.migrate import current_revision, upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    console.print(f"core database at revision {current_revision(settings.database_url)}: {_safe_url(settings)}")


@db_app.command("seed")
def db_seed(learners: LearnersOption = None) -> None:
    """Fill the core database with the simulator's users, courses, enrollments and progress."""
    _seed_core_database(get_settings(), learners)


def _seed_core_database(settings: Settings, learners: int | None) -> None:
    from lake.sources.simulator import config_from_settings, simulate
    from serving.core.db import Database
    from serving.core.migrate import upgrade
    from serving.core.outbox import Outbox
    from serving.core.seed import DEMO_PASSWORD, seed_from_simulation

    if (settings.learners if learners is None else learners) == 0:
        console.print("[red]LEARNLAKE_LEARNERS=0: there is no simulated platform to seed or to demo; "
                      "set it, or pass --learners N[/red]")
        raise typer.Exit(2)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with console.status("Seeding the core database with the simulated platform..."):
            sim = simulate(config_from_settings(settings, learners=learners))
            counts = seed_from_simulation(database, Outbox(settings.pseudonym_key.get_secret_value()), sim)
    finally:
        database.dispose()
    if counts.users:
        console.print(f"core database seeded: {counts.users:,} users, {counts.courses} courses, "
                      f"{counts.enrollments:,} enrollments, {counts.progress:,} item completions")
    else:
        console.print("core database already seeded")
    accounts = ["admin@learnlake.example", "analyst@learnlake.example"] + sim.users.group_by(
        "role", maintain_order=True).first()["email"].to_list()
    console.print(f"demo accounts (password {DEMO_PASSWORD!r}): {', '.join(accounts)}")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


TableArgument = Annotated[str, typer.Argument(help="A catalogued table, e.g. bronze.events.")]


@lake_app.command("optimize")
def lake_optimize(table: TableArgument) -> None:
    """Compact small files of a table into larger ones."""
    from lake import maintenance

    metrics = maintenance.optimize(table)
    Console().print_json(data={k: v for k, v in metrics.items() if isinstance(v, int | float | str)})


@lake_app.command("vacuum")
def lake_vacuum(
    table: TableArgument,
    retention_hours: Annotated[int, typer.Option(help="Keep files needed by versions this recent.", min=0)] = 168,
    dry_run: Annotated[bool, typer.Option("--dry-run/--delete", help="Only list what would go.")] = True,
) -> None:
    """Delete files that no version within the retention needs (lists them with --dry-run)."""
    from datetime import timedelta

    from lake import maintenance

    files = maintenance.vacuum(table, retention=timedelta(hours=retention_hours), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    console.print(f"{table}: {verb} {len(files)} file(s)")


@lake_app.command("history")
def lake_history(
    table: TableArgument, limit: Annotated[int, typer.Option(help="How many commits.", min=1)] = 20
) -> None:
    """The table's most recent commits."""
    from lake import maintenance

    rows = Table("version", "timestamp", "operation", "parameters", title=f"{table} history")
    for commit in maintenance.history(table, limit=limit):
        params = commit.get("operationParameters") or {}
        rows.add_row(str(commit.get("version")), str(commit.get("timestamp")), str(commit.get("operation")),
                     ", ".join(f"{k}={v}" for k, v in params.items())[:80])
    Console().print(rows)


@bench_app.command("ingest")
def bench_ingest(
    events: Annotated[int, typer.Option(help="Events to post.", min=1)] = 200_000,
    batch: Annotated[int, typer.Option(help="Events per request.", min=1)] = 500,
    clients: Annotated[int, typer.Option(help="Concurrent clients.", min=1)] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Post simulator events to a fresh API on loopback and time them into Delta."""
    from dataclasses import asdict

    from serving import bench_ingest

    result = bench_ingest.run(events=events, batch=batch, clients=clients, progress=console.print)
    _print_figures(asdict(result), as_json=as_json, title="ingestion benchmark")
    if result.delta_rows != events or result.delta_distinct_ids != events:
        console.print(f"[red]Delta holds {result.delta_rows:,} rows, {result.delta_distinct_ids:,} distinct ids; "
                      f"expected {events:,}[/red]")
        raise typer.Exit(1)


@bench_app.command("xapi")
def bench_xapi(
    requests: Annotated[int, typer.Option(help="Requests of each kind sent one by one (a tenth as many in batches).",
                                          min=10)] = 2000,
    batch: Annotated[int, typer.Option(help="Events or statements per batched request.", min=1)] = 100,
    clients: Annotated[int, typer.Option(help="Concurrent clients.", min=1)] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Time the LRS (statements one by one and in batches, queries, State documents) beside native events."""
    from dataclasses import asdict

    from serving import bench_xapi

    result = bench_xapi.run(requests=requests, batch=batch, clients=clients, progress=console.print)
    _print_figures(asdict(result), as_json=as_json, title="xAPI benchmark")


@bench_app.command("realtime")
def bench_realtime(
    clients: Annotated[int, typer.Option(help="WebSocket clients held at once.", min=1)] = 1000,
    messages: Annotated[int, typer.Option(help="Course announcements fanned out to all of them.", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Hold many WebSocket clients on a fresh API, fan course messages out to all, and time it."""
    from dataclasses import asdict

    from serving import bench_realtime

    result = bench_realtime.run(clients=clients, messages=messages, progress=console.print)
    _print_figures(asdict(result), as_json=as_json, title="real-time benchmark")
    if result.deliveries != result.deliveries_due or result.connected != clients:
        console.print(f"[red]{result.connected:,} of {clients:,} connected; {result.deliveries:,} of "
                      f"{result.deliveries_due:,} deliveries[/red]")
        raise typer.Exit(1)


@bench_app.command("serve")
def bench_serve(
    clients: Annotated[int, typer.Option(help="Concurrent clients on /health and recommendations.", min=1)] = 50,
    tutor_clients: Annotated[int, typer.Option(help="Concurrent clients asking the tutor.", min=1)] = 8,
    duration: Annotated[float, typer.Option(help="Seconds measured per endpoint.", min=1)] = 10.0,
    learners: Annotated[int, typer.Option(help="Learners of the demo trained first.", min=20)] = 400,
    home: Annotated[Path | None, typer.Option(help="A trained LearnLake home to serve instead of a new demo "
                                                   "(its core database gets tutor turns).")] = None,
    telemetry_rounds: Annotated[int, typer.Option(
        help="Also serve without telemetry (metrics, request ids, request logs) and drive both in turn this many "
             "times: what telemetry costs.", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Serve trained models on loopback; time recommendations and tutor questions beside /health."""
    import json
    from dataclasses import asdict

    from serving import bench_serve

    result = bench_serve.run(clients=clients, tutor_clients=tutor_clients, duration_s=duration, learners=learners,
                             home=home, telemetry_rounds=telemetry_rounds,
                             progress=lambda m: console.print(m, style="dim"))
    figures = asdict(result)
    if as_json:
        print(json.dumps(figures))
        return
    table = Table("endpoint", "clients", "requests/s", "p50 ms", "p99 ms", "errors", "answered",
                  title="serving benchmark")
    for name, e in result.endpoints.items():
        table.add_row(name, str(e.clients), f"{e.requests_per_s:,.0f}", f"{e.p50_ms:.1f}", f"{e.p99_ms:.1f}",
                      str(e.errors), f"{e.answered_share:.0%}" if e.answered_share is not None else "")
    console.print(table)
    if result.telemetry:
        cost = Table("endpoint", "requests/s with", "without", "p50 ms with", "without", "overhead",
                     title="what telemetry costs")
        for name, c in result.telemetry.items():
            cost.add_row(name, f"{c.requests_per_s_with:,.0f}", f"{c.requests_per_s_without:,.0f}",
                         f"{c.p50_ms_with:.2f}", f"{c.p50_ms_without:.2f}", f"{c.overhead_pct:+.1f} %")
        console.print(cost)


@bench_app.command("dashboards")
def bench_dashboards(
    home: Annotated[Path | None, typer.Option(help="A trained LearnLake home (default: LEARNLAKE_HOME).")] = None,
    rounds: Annotated[int, typer.Option(help="Warm loads timed per page.", min=1)] = 3,
    events: Annotated[int | None, typer.Option(
        help="First grow the home's lake to this many events (its own, tiled over new learners), rebuild and "
             "publish the warehouse: e.g. 10000000. Changes the home: use a copy.", min=1)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Time every dashboard page of every role in headless Chromium, against the API and streamlit on loopback."""
    import json
    from dataclasses import asdict

    from dashboards import bench_pages

    home = home or get_settings().home
    if events:
        from learnlake.settings import Settings
        from pipelines.bench_transform import grow_and_publish

        with console.status(f"Growing the lake to {events:,} events and rebuilding the warehouse..."):
            events = grow_and_publish(Settings(home=home), events)
    results = bench_pages.run(home, rounds=rounds, progress=lambda m: console.print(m, style="dim"))
    if as_json:
        print(json.dumps({"home": str(home), "lake_events": events, "pages": [asdict(r) for r in results]}))
        return
    table = Table("role", "page", "first load s", "median s", "worst s", title="dashboard page loads")
    for r in results:
        table.add_row(r.role, r.page, f"{r.cold_s:.2f}", f"{r.median_s:.2f}", f"{r.worst_s:.2f}")
    console.print(table)


@bench_app.command("transform")
def bench_transform(
    events: Annotated[int, typer.Option(help="Events in the lake before the full build.", min=1000)] = 1_000_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Time a full dbt build on N events, an incremental one after 1 % more, and a plain scan."""
    from dataclasses import asdict

    from pipelines import bench_transform

    with console.status(f"Benchmarking the transforms on {events:,} events..."):
        figures = asdict(bench_transform.run(events))
    _print_figures(figures, as_json=as_json, title="transform benchmark")


@bench_app.command("privacy")
def bench_privacy(
    events: Annotated[int, typer.Option(help="Events in the lake.", min=1000)] = 1_000_000,
    learners: Annotated[int, typer.Option(help="Learners erased together.", min=1)] = 1,
    as_json: JsonOption = False,
) -> None:
    """Time the erasure of K learners from every store of a home holding N events (grace period 0)."""
    from dataclasses import asdict

    from pipelines import bench_privacy

    def record(settings: Settings, pseudonyms: list[str]) -> None:
        from serving.core.db import Database
        from serving.core.migrate import upgrade
        from serving.core.privacy import erase_pseudonyms

        upgrade(settings.database_url)
        database = Database(settings.database_url)
        try:
            erase_pseudonyms(database, pseudonyms, requested_by="bench")
        finally:
            database.dispose()

    with console.status(f"Benchmarking erasure on {events:,} events...") as status:
        figures = asdict(bench_privacy.run(events, learners, record, progress=status.update))
    _print_figures(figures, as_json=as_json, title="privacy benchmark")


def _print_figures(figures: dict, *, as_json: bool, title: str) -> None:
    """A benchmark's figures: one JSON line on stdout, or a table for people."""
    import json

    if as_json:
        print(json.dumps(figures))
        return
    table = Table("figure", "value", title=title)
    for key, value in _flat(figures).items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else f"{value:.4f}" if isinstance(value, float)
                      else str(value))
    Console().print(table)


def _flat(figures: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in figures.items():
        flat |= _flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value}
    return flat


DataDirOption = Annotated[Path, typer.Option("--data-dir", help="A directory in the layout of shared/data/README.md.",
                                             exists=True, file_okay=False)]


def _report_evaluation(kind: str, result: dict, inputs: dict[str, list[Path]], *, as_json: bool,
                       params: dict | None = None) -> None:
    from models.evaluation import log_evaluation

    result["mlflow_run_id"] = log_evaluation(kind, result, inputs=inputs, params=params)
    _print_figures(result, as_json=as_json, title=f"{kind} evaluation")


TRAINABLE = {
    "dropout": "models.dropout.training",
    "knowledge-tracing": "models.knowledge_tracing.lake_training",
    "recommender": "models.recommender.training",
    "popularity": "models.recommender.popularity",
}


@app.command()
def train(
    model: Annotated[str, typer.Argument(help=f"One of: {', '.join(TRAINABLE)}.")],
    as_json: JsonOption = False,
) -> None:
    """Train a model on the published warehouse, as its Dagster asset does: log, register, maybe promote."""
    import importlib

    if model not in TRAINABLE:
        console.print(f"[red]unknown model {model!r}; choose one of {', '.join(TRAINABLE)}[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    if model != "popularity" and not Path(settings.published_warehouse_path).exists():
        console.print(f"[red]not trained: no published warehouse at {settings.published_warehouse_path} yet; "
                      "run `learnlake pipeline run` first[/red]")
        raise typer.Exit(1)
    module = importlib.import_module(TRAINABLE[model])
    with clear_errors("not trained"), console.status(f"Training {model}..."):
        result = module.train(settings)
    figures = {"model": model, "mlflow_run_id": result.run_id, "version": result.version,
               "promoted": result.promotion.promoted, "promotion": result.promotion.reason, **result.metrics}
    _print_figures(figures, as_json=as_json, title=f"{model} training")


@eval_app.command("kt")
def eval_kt(
    data_dir: DataDirOption,
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help="Seed of the validation split and of training.")] = 0,
    conservative_groups: Annotated[bool, typer.Option(
        help="Count a run of consecutive rows with distinct skills as one answer (for files that may hold "
             "expanded multi-skill answers).")] = False,
    budget_minutes: Annotated[float, typer.Option(
        help="Time for the whole evaluation: networks that would not fit are cut short or skipped (and named).",
        min=1)] = 13.0,
) -> None:
    """Knowledge tracing: train DKT and the attentive model on *_train.csv, report test AUC and accuracy."""
    from models.knowledge_tracing import assistments
    from models.knowledge_tracing.data import split_files

    with clear_errors("cannot evaluate"):
        files = split_files(data_dir)
        console.print(f"Training knowledge tracing on {files.train.name}, testing on {files.test.name}...")
        result = assistments.evaluate(data_dir, seed=seed, conservative_groups=conservative_groups, progress=True,
                                      budget_s=budget_minutes * 60)
    inputs = {"train": [files.train], "test": [files.test]} | ({"valid": [files.valid]} if files.valid else {})
    _report_evaluation("kt", result, inputs, as_json=as_json, params={
        "seed": seed, "conservative_groups": conservative_groups, "budget_minutes": budget_minutes})


@eval_app.command("dropout")
def eval_dropout(
    train_dir: Annotated[Path, typer.Option("--train-dir", help="KDD Cup 2015 course files to train on.",
                                            exists=True, file_okay=False)],
    test_dir: Annotated[Path | None, typer.Option("--test-dir", help="Course files to test on (default: a "
                                                  "seeded 80/20 split of the training enrolments).",
                                                  exists=True, file_okay=False)] = None,
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help="Seed of the split and of the model.")] = 0,
) -> None:
    """Dropout: train on KDD Cup 2015 course files, report AUC, PR-AUC and Brier score beside a baseline."""
    from lake.sources.datasets.kddcup2015 import course_files
    from models.dropout import kddcup

    with clear_errors("cannot evaluate"), console.status("Training and testing the dropout model..."):
        result = kddcup.evaluate(train_dir, test_dir, seed=seed)
    inputs = {"train": course_files(train_dir) + sorted(train_dir.rglob("truth_train.csv"))}
    if test_dir is not None:
        inputs["test"] = course_files(test_dir) + sorted(test_dir.rglob("truth_train.csv"))
    _report_evaluation("dropout", result, inputs, as_json=as_json, params={"seed": seed})


@eval_app.command("atrisk")
def eval_atrisk(
    data_dir: DataDirOption,
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help="Seed of the model (and of the split when no module repeats).")] = 0,
) -> None:
    """At-risk: predict Fail or Withdrawn on OULAD from what is known by day 30, 60 and 90; AUC per cut-off."""
    from models.dropout import oulad

    with clear_errors("cannot evaluate"), console.status("Training and testing the at-risk model at each cut-off..."):
        result = oulad.evaluate(data_dir, seed=seed)
    _report_evaluation("atrisk", result, {"data": oulad.input_files(data_dir)}, as_json=as_json,
                       params={"seed": seed})


@eval_app.command("recommender")
def eval_recommender(
    data_dir: DataDirOption,
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help="Seed of the validation split that picks the settings.")] = 0,
) -> None:
    """What to study next: rank each test learner's next skill session; NDCG@10 beside two baselines."""
    from models.knowledge_tracing.data import split_files
    from models.recommender import assistments

    with clear_errors("cannot evaluate"), console.status("Evaluating the sequential recommender..."):
        files = split_files(data_dir)
        result = assistments.evaluate(data_dir, seed=seed)
    _report_evaluation("recommender", result, {"train": [files.train], "test": [files.test]}, as_json=as_json,
                       params={"seed": seed})


@tutor_app.command("index")
def tutor_index(as_json: JsonOption = False) -> None:
    """Index the course content in the lake for the tutor: embed new and edited passages, drop removed ones."""
    from dataclasses import asdict

    from models.tutor.indexing import index_lake_content

    with clear_errors("cannot index"), console.status("Indexing course content for the tutor..."):
        reports = index_lake_content(get_settings())
    if as_json:
        import json

        print(json.dumps({course: asdict(report) for course, report in reports.items()}))
        return
    table = Table("course", "added", "updated", "removed", "unchanged", title="Tutor index")
    for course, report in reports.items():
        table.add_row(course, *(f"{getattr(report, name):,}" for name in ("added", "updated", "removed", "unchanged")))
    Console().print(table)


@tutor_app.command("ask")
def tutor_ask(
    question: Annotated[str, typer.Argument(help="The learner's question.")],
    course_id: Annotated[str, typer.Option("--course-id", help="The course whose material answers it.")],
    as_json: JsonOption = False,
) -> None:
    """Ask the tutor from the shell: an answer from the course's indexed material, with citations."""
    from dataclasses import asdict

    from models.tutor.answers import answer_generator
    from models.tutor.index import TutorIndex, qdrant_client
    from models.tutor.retrieval import Retriever

    settings = get_settings()
    with clear_errors("cannot answer"):
        client = qdrant_client(settings)
        try:
            passages = Retriever(TutorIndex(client)).search(course_id, question, k=5)
            answer = answer_generator(settings).answer(question, passages)
        finally:
            client.close()
    if as_json:
        import json

        print(json.dumps(asdict(answer)))
        return
    out = Console()  # course text is printed as it is: "s[i]" is code, not Rich markup
    out.print(answer.text, markup=False, highlight=False)
    for citation in answer.citations:
        out.print(f"[{citation.number}] {citation.title} > {citation.heading} ({citation.location})",
                  markup=False, highlight=False)


@eval_app.command("rag")
def eval_rag(
    content_dir: Annotated[Path, typer.Option("--content-dir", help="An OpenStax book (collections/, modules/).",
                                              exists=True, file_okay=False)],
    questions_dir: Annotated[Path, typer.Option("--questions-dir", help="H5P questions (content.json, metadata.json).",
                                                exists=True, file_okay=False)],
    as_json: JsonOption = False,
) -> None:
    """The tutor's retrieval: recall@1/@5, MRR and latency for dense, BM25 and hybrid search."""
    from models.tutor import rag_evaluation

    with clear_errors("cannot evaluate"):
        result = rag_evaluation.evaluate(content_dir, questions_dir, progress=not as_json)
    inputs = {"content": sorted(content_dir.rglob("*.cnxml")) + sorted(content_dir.rglob("*.collection.xml")),
              "questions": sorted(questions_dir.rglob("*.json"))}
    _report_evaluation("rag", result, inputs, as_json=as_json)


@app.command()
def demo(
    learners: LearnersOption = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve everything afterwards.")] = True,
) -> None:
    """Run the whole platform end to end on simulated data, then serve it."""
    started = time.monotonic()
    settings = get_settings()
    _seed_core_database(settings, learners)
    key_file = _demo_source_key(settings)
    run = _run_pipeline(learners)
    _print_summary(run, settings, elapsed_s=time.monotonic() - started)
    console.print(f"The demo's source key (events and xAPI, source 'demo') is in {key_file}: "
                  f"curl -H \"Authorization: Bearer $(cat {key_file})\" {settings.api_url}/v1/ingest/status")
    if not run.success:
        raise typer.Exit(1)
    if serve_after:
        _serve(settings)


@app.command()
def serve() -> None:
    """Serve the API, the dashboards, the Dagster UI and the MLflow UI until Ctrl-C."""
    _serve(get_settings())


def _demo_source_key(settings: Settings) -> Path:
    """The demo's own source key, made once and kept in a file only this user can read."""
    from serving.core.db import Database
    from serving.core.source_keys import SourceKeyExists, create_key

    key_file = settings.home / DEMO_KEY_FILE
    if key_file.exists():
        return key_file
    database = Database(settings.database_url)
    try:
        _, key = create_key(database, "demo")
    except SourceKeyExists:
        console.print(f"[yellow]{key_file} is gone and the demo's key cannot be shown again: make another with "
                      "`learnlake sources add NAME`[/yellow]")
        return key_file
    finally:
        database.dispose()
    key_file.touch(mode=0o600)
    key_file.write_text(key + "\n")
    return key_file


def _run_pipeline(learners: int | None):
    from pipelines.run import run_pipeline

    with console.status("Running the pipeline (simulate, build the warehouse, train)..."):
        return run_pipeline(learners=learners)


def _print_summary(run, settings: Settings, elapsed_s: float | None = None) -> None:
    from lake.readers import scan_table, table_exists

    out = Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title="LearnLake pipeline run" + ("" if run.success else " [red](FAILED)[/red]"), show_header=False)
    table.add_row("dagster run", run.run_id)
    table.add_row("assets materialised", ", ".join(run.materialized) or "none")
    if table_exists("bronze.events", settings):
        rows = scan_table("bronze.events", settings=settings).select("event_id").collect().height
        table.add_row("bronze.events rows", f"{rows:,}")
    published = Path(settings.published_warehouse_path)
    if published.exists():
        import duckdb

        with duckdb.connect(str(published), read_only=True) as con:
            mart_rows = con.execute("select count(*) from marts.fct_course_daily_active_learners").fetchone()[0]
        table.add_row("marts.fct_course_daily_active_learners rows", f"{mart_rows:,}")
    model = run.metadata.get("popularity_recommender", {})
    if model:
        table.add_row("mlflow run id", str(model["mlflow_run_id"]))
        table.add_row("model version", f"{model['model_version']} ({model['promotion']})")
        learners = int(model.get("test_learners", 0))
        table.add_row("held-out recall@10", f"{model['test_recall_at_10']:.3f} (random: "
                      f"{model['random_test_recall_at_10']:.3f}) over {learners:,} learner{'s' * (learners != 1)}")
    tutor = run.metadata.get("tutor_index", {})
    if tutor:
        passages = sum(int(tutor.get(k, 0)) for k in ("added", "updated", "unchanged"))
        table.add_row("tutor passages", f"{passages:,} in {tutor.get('courses', 0)} courses")
    table.add_row("lake", str(settings.lake_uri))
    table.add_row("warehouse (published)", str(published))
    table.add_row("mlflow store", str(settings.mlflow_tracking_uri))
    if elapsed_s is not None:
        table.add_row("elapsed", f"{elapsed_s:.0f} s")
    out.print(table)


def _repo_root() -> Path:
    # pipelines/ sits at the repository root, next to workspace.yaml and dashboards/.
    return Path(importlib.util.find_spec("pipelines").origin).resolve().parents[1]


def _serve(settings: Settings) -> None:
    from serving.main import uvicorn_command

    root = _repo_root()
    bin_dir = Path(sys.executable).parent
    host = settings.api_host
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HF_HUB_OFFLINE": "1",
        "DAGSTER_HOME": str(settings.dagster_home),
        "LEARNLAKE_HOME": str(settings.home),  # children resolve the same paths
        "LEARNLAKE_LOG_FORMAT": "json",  # into their log files, one object a line
        **settings.dbt_env(),
    }
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    services = {
        "api": (uvicorn_command(host, settings.api_port), settings.api_url),
        "dashboards": ([sys.executable, "-m", "streamlit", "run", str(root / "dashboards" / "app.py"),
                        "--server.address", host, "--server.port", str(settings.dashboard_port),
                        "--server.headless", "true", "--browser.gatherUsageStats", "false",
                        "--client.toolbarMode", "viewer"],  # no "Deploy" button: this is the deployment
                       f"http://{host}:{settings.dashboard_port}"),
        "dagster": ([str(bin_dir / "dagster"), "dev", "-w", str(root / "workspace.yaml"), "-h", host,
                     "-p", str(settings.dagster_port)], f"http://{host}:{settings.dagster_port}"),
        "mlflow": ([str(bin_dir / "mlflow"), "server", "--backend-store-uri", settings.mlflow_tracking_uri,
                    "--default-artifact-root", settings.mlflow_artifacts_dir.as_uri(), "--host", host,
                    "--port", str(settings.mlflow_port), "--workers", "1"], f"http://{host}:{settings.mlflow_port}"),
        "pipeline metrics": ([sys.executable, "-c", "from learnlake.cli import main; main()", "pipeline", "metrics"],
                             f"http://{host}:{settings.pipeline_metrics_port}/metrics"),
    }
    procs: dict[str, subprocess.Popen] = {}
    # Ctrl-C and a plain `kill` both stop every service (a background shell ignores SIGINT otherwise).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    table = Table(title="LearnLake is serving (Ctrl-C stops everything)")
    table.add_column("service")
    table.add_column("url")
    # Each service logs to a file of its own, so the terminal keeps this summary (Dagster's run logs are also
    # in its storage and UI): `tail -f .learnlake/logs/api.log`.
    log_paths = {name: logs / f"{name.replace(' ', '_')}.log" for name in services}
    log_files = {name: open(path, "ab") for name, path in log_paths.items()}  # noqa: SIM115
    try:
        for name, (cmd, url) in services.items():
            procs[name] = subprocess.Popen(cmd, cwd=root, env=env, start_new_session=True,
                                           stdout=log_files[name], stderr=subprocess.STDOUT)
            table.add_row(name, url)
        table.add_row("api docs", f"{settings.api_url}/docs")
        table.add_row("api metrics", f"{settings.api_url}/metrics")
        table.add_row("logs", str(logs))
        Console().print(table)
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    console.print(f"[red]{name} exited with code {proc.returncode}; stopping the rest. "
                                  f"The end of {log_paths[name]}:[/red]")
                    console.print(_tail(log_paths[name]), markup=False)
                    raise typer.Exit(1)
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopping...")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for handle in log_files.values():
            handle.close()


def _tail(path: Path, lines: int = 20) -> str:
    with open(path, "rb") as fh:
        fh.seek(max(0, fh.seek(0, os.SEEK_END) - 8192))
        return b"\n".join(fh.read().splitlines()[-lines:]).decode(errors="replace")


def main() -> None:
    """The console script: our own errors are printed as one line, not a traceback."""
    from learnlake.errors import LearnLakeError

    try:
        app()
    except LearnLakeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
