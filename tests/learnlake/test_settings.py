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


def test_production_refuses_placeholder_and_short_secrets(monkeypatch):
    # Each step sets one variable, and the next refusal names what is still wrong.
    steps = [("LEARNLAKE_ENVIRONMENT", "production", "LEARNLAKE_PSEUDONYM_KEY is left at its development placeholder"),
             ("LEARNLAKE_PSEUDONYM_KEY", "a-real-secret-but-short", "LEARNLAKE_PSEUDONYM_KEY must be at least 32"),
             ("LEARNLAKE_PSEUDONYM_KEY", "p" * 40, "LEARNLAKE_JWT_SECRET is left at its development placeholder"),
             ("LEARNLAKE_JWT_SECRET", "too-short", "LEARNLAKE_JWT_SECRET must be at least 32")]
    for name, value, refusal in steps:
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigurationError, match=refusal):
            Settings()
    monkeypatch.setenv("LEARNLAKE_JWT_SECRET", "x" * 48)
    settings = Settings()
    assert settings.environment == "production"
    assert settings.public_docs is False  # docs for admins only, unless enabled
    monkeypatch.setenv("LEARNLAKE_PUBLIC_DOCS", "true")
    assert Settings().public_docs is True


def test_learnlake_env_is_a_name_for_the_environment(monkeypatch):
    monkeypatch.setenv("LEARNLAKE_ENV", "production")
    with pytest.raises(ConfigurationError, match="LEARNLAKE_ENVIRONMENT=production"):
        Settings()


def test_development_needs_no_setup_and_trusts_no_proxy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.environment == "development" and settings.public_docs is True
    assert settings.trusted_proxies == []
    monkeypatch.setenv("LEARNLAKE_TRUSTED_PROXIES", "10.0.0.2, 192.168.0.0/16")
    assert Settings().trusted_proxies == ["10.0.0.2", "192.168.0.0/16"]


def test_one_bound_on_bodies_with_the_old_name_still_read(monkeypatch):
    assert Settings().max_body_bytes == 8 * 1024 * 1024 and Settings().max_json_depth == 32
    monkeypatch.setenv("LEARNLAKE_INGEST_MAX_BODY_BYTES", "65536")
    assert Settings().max_body_bytes == 65536


def test_placeholders_are_refused_outside_development_too(monkeypatch):
    monkeypatch.setenv("LEARNLAKE_ENVIRONMENT", "test")
    with pytest.raises(ConfigurationError, match="LEARNLAKE_ENVIRONMENT=test"):
        Settings()


def test_the_core_database_defaults_to_sqlite_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNLAKE_HOME", str(tmp_path))
    assert Settings().database_url == f"sqlite:///{tmp_path / 'core.db'}"
