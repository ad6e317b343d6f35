import orjson
from typer.testing import CliRunner

from lake import readers, writers
from lake.event_rows import row_to_native
from lake.landing import LandingLog
from lake.sources.simulator import SimulationConfig, simulate
from learnlake.cli import app
from learnlake.settings import get_settings


def test_lake_history_optimize_and_vacuum(learnlake_home):
    events = simulate(SimulationConfig(learners=5, days=7)).events.to_arrow()
    writers.append("bronze.events", events.slice(0, 100))
    writers.append("bronze.events", events.slice(100))
    runner = CliRunner()
    history = runner.invoke(app, ["lake", "history", "bronze.events"])
    assert history.exit_code == 0, history.output
    assert "WRITE" in history.output
    optimized = runner.invoke(app, ["lake", "optimize", "bronze.events"])
    assert optimized.exit_code == 0 and "numFilesRemoved" in optimized.output
    vacuum = runner.invoke(app, ["lake", "vacuum", "bronze.events"])
    assert vacuum.exit_code == 0 and "would delete" in vacuum.output
    assert readers.read_table("bronze.events").height == events.num_rows
    unknown = runner.invoke(app, ["lake", "history", "bronze.nope"])
    assert unknown.exit_code != 0 and "unknown table" in str(unknown.exception)


def test_ingest_flush_commits_every_landing_log(learnlake_home):
    natives = [row_to_native(r) for r in simulate(SimulationConfig(learners=5, days=7)).events.head(60)
               .iter_rows(named=True)]
    for writer, part in (("api-0", natives[:40]), ("api-1", natives[40:])):
        log = LandingLog(learnlake_home.landing_dir / writer, writer)
        log.append([n["event_id"] for n in part], orjson.dumps(part), source="api")
        log.close()
    result = CliRunner().invoke(app, ["ingest", "flush"])
    assert result.exit_code == 0, result.output
    assert readers.read_table("bronze.events").height == 60


def test_with_no_simulated_learners_seeding_says_so_and_writes_nothing(learnlake_home, monkeypatch):
    monkeypatch.setenv("LEARNLAKE_LEARNERS", "0")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["db", "seed"])
    assert result.exit_code == 2 and "no simulated platform to seed" in result.output
    assert not (learnlake_home.home / "core.db").exists()
