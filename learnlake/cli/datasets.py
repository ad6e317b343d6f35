"""``learnlake datasets``: real public datasets into the lake (and an OpenStax book into the core database)."""

from pathlib import Path
from typing import Annotated

import typer

from learnlake.cli.common import console, core_database
from learnlake.settings import get_settings

app = typer.Typer(help="Real public datasets into the lake.", no_args_is_help=True)


@app.command("load")
def datasets_load(
    name: Annotated[str, typer.Argument(help="assistments, kddcup2015, oulad or openstax")],
    data_dir: Annotated[Path, typer.Option("--data-dir", help="A directory in the layout of shared/data/README.md")],
) -> None:
    """Load a real dataset: events (and labels) into the lake, or (openstax) a book as a course.

    Loading the same files again adds nothing.
    """
    from lake.sources.datasets.loading import load_dataset

    data_dir = data_dir.expanduser().resolve()
    if name == "openstax":
        _import_openstax(data_dir)
        return
    with console.status(f"Loading {name} from {data_dir}..."):
        report = load_dataset(name, data_dir, get_settings())
    labels = "".join(f", {rows:,} rows to {table}" for table, rows in report.labels.items())
    if report.appended:
        console.print(f"{name}: {report.events:,} events to bronze.events{labels}")
    else:
        console.print(f"{name}: these files were loaded before ({report.app_id}); nothing added")


def _import_openstax(data_dir: Path) -> None:
    """A book is course content: it goes to the core database, and from there to the lake."""
    from lake.sources.datasets.openstax import read_book
    from serving.core.imports import import_book
    from serving.core.outbox import Outbox

    book = read_book(data_dir)
    with core_database(upgrade_server=True) as database:
        report = import_book(database, Outbox.for_settings(get_settings()), book)
    console.print(f"openstax: {book.title!r} is course {report.course_id} "
                  f"({'created' if report.created else 'already there'}): {report.sections_added} sections added, "
                  f"{report.sections_updated} updated, in {len(book.chapters)} modules")
