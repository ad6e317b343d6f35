"""`learnlake doctor`: each component's state and what to do, an exit status a script can use."""

import json
import socket
import uuid

import orjson
import pytest
from typer.testing import CliRunner

from learnlake.cli import app as cli
from learnlake.settings import get_settings
from tests.conftest import use_home


def _doctor(*args: str) -> tuple[int, dict[str, dict]]:
    result = CliRunner().invoke(cli, ["doctor", "--json", *args])
    report = json.loads(result.output.strip().splitlines()[-1])
    return result.exit_code, {finding["component"]: finding for finding in report["findings"]}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_with_redis_stopped_the_doctor_names_redis_and_how_to_start_it_and_fails(learnlake_home, monkeypatch):
    port = _closed_port()
    monkeypatch.setenv("LEARNLAKE_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    get_settings.cache_clear()
    code, findings = _doctor()
    assert code == 1
    redis = findings["redis"]
    assert redis["status"] == "failed" and f"127.0.0.1:{port}" in redis["detail"]
    assert f"redis-server --daemonize yes --bind 127.0.0.1 --port {port}" in redis["fix"]
    # A fresh home is not an error: what is not built yet is a warning that says what to run.
    assert findings["lake"]["status"] == "warning" and "learnlake" in findings["lake"]["fix"]
    assert findings["disk"]["status"] == "ok"


def test_a_failing_committer_is_a_doctor_finding_with_its_error(learnlake_home, tmp_path):
    from lake.committer import Committer
    from lake.landing import LandingLog

    landing = LandingLog(learnlake_home.landing_dir / learnlake_home.writer_id, learnlake_home.writer_id)
    event = {"event_id": str(uuid.uuid4()), "learner_id": "l1", "verb": "viewed",
             "object": {"type": "lesson", "id": "x"}, "timestamp": "2026-10-01T10:00:00Z"}
    landing.append([event["event_id"]], orjson.dumps([event]), source="api")
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(Exception):  # noqa: B017 - whatever the filesystem says
        Committer(landing, learnlake_home.model_copy(update={"lake_uri": str(blocked / "lake")})).flush()
    landing.close()
    code, findings = _doctor()
    assert code == 1
    ingestion = findings[f"ingestion {learnlake_home.writer_id}"]
    assert ingestion["status"] == "failed" and "committer failing" in ingestion["detail"]
    assert "last error" in ingestion["detail"] and "RUNBOOK" in ingestion["fix"]


@pytest.mark.integration
def test_on_a_built_platform_the_doctor_finds_every_component_and_no_failure(small_demo, monkeypatch):
    settings, _ = small_demo
    use_home(monkeypatch, settings)
    code, findings = _doctor()
    assert code == 0, findings
    for component in ("core database", "lake", "published warehouse", "mlflow", "dagster", "tutor index"):
        assert findings[component]["status"] in ("ok", "warning"), findings[component]
    assert findings["core database"]["status"] == "ok" and findings["lake"]["status"] == "ok"
    assert findings["published warehouse"]["status"] == "ok"
