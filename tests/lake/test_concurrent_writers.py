"""Two processes committing to the same Delta table at once: optimistic concurrency, retried."""

import os
import subprocess
import sys

import polars as pl
import pytest

from lake import readers

pytestmark = pytest.mark.integration

WRITER = """
import sys
from lake import writers
from lake.sources.simulator import SimulationConfig, simulate
name, batches = sys.argv[1], int(sys.argv[2])
events = simulate(SimulationConfig(learners=30, days=14, seed=int(name[-1]))).events.to_arrow()
size = events.num_rows // batches
for version in range(1, batches + 1):
    part = events.slice((version - 1) * size, size)
    writers.append("bronze.events", part, app_id=name, batch_version=version)
print(batches * size)
"""


def test_two_committers_never_corrupt_the_table(learnlake_home):
    env = {**os.environ, "LEARNLAKE_HOME": str(learnlake_home.home)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, f"writer{i}", "25"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    written = 0
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        written += int(out.strip().splitlines()[-1])
    table = readers.read_table("bronze.events")
    assert table.height == written
    assert table["event_id"].n_unique() == written
    delta = readers.open_table("bronze.events")
    assert delta.version() == 49  # 50 commits, none lost, none doubled
    assert delta.transaction_version("writer1") == 25 and delta.transaction_version("writer2") == 25
    assert table.group_by("source").len().sort("source").to_dicts() == [{"source": "simulator", "len": written}]
    assert pl.read_delta(str(delta.table_uri)).height == written  # a fresh reader sees the same
