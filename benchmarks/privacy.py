"""`learnlake bench privacy`: how long erasing K learners from a lake of N events takes.

In a fresh, throwaway home: N events written as ``bench transform`` writes them (a simulated
platform tiled over new learners), the warehouse built and published, then K learners of the last
tile erased together: the ``privacy_erasure`` job's work in every store (landing logs, the lake's
Delta tables, the warehouse rewritten and published, the online store) and, with a grace period
of 0, the removal of old Delta versions. Erasures are one rewrite per table however many learners
they name, so K=100 should cost about what K=1 does.
"""

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from benchmarks.transform import BASE_EVENTS, simulate_base, write_tiles
from lake.readers import scan_table
from learnlake.settings import Settings
from pipelines.defs.privacy.erasure import carry_out_erasures
from pipelines.defs.transforms.project import dbt_build
from pipelines.defs.transforms.publish import publish_warehouse
from serving.core.migrate import migrated_database
from serving.core.privacy import erase_pseudonyms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrivacyBenchmark:
    events: int
    learners: int
    events_erased: int
    erasure_s: float  # the whole job: every store, and old versions
    store_s: dict[str, float]  # each store's share
    history_s: float  # vacuum and log clean-up of every table


def run(events: int, learners: int, *, seed: int = 7, progress=log.info) -> PrivacyBenchmark:
    with tempfile.TemporaryDirectory(prefix="learnlake-bench-privacy-") as home:
        settings = Settings(home=Path(home), erasure_grace_days=0)
        progress(f"writing {events:,} events...")
        base = simulate_base(min(events, BASE_EVENTS), seed, settings)
        write_tiles(base, 0, events, settings)
        progress("building and publishing the warehouse...")
        dbt_build(settings)
        publish_warehouse(Path(settings.warehouse_path), Path(settings.published_warehouse_path))
        chosen = _learners_of_the_last_tile(settings, learners)
        doomed = scan_table("bronze.events", settings=settings).filter(pl.col("learner_id").is_in(chosen)) \
            .select(pl.len()).collect().item()
        _record_erasure(settings, chosen)
        progress(f"erasing {len(chosen)} learners ({doomed:,} events)...")
        started = time.monotonic()
        (result, *_) = carry_out_erasures(settings)
        total = time.monotonic() - started
    stores = {store: state.get("seconds", 0.0) for store, state in result["stores"].items() if "seconds" in state}
    if not result["done"]:
        raise RuntimeError(f"the erasure did not finish: {result['stores']}")
    return PrivacyBenchmark(events, len(chosen), doomed, round(total, 2), stores,
                            round(total - sum(stores.values()), 2))


def _learners_of_the_last_tile(settings: Settings, k: int) -> list[str]:
    """Learners whose events exist only under their own id (tiles copy the base events' payloads, so the
    first tile's learners are named in every tile's payloads: a case no real lake has)."""
    learners = scan_table("bronze.events", settings=settings).select("learner_id").unique().collect()["learner_id"]
    tiled = sorted(learners, key=lambda learner: (-int(learner.rsplit("~", 1)[1]) if "~" in learner else 0, learner))
    return tiled[:k]


def _record_erasure(settings: Settings, pseudonyms: list[str]) -> None:
    """The erasure requested as the API requests one: recorded in the home's core database."""
    with migrated_database(settings.database_url) as database:
        erase_pseudonyms(database, pseudonyms, requested_by="bench")
