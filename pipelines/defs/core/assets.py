"""Core API -> lake: domain events relayed from the outbox, and snapshots of the core tables."""

import dagster as dg

from lake import writers
from lake.catalog import CORE_SNAPSHOTS
from lake.sources.core_outbox import outbox_relay_for
from lake.sources.core_snapshot import empty_table, snapshot_core_tables
from pipelines.defs.resources import LearnLake

CORE_KEYS = {name: dg.AssetKey(name.split(".")) for name in CORE_SNAPSHOTS}


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="core", kinds={"deltalake"}, description=CORE_SNAPSHOTS[name][2])
           for name, key in CORE_KEYS.items()],
    description="Relays the core API's outbox into bronze.events, then merges the rows changed since the last "
                "snapshot into bronze.core_* (pseudonymous: no e-mail or name).",
)
def core_snapshots(context: dg.AssetExecutionContext, learnlake: LearnLake):
    settings = learnlake.settings()
    relay = outbox_relay_for(settings)
    if relay is None:
        # Empty tables still: the transforms read them, also for lakes fed by datasets only.
        context.log.info("no migrated core database yet: the core tables stay empty")
        for name, key in CORE_KEYS.items():
            writers.merge(name, empty_table(name), settings=settings)
            yield dg.MaterializeResult(asset_key=key, metadata={"skipped": "no core database"})
        return
    try:
        relayed = relay.relay()
    finally:
        relay.close()
    context.log.info(f"{relayed.events} domain events relayed to bronze.events")
    report = snapshot_core_tables(settings.database_url, settings)
    for name, key in CORE_KEYS.items():
        yield dg.MaterializeResult(asset_key=key, metadata={**report[name], "relayed_domain_events": relayed.events})
