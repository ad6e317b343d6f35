"""Core API -> lake: the outbox relay and the snapshots of the core tables."""

import dagster as dg


def definitions() -> dg.Definitions:
    from pipelines.defs.core.assets import core_snapshots

    return dg.Definitions(assets=[core_snapshots])
