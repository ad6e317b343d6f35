"""What ``/metrics`` reads when Prometheus scrapes: the state of this API process and of the lake.

Read from the same functions the Operations page, ``/v1/ingest/status`` and ``learnlake doctor``
use (``lake.committer_health.ingestion_report``, ``lake.maintenance.table_files``), so the four
never disagree. The committer runs in a process of its own; its counts come from the health file
it writes after every commit.
"""

import logging
import time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from lake.committer_health import COMMIT_BUCKETS_S, STALLED_STATES, ingestion_report
from lake.maintenance import table_files

log = logging.getLogger(__name__)

COMMITTER_STATES = ("ok", "idle", "failing", "stalled", "not_running")
TABLES_EVERY_S = 60.0  # reading every table's Delta log is too much for each scrape, unless events were committed


class ServingState(Collector):
    """Landing backlog, committer health, Delta tables and champion versions of one API app."""

    def __init__(self, app) -> None:
        self.app = app
        self._tables: tuple[float, int, list[dict]] = (float("-inf"), 0, [])  # read at, commits then, figures
        self._commits = 0  # the committer's commits at the last scrape

    def collect(self):
        yield from self._ingestion()
        yield from self._champions()
        yield from self._realtime()
        yield from self._lake_tables()

    def _ingestion(self):
        landing = getattr(self.app.state, "landing", None)
        if landing is None:  # the app has not started yet
            return
        report = ingestion_report(landing, stalled_after_s=self.app.state.settings.ingest_stalled_after_s)
        health, writer = report["committer"], [report["writer_id"]]
        self._commits = health["commits"]
        gauges = {
            "learnlake_landing_backlog_batches": ("Landed batches not yet in Delta", report["backlog_batches"]),
            "learnlake_landing_backlog_events": ("Landed events not yet in Delta", report["backlog_events"]),
            "learnlake_landing_oldest_pending_age_seconds": (
                "Age of the oldest landed batch not yet in Delta (ack-to-commit lag)", health["lag_s"]),
            "learnlake_committer_consecutive_failures": ("Committer flushes failed in a row",
                                                          health["consecutive_failures"]),
            "learnlake_committer_last_commit_timestamp_seconds": ("When the committer last committed events",
                                                                  health["last_commit_at"] or 0),
        }
        for name, (help_text, value) in gauges.items():
            family = GaugeMetricFamily(name, help_text, labels=["writer"])
            family.add_metric(writer, value)
            yield family
        state = GaugeMetricFamily("learnlake_committer_state", "The committer's state (1 for the current one)",
                                  labels=["writer", "state"])
        for name in COMMITTER_STATES:
            state.add_metric([*writer, name], float(health["state"] == name))
        yield state
        stalled = GaugeMetricFamily("learnlake_ingestion_stalled",
                                    "1 when acknowledged events are not reaching Delta (failing, stalled or "
                                    "not running)", labels=["writer"])
        stalled.add_metric(writer, float(health["state"] in STALLED_STATES))
        yield stalled
        counters = {
            "learnlake_committed_events": ("Events the committer has put in Delta", health["committed_events"]),
            "learnlake_dead_letters": ("Landed records that could not become events (bronze.dead_letters)",
                                       health["dead_letters"]),
            "learnlake_delta_commit_conflicts": ("Delta commits that lost to another writer and were retried",
                                                 health["conflicts"]),
            "learnlake_committer_failed_flushes": ("Committer flushes that failed (retried on the next tick)",
                                                   health["failed_flushes"]),
        }
        for name, (help_text, value) in counters.items():
            family = CounterMetricFamily(name, help_text, labels=["writer"])
            family.add_metric(writer, value)
            yield family
        commits = HistogramMetricFamily("learnlake_delta_commit_duration_seconds",
                                        "Time of each Delta commit of events", labels=["writer"])
        buckets = [(str(bound), count) for bound, count in zip(COMMIT_BUCKETS_S, health["commit_buckets"],
                                                               strict=False)]
        commits.add_metric(writer, [*buckets, ("+Inf", health["commits"])], sum_value=health["commit_seconds"])
        yield commits

    def _realtime(self):
        hub = getattr(self.app.state, "hub", None)
        family = GaugeMetricFamily("learnlake_realtime_connections", "WebSocket clients connected to this replica")
        family.add_metric([], float(hub.connections() if hub is not None else 0))
        yield family

    def _champions(self):
        family = GaugeMetricFamily("learnlake_champion_version",
                                   "Registry version of the champion each model is served from", labels=["model"])
        models = getattr(self.app.state, "learner_models", None)
        caches = [self.app.state.popularity] if hasattr(self.app.state, "popularity") else []
        if models is not None:
            caches += [models.knowledge_tracing, models.next_items, models.dropout]
        for cache in caches:
            loaded = cache.loaded
            if loaded is not None and loaded.version.isdigit():
                family.add_metric([cache.model_name], float(loaded.version))
        yield family

    def _lake_tables(self):
        read_at, commits, tables = self._tables
        if time.monotonic() - read_at >= TABLES_EVERY_S or commits != self._commits:
            try:
                tables = table_files(self.app.state.settings)
            except Exception:  # an unreadable table must not take every other metric down with it
                log.warning("could not read the Delta tables for /metrics", exc_info=True)
            self._tables = (time.monotonic(), self._commits, tables)
        families = {
            "files": GaugeMetricFamily("learnlake_delta_table_files", "Data files in a table's current version",
                                       labels=["table"]),
            "small_files": GaugeMetricFamily("learnlake_delta_table_small_files",
                                             "Data files under 8 MiB (compacted by `learnlake lake optimize`)",
                                             labels=["table"]),
            "size_bytes": GaugeMetricFamily("learnlake_delta_table_bytes", "Bytes in a table's current version",
                                            labels=["table"]),
            "version": GaugeMetricFamily("learnlake_delta_table_version", "A table's current Delta version",
                                         labels=["table"]),
        }
        for table in tables:
            for key, family in families.items():
                family.add_metric([table["table"]], table[key])
        yield from families.values()
