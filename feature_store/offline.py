"""Point-in-time training frames: each label row gets the feature values known at its timestamp.

``training_frame`` takes an entity frame (join keys, ``event_timestamp`` = when the label is
observed, and any label columns) and, for every view of a feature service, joins the latest
row with ``feature_timestamp <= event_timestamp`` (a DuckDB ASOF join). A value older than the
view's TTL is dropped (null), and ``<view>__age_days`` says how old the joined values were:
how long since that learner or course last had something to count. No value stamped after
its label's timestamp can enter a frame.
"""

from datetime import datetime

import duckdb
import polars as pl

from feature_store.definitions import FeatureService, FeatureView

EVENT_TIMESTAMP = "event_timestamp"


def history(con: duckdb.DuckDBPyConnection, view: FeatureView, *, before: datetime | None = None) -> pl.DataFrame:
    """A view's rows stamped before ``before`` (every row without it): keys, feature_timestamp, features.

    What a model trains on as of a cut-off; the online store's sequences are built on the same views as of
    their own moment. Rows come in each first key's time order (a learner's history oldest first)."""
    first, *rest = view.entity.join_keys
    where = "where feature_timestamp < $before" if before is not None else ""
    order = ", ".join([first, "feature_timestamp", *rest])
    return con.sql(f"select * from ({view.query}) {where} order by {order}",
                   params={"before": before} if before is not None else None).pl()


def training_frame(con: duckdb.DuckDBPyConnection, entities: pl.DataFrame, service: FeatureService) -> pl.DataFrame:
    """The entity frame with the service's features as of each row's ``event_timestamp``."""
    missing = [k for k in [*service.join_keys, EVENT_TIMESTAMP] if k not in entities.columns]
    if missing:
        raise ValueError(f"the entity frame lacks {missing}; service {service.name!r} joins on "
                         f"{service.join_keys} and {EVENT_TIMESTAMP!r}")
    frame = entities.with_columns(pl.col(EVENT_TIMESTAMP).dt.replace_time_zone("UTC")
                                  if entities.schema[EVENT_TIMESTAMP].time_zone is None
                                  else pl.col(EVENT_TIMESTAMP))
    frame = frame.with_row_index("__row")
    con.register("__entities", frame.to_arrow())
    try:
        selected = ["e.*"]
        joins = []
        for i, (view, features) in enumerate(service.views):
            alias = f"v{i}"
            keys = " and ".join(f"e.{k} = {alias}.{k}" for k in view.entity.join_keys)
            fresh = f"e.{EVENT_TIMESTAMP} - {alias}.feature_timestamp <= interval '{int(view.ttl.total_seconds())} seconds'"
            for feature in features:
                selected.append(f"case when {fresh} then {alias}.{feature} end as \"{view.column(feature)}\"")
            selected.append(f"case when {fresh} then date_diff('second', {alias}.feature_timestamp, "
                            f"e.{EVENT_TIMESTAMP}) / 86400.0 end as \"{view.age_column}\"")
            joins.append(f"asof left join ({view.query}) as {alias} "
                         f"on {keys} and e.{EVENT_TIMESTAMP} >= {alias}.feature_timestamp")
        sql = f"select {', '.join(selected)} from __entities as e {' '.join(joins)} order by e.__row"
        joined = con.sql(sql).pl().drop("__row")
    finally:
        con.unregister("__entities")
    # DuckDB hands timestamps back in its own zone and units: give the caller's columns back as they were.
    return joined.with_columns(pl.col(c).cast(frame.schema[c]) for c in entities.columns)


def feature_columns(service: FeatureService) -> list[str]:
    """The frame columns a model of this service reads: features, and the age of each view's values."""
    return service.columns + [view.age_column for view, _ in service.views]
