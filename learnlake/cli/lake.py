"""``learnlake lake``: Delta table maintenance."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from learnlake.cli.common import console

app = typer.Typer(help="Delta table maintenance.", no_args_is_help=True)

TableArgument = Annotated[str, typer.Argument(help="A catalogued table, e.g. bronze.events.")]


@app.command("optimize")
def lake_optimize(table: TableArgument) -> None:
    """Compact small files of a table into larger ones."""
    from lake import maintenance

    metrics = maintenance.optimize(table)
    Console().print_json(data={k: v for k, v in metrics.items() if isinstance(v, int | float | str)})


@app.command("vacuum")
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


@app.command("history")
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
