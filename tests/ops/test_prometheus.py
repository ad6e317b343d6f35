"""Prometheus from Debian's packages against the API: the alert rules load, ingestion is scraped, and an
ingestion stall (the committer killed while clients keep sending) fires its alert."""

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import REPO_ROOT, unavailable

RULES = REPO_ROOT / "ops" / "prometheus"
pytestmark = pytest.mark.integration


def _debian_tool(name: str) -> str:
    """``prometheus`` or ``promtool``, installed from Debian's packages when this machine lets us (as .ci/run does)."""
    if shutil.which(name) is None and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "prometheus"], capture_output=True, check=False, timeout=600)
    if shutil.which(name) is None:
        unavailable(f"{name} is not installed: apt-get install -y prometheus")
    return shutil.which(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_alert_rules_pass_promtool_and_each_fires_in_its_unit_test():
    promtool = _debian_tool("promtool")
    for command in (["check", "rules", "alerts.yml"], ["check", "config", "prometheus.yml"],
                    ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run([promtool, *command], cwd=RULES, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_its_runbook_section_and_fires_in_a_unit_test():
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    sections = {line.removeprefix("## ").strip().lower()
                for line in (REPO_ROOT / "ops" / "RUNBOOK.md").read_text().splitlines() if line.startswith("## ")}
    tests = yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"]
    fired = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case["exp_alerts"]}
    for name, rule in alerts.items():
        assert rule["annotations"]["runbook_url"] == f"ops/RUNBOOK.md#{name.lower()}", name
        assert name.lower() in sections, f"{name} has no section in ops/RUNBOOK.md"
    assert set(alerts) <= fired, f"alerts no unit test fires: {set(alerts) - fired}"


def _wait_for(what: str, probe, timeout_s: float = 60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def _query(prometheus: str, expression: str) -> float | None:
    result = httpx.get(f"{prometheus}/api/v1/query", params={"query": expression}, timeout=10).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def _children(pid: int) -> dict[int, str]:
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "stat").read_text().split(") ")[1].split()[1] == str(pid):
                found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
    return found


def test_prometheus_scrapes_ingestion_and_fires_the_stalled_alert_when_the_committer_dies(tmp_path):
    from benchmarks.harness import start_api
    from serving.core.db import Database
    from serving.core.source_keys import create_key

    prometheus_bin = _debian_tool("prometheus")
    home = tmp_path / "learnlake"
    api_port, prometheus_port = free_port(), free_port()
    api = start_api(home, api_port, env={"LEARNLAKE_INGEST_STALLED_AFTER_S": "2", "LEARNLAKE_COMMIT_INTERVAL_S": "0.2"})
    prometheus = None
    try:
        database = Database(f"sqlite:///{home / 'core.db'}")
        _, key = create_key(database, "prometheus-test")
        database.dispose()
        config = tmp_path / "prometheus.yml"
        config.write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{RULES / 'alerts.yml'}"]
scrape_configs:
  - job_name: learnlake-api
    static_configs: [{{targets: ["127.0.0.1:{api_port}"]}}]
""")
        prometheus = subprocess.Popen(
            [prometheus_bin, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prometheus_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{prometheus_port}"

        def ready():
            try:
                return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for("Prometheus ready", ready)

        def send(n: int) -> None:
            events = [{"event_id": str(uuid.uuid4()), "learner_id": "learner-p", "verb": "viewed",
                       "object": {"type": "lesson", "id": f"l{i}", "course_id": "c1"},
                       "timestamp": "2026-10-01T10:00:00Z"} for i in range(n)]
            answer = httpx.post(f"http://127.0.0.1:{api_port}/v1/events", json=events,
                                headers={"Authorization": f"Bearer {key}"}, timeout=10)
            assert answer.status_code == 202, answer.text

        stored = 'learnlake_ingest_events_total{job="learnlake-api", outcome="stored"}'
        send(10)  # the series is born at 10: a rate needs a second value
        _wait_for("10 events counted", lambda: _query(url, f"sum({stored})") == 10)
        send(10)
        send(10)
        _wait_for("30 events counted", lambda: _query(url, f"sum({stored})") == 30)
        assert _query(url, f"sum(rate({stored}[30s]))") > 0
        _wait_for("all committed", lambda: _query(url, "sum(learnlake_committed_events_total)") == 30)
        assert _query(url, "sum(learnlake_landing_backlog_events)") == 0

        committers = [pid for pid, cmd in _children(api.pid).items() if "lake.committer" in cmd]
        assert len(committers) == 1, _children(api.pid)
        os.kill(committers[0], signal.SIGKILL)
        send(10)
        _wait_for("the backlog", lambda: _query(url, "sum(learnlake_landing_backlog_events)") == 10)

        def firing():
            alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "LearnLakeIngestionStalled"
                    and a["state"] == "firing"]

        (alert,) = _wait_for("LearnLakeIngestionStalled firing", firing, timeout_s=60)
        assert alert["labels"]["writer"] == "api-0" and alert["annotations"]["runbook_url"].startswith("ops/RUNBOOK.md")
    finally:
        if prometheus is not None:
            prometheus.terminate()
            prometheus.wait(30)
        api.terminate()
        api.wait(60)
