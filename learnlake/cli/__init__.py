"""The ``learnlake`` command line: one module per command group, each thin (parse, call, print).

Commands import the rest of the project lazily, inside each command, so that the kernel
itself depends on nothing else of the project (ARCHITECTURE.md) and ``--help`` is fast.
"""

import os
import sys

import typer

from learnlake.cli import (
    bench,
    datasets,
    db,
    demo,
    doctor,
    ingest,
    lake,
    models,
    pipeline,
    privacy,
    services,
    sources,
    tutor,
)
from learnlake.cli.common import console
from learnlake.logging import configure_logging
from learnlake.settings import get_settings

app = typer.Typer(help="LearnLake: a lakehouse data and ML platform for online learning.", no_args_is_help=True)
app.add_typer(pipeline.app, name="pipeline")
app.add_typer(ingest.app, name="ingest")
app.add_typer(lake.app, name="lake")
app.add_typer(datasets.app, name="datasets")
app.add_typer(db.app, name="db")
app.add_typer(bench.app, name="bench")
app.add_typer(tutor.app, name="tutor")
app.add_typer(models.eval_app, name="eval")
app.add_typer(sources.app, name="sources")
app.add_typer(privacy.app, name="privacy")
app.command()(models.train)
app.command()(demo.demo)
app.command()(demo.serve)
app.command()(services.api)
app.command()(services.dashboards)
app.command()(doctor.doctor)


@app.callback()
def _main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded at run time
    configure_logging(get_settings().log_level, get_settings().log_format)


def main() -> None:
    """The console script: our own errors are printed as one line, not a traceback."""
    from learnlake.errors import LearnLakeError

    try:
        app()
    except LearnLakeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
