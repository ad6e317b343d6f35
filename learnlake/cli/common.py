"""What the command groups share: the error console, the ``--json`` option, one-line errors, figures."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from learnlake.settings import get_settings

console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
LearnersOption = Annotated[int | None, typer.Option(help="Simulated learners (default: LEARNLAKE_LEARNERS).", min=1)]
DataDirOption = Annotated[Path, typer.Option("--data-dir", help="A directory in the layout of shared/data/README.md.",
                                             exists=True, file_okay=False)]
BookOption = Annotated[Path, typer.Option("--content-dir", help="An OpenStax book (collections/, modules/).",
                                          exists=True, file_okay=False)]
QuestionsOption = Annotated[Path, typer.Option("--questions-dir", help="H5P questions (content.json, metadata.json).",
                                               exists=True, file_okay=False)]


@contextmanager
def clear_errors(what: str):
    """A data or model problem ends the command with its reason in one red line, not a traceback."""
    from learnlake.errors import LearnLakeError

    try:
        yield
    except LearnLakeError as exc:
        console.print(f"[red]{what}: {exc}[/red]")
        raise typer.Exit(1) from exc


@contextmanager
def core_database(*, upgrade_server: bool = False) -> Iterator:
    """The core database of these settings, for one command: an embedded one is created and migrated on
    first use; a server database is migrated only where the command says so (``db upgrade``, seeding)."""
    from serving.core.migrate import migrated_database

    with migrated_database(get_settings().database_url, upgrade_server=upgrade_server) as database:
        yield database


def print_figures(figures: dict, *, as_json: bool, title: str) -> None:
    """A command's figures: one JSON line on stdout, or a table for people."""
    if as_json:
        print(json.dumps(figures, default=str))
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
