"""The online feature store, materialised from the published warehouse after each build."""

from datetime import UTC, datetime

import dagster as dg

from feature_store.online import materialize, online_store
from lake.warehouse import published_warehouse as published_warehouse_connection
from pipelines.defs.resources import LearnLake
from pipelines.defs.transforms.assets import published_warehouse


@dg.asset(deps=[published_warehouse], group_name="features", kinds={"sqlite", "redis"},
          description="Each entity's latest feature values for serving (SQLite, or Redis with LEARNLAKE_REDIS_URL).")
def online_features(context: dg.AssetExecutionContext, learnlake: LearnLake) -> dg.MaterializeResult:
    settings = learnlake.settings()
    as_of = datetime.now(UTC)
    with published_warehouse_connection(settings) as con:
        written = materialize(con, online_store(settings), as_of=as_of)
    context.log.info(f"online features as of {as_of:%Y-%m-%d %H:%M} UTC: {written}")
    return dg.MaterializeResult(metadata={"as_of": as_of.isoformat(), **{f"rows.{k}": v for k, v in written.items()}})
