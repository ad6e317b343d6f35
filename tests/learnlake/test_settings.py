from pathlib import Path

import pytest

from learnlake.errors import ConfigurationError
from learnlake.settings import Settings


def test_every_path_defaults_under_dot_learnlake_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    home = tmp_path / ".learnlake"
    assert settings.home == home
    assert Path(settings.lake_uri) == home / "lake"
    assert settings.warehouse_path == home / "warehouse.duckdb"
    assert settings.published_warehouse_path == home / "published" / "warehouse.duckdb"
    assert settings.mlflow_tracking_uri == f"sqlite:///{home / 'mlflow.db'}"
    assert settings.mlflow_artifacts_dir == home / "mlartifacts"
    assert settings.dagster_home == home / "dagster"


def test_variables_with_the_prefix_override(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNLAKE_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("LEARNLAKE_LAKE_URI", "s3://bucket/lake")
    monkeypatch.setenv("LEARNLAKE_API_PORT", "9000")
    settings = Settings()
    assert settings.lake_uri == "s3://bucket/lake"
    assert settings.warehouse_path == tmp_path / "elsewhere" / "warehouse.duckdb"
    assert settings.api_url == "http://127.0.0.1:9000"


def test_production_refuses_placeholder_secrets(monkeypatch):
    monkeypatch.setenv("LEARNLAKE_ENVIRONMENT", "production")
    with pytest.raises(ConfigurationError, match="LEARNLAKE_PSEUDONYM_KEY"):
        Settings()
    monkeypatch.setenv("LEARNLAKE_PSEUDONYM_KEY", "a-real-secret-from-the-vault")
    with pytest.raises(ConfigurationError, match="LEARNLAKE_XAPI_PASSWORD"):
        Settings()
    monkeypatch.setenv("LEARNLAKE_XAPI_PASSWORD", "another-real-secret")
    with pytest.raises(ConfigurationError, match="LEARNLAKE_JWT_SECRET"):
        Settings()
    monkeypatch.setenv("LEARNLAKE_JWT_SECRET", "too-short")
    with pytest.raises(ConfigurationError, match="at least 32"):
        Settings()
    monkeypatch.setenv("LEARNLAKE_JWT_SECRET", "x" * 48)
    assert Settings().environment == "production"


def test_placeholders_are_refused_outside_development_too(monkeypatch):
    monkeypatch.setenv("LEARNLAKE_ENVIRONMENT", "test")
    with pytest.raises(ConfigurationError, match="LEARNLAKE_ENVIRONMENT=test"):
        Settings()


def test_the_core_database_defaults_to_sqlite_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNLAKE_HOME", str(tmp_path))
    assert Settings().database_url == f"sqlite:///{tmp_path / 'core.db'}"
