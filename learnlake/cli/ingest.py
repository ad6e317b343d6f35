"""``learnlake ingest``: the ingestion landing logs."""

import typer

from learnlake.cli.common import console
from learnlake.settings import get_settings

app = typer.Typer(help="The ingestion landing logs.", no_args_is_help=True)


@app.command("flush")
def ingest_flush() -> None:
    """Commit everything waiting in the landing logs, and the core API's outbox, to bronze.events.

    Safe beside a running API: committers of one landing log take turns (a file lock), outbox
    relays too (a lease in the database), and Delta transaction ids skip what is already in.
    """
    from lake.committer import flush_landing_logs
    from lake.sources.core_outbox import relay_outbox

    settings = get_settings()
    flushed = flush_landing_logs(settings)
    for name, stats in flushed.items():
        console.print(f"{name}: {stats.committed:,} events committed, {stats.dead_letters:,} dead letters, "
                      f"up to batch {stats.last_seq}")
    if not flushed:
        console.print(f"no landing logs under {settings.landing_dir}")
    relayed = relay_outbox(settings)
    if relayed is None:
        console.print("no core database yet: no domain events to relay")
        return
    console.print(f"outbox: {relayed.events:,} domain events relayed in {relayed.batches} batches")
