"""``learnlake demo`` and ``learnlake serve``: the whole platform end to end on simulated data, then served."""

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from learnlake.cli.common import LearnersOption, console, core_database
from learnlake.cli.db import seed_demo
from learnlake.cli.pipeline import print_summary, run_with_status
from learnlake.settings import Settings, get_settings

DEMO_KEY_FILE = "demo_source_key"  # under the home: the demo's source key


def demo(
    learners: LearnersOption = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve everything afterwards.")] = True,
) -> None:
    """Run the whole platform end to end on simulated data, then serve it."""
    from serving.core.source_keys import write_key_file

    started = time.monotonic()
    settings = get_settings()
    if serve_after:  # a taken port is said now, not after the pipeline's run
        from learnlake.supervisor import check_ports

        check_ports(_platform_services(settings))
    seed_demo(learners)
    key_file = settings.home / DEMO_KEY_FILE
    with core_database() as database:
        if not write_key_file(database, "demo", key_file):
            console.print(f"[yellow]{key_file} is gone and the demo's key cannot be shown again: make another with "
                          "`learnlake sources add NAME`[/yellow]")
    run = run_with_status(learners)
    print_summary(run, settings, elapsed_s=time.monotonic() - started)
    console.print(f"The demo's source key (events and xAPI, source 'demo') is in {key_file}: "
                  f"curl -H \"Authorization: Bearer $(cat {key_file})\" {settings.api_url}/v1/ingest/status")
    if not run.success:
        raise typer.Exit(1)
    if serve_after:
        _serve(settings)


def serve() -> None:
    """Serve the API, the dashboards, the Dagster UI and the MLflow UI until Ctrl-C."""
    _serve(get_settings())


def _platform_services(settings: Settings) -> list:
    from learnlake.supervisor import platform_services
    from serving.main import uvicorn_command

    return platform_services(settings, uvicorn_command(settings.api_host, settings.api_port))


def _serve(settings: Settings) -> None:
    from learnlake.supervisor import ServiceExited, service_environment, supervise
    from models.tracking import prepare_tracking_store
    from pipelines.run import write_instance_config

    services = _platform_services(settings)
    env = {**service_environment(settings), **write_instance_config(settings)}
    logs = settings.home / "logs"
    prepare_tracking_store(settings)  # before the services that share it start

    def show_addresses() -> None:
        table = Table("service", "url", title="LearnLake is serving (Ctrl-C stops everything)")
        for service in services:
            table.add_row(service.name, service.url)
        table.add_row("api docs", f"{settings.api_url}/docs")
        table.add_row("api metrics", f"{settings.api_url}/metrics")
        table.add_row("logs", str(logs))
        Console().print(table)

    console.print(f"Starting {', '.join(service.name for service in services)}: their addresses follow once each "
                  "takes connections (the Dagster UI is the slowest: about a minute on two cores)...")
    try:
        supervise(services, env=env, logs=logs, started=show_addresses)
    except ServiceExited as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    console.print("stopped")
