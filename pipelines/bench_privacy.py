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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lake.readers import scan_table
from learnlake.settings import Settings
from pipelines.bench_transform import BASE_EVENTS, _simulate_base, _write_tiles, dbt_build
from pipelines.defs.privacy.erasure import carry_out_erasures
from pipelines.defs.transforms.publish import publish_warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrivacyBenchmark:
    events: int
    learners: int
    events_erased: int
    erasure_s: float  # the whole job: every store, and old versions
    store_s: dict[str, float]  # each store's share
    history_s: float  # vacuum and log clean-up of every table


def run(events: int, learners: int, record: Callable[[Settings, list[str]], None], *, seed: int = 7,
        progress=log.info) -> PrivacyBenchmark:
    """``record`` records the erasure of the given pseudonyms in the home's core database (the CLI does it,
    with the API's own code: pipelines do not import serving)."""
    with tempfile.TemporaryDirectory(prefix="learnlake-bench-privacy-") as home:
        settings = Settings(home=Path(home), erasure_grace_days=0)
        progress(f"writing {events:,} events...")
        base = _simulate_base(min(events, BASE_EVENTS), seed, settings)
        _write_tiles(base, 0, events, settings)
        progress("building and publishing the warehouse...")
        dbt_build(settings)
        publish_warehouse(Path(settings.warehouse_path), Path(settings.published_warehouse_path))
        chosen = _learners_of_the_last_tile(settings, learners)
        doomed = scan_table("bronze.events", settings=settings).filter(pl.col("learner_id").is_in(chosen)) \
            .select(pl.len()).collect().item()
        record(settings, chosen)
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
