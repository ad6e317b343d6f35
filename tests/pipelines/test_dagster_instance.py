"""The Dagster instance LearnLake writes from its settings: SQLite files under its home by default, PostgreSQL
(dagster-postgres) with LEARNLAKE_DAGSTER_DATABASE_URL, shared by the daemon, the webserver, the runs and the CLI."""

import dagster as dg
import yaml

from pipelines.run import dagster_instance, write_instance_config
from tests.postgres import fresh_database


def test_by_default_the_instance_keeps_its_runs_in_files_under_its_home(learnlake_home):
    env = write_instance_config(learnlake_home)
    config = yaml.safe_load((learnlake_home.dagster_home / "dagster.yaml").read_text())
    assert env == {"DAGSTER_HOME": str(learnlake_home.dagster_home)}
    assert "storage" not in config and config["telemetry"] == {"enabled": False}


def test_with_a_database_url_runs_events_and_schedules_are_in_postgresql(learnlake_home, monkeypatch):
    with fresh_database(core=False) as url:  # SQLAlchemy's psycopg 3 URL, as every other LearnLake database takes it
        settings = learnlake_home.model_copy(update={"dagster_database_url": url})
        for name in ("DAGSTER_HOME", "LEARNLAKE_DAGSTER_DATABASE_URL"):  # set by dagster_instance: put back after
            monkeypatch.setenv(name, "")
        env = write_instance_config(settings)
        config = yaml.safe_load((settings.dagster_home / "dagster.yaml").read_text())
        assert config["storage"] == {"postgres": {"postgres_url": {"env": "LEARNLAKE_DAGSTER_DATABASE_URL"}}}
        assert url not in (settings.dagster_home / "dagster.yaml").read_text()  # the password stays in the env
        assert env["LEARNLAKE_DAGSTER_DATABASE_URL"].startswith("postgresql+psycopg2://")  # dagster-postgres's driver
        assert config["run_queue"] == {"max_concurrent_runs": 1}
        with dagster_instance(settings) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            run = instance.create_run_for_job(dg.GraphDefinition("nothing").to_job())
            assert instance.get_run_by_id(run.run_id) is not None
