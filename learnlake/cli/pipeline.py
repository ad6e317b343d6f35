"""``learnlake pipeline``: run the Dagster assets in this process, serve their metrics, close event days; start
Dagster's daemon and webserver as the services of a deployment."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from learnlake.cli.common import JsonOption, clear_errors, console
from learnlake.settings import Settings, get_settings

app = typer.Typer(help="Run the Dagster assets in this process, or Dagster's daemon and webserver.",
                  no_args_is_help=True)

PipelineLearnersOption = Annotated[int | None, typer.Option(
    help="Simulated learners to add (default: LEARNLAKE_LEARNERS); 0: none, the lake's own events only.", min=0)]


@app.command("run")
def pipeline_run(learners: PipelineLearnersOption = None) -> None:
    """Materialise every asset: events -> dbt warehouse -> published copy -> models."""
    run = run_with_status(learners)
    print_summary(run, get_settings())
    if not run.success:
        raise typer.Exit(1)


@app.command("metrics")
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


@app.command("daemon")
def pipeline_daemon() -> None:
    """Run Dagster's daemon on this instance: the schedules, the bronze.events sensor, the run queue (each run in
    a process of its own). One per deployment; with LEARNLAKE_DAGSTER_DATABASE_URL its state is in PostgreSQL."""
    _exec_dagster("dagster-daemon", "run")


@app.command("webserver")
def pipeline_webserver(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: LEARNLAKE_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: LEARNLAKE_DAGSTER_PORT).")] = None,
) -> None:
    """Run Dagster's UI on this instance (as many as wanted: it keeps no state of its own)."""
    settings = get_settings()
    _exec_dagster("dagster-webserver", "-h", host or settings.api_host, "-p", str(port or settings.dagster_port))


def _exec_dagster(program: str, *args: str) -> None:
    """Become ``program`` on LearnLake's workspace, with the instance's ``dagster.yaml`` written for the settings."""
    import sys
    from pathlib import Path

    from learnlake.cli.services import become
    from learnlake.supervisor import repo_root
    from pipelines.defs.transforms.project import manifest_is_current, prepare_manifest
    from pipelines.run import write_instance_config

    if not manifest_is_current():  # the dbt assets are defined from the project's manifest
        prepare_manifest()
    binary = str(Path(sys.executable).parent / program)
    become([binary, *args, "-w", str(repo_root() / "workspace.yaml")], write_instance_config(get_settings()))


@app.command("close-days")
def pipeline_close_days(
    days: Annotated[list[str] | None, typer.Argument(
        help="Days to close, YYYY-MM-DD (default: every day bronze.events holds, up to yesterday).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Close days of bronze.events (the daily partitions): compact each day's files and count its events."""
    from rich.progress import track

    from pipelines.defs.lake.event_days import closable_days
    from pipelines.run import close_event_days

    days = days or closable_days()
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


def run_with_status(learners: int | None):
    from pipelines.run import run_pipeline

    with console.status("Running the pipeline (simulate, build the warehouse, train)..."):
        return run_pipeline(learners=learners)


def print_summary(run, settings: Settings, elapsed_s: float | None = None) -> None:
    import sys

    from pipelines.run import run_summary

    table = Table(title="LearnLake pipeline run" + ("" if run.success else " [red](FAILED)[/red]"), show_header=False)
    for name, value in run_summary(run, settings).items():
        table.add_row(name, value)
    if elapsed_s is not None:
        table.add_row("elapsed", f"{elapsed_s:.0f} s")
    Console(width=None if sys.stdout.isatty() else 160).print(table)
