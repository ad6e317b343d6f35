"""What the command groups share: the error console, the ``--json`` option, one-line errors."""

from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@contextmanager
def clear_errors(what: str):
    """A data or model problem ends the command with its reason in one red line, not a traceback."""
    from learnlake.errors import LearnLakeError

    try:
        yield
    except LearnLakeError as exc:
        console.print(f"[red]{what}: {exc}[/red]")
        raise typer.Exit(1) from exc
