"""``learnlake serve`` on a new home, as a newcomer runs it: every service answers, and Ctrl-C stops them all."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from benchmarks.harness import free_port
from learnlake.supervisor import accepts_connections

SERVICES = {  # setting: the path that answers 200 once the service is up
    "API_PORT": "/health",
    "DASHBOARD_PORT": "/",
    "DAGSTER_PORT": "/server_info",
    "MLFLOW_PORT": "/health",
    "PIPELINE_METRICS_PORT": "/metrics",
}


def _processes_with(entry: str) -> list[int]:
    """The live processes whose environment holds ``entry`` (every service inherits the home's)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if entry.encode() in environ.read_bytes().split(b"\0") and "Z" not in _state(environ.parent):
                found.append(int(environ.parent.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def _state(proc_dir: Path) -> str:
    return (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[0]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _line_with(proc: subprocess.Popen, text: str, *, within_s: float) -> str:
    """What ``proc`` printed up to and including the first line with ``text`` (read in a thread, so the wait
    has a limit)."""
    seen, found = [], threading.Event()

    def read() -> None:
        for line in proc.stdout:
            seen.append(line)
            if text in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(within_s), f"no {text!r} within {within_s} s:\n{''.join(seen)}"
    return "".join(seen)


def test_serve_on_a_new_home_starts_every_service_and_ctrl_c_stops_them_all(tmp_path):
    """On a new home the API and the MLflow UI used to migrate MLflow's empty store at the same moment; the API
    failed part-way ("no such column: spans.dimension_attributes") and took every service down with it."""
    home = tmp_path / "home"
    ports = {setting: free_port() for setting in SERVICES}
    env = {**os.environ, "LEARNLAKE_HOME": str(home), "HF_HUB_OFFLINE": "1",
           **{f"LEARNLAKE_{setting}": str(port) for setting, port in ports.items()}}
    env.pop("LEARNLAKE_MLFLOW_TRACKING_URI", None)  # the new home's own store
    serve = subprocess.Popen([str(Path(sys.executable).parent / "learnlake"), "serve"], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    home_entry = f"LEARNLAKE_HOME={home}"
    try:
        # The addresses are printed once every service takes connections, not when the processes are launched.
        banner = _line_with(serve, "LearnLake is serving", within_s=240)
        assert all(accepts_connections(("127.0.0.1", port)) for port in ports.values()), banner
        urls = [f"http://127.0.0.1:{ports[setting]}{path}" for setting, path in SERVICES.items()]
        deadline = time.monotonic() + 240
        while not all(_answers(url) for url in urls):
            assert serve.poll() is None, f"learnlake serve stopped:\n{serve.stdout.read()}"
            assert time.monotonic() < deadline, [url for url in urls if not _answers(url)]
            time.sleep(1)
        assert len(_processes_with(home_entry)) > len(SERVICES)
        serve.send_signal(signal.SIGINT)
        output, _ = serve.communicate(timeout=60)
        output = banner + output
        assert serve.returncode == 0, output
        assert output.rstrip().endswith("stopped")
        deadline = time.monotonic() + 10
        while (left := _processes_with(home_entry)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == []
        assert not any(_answers(url) for url in urls)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
        for pid in _processes_with(home_entry):
            os.kill(pid, signal.SIGKILL)


def test_serve_says_which_port_is_taken_and_starts_nothing(tmp_path):
    home = tmp_path / "home"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "LEARNLAKE_HOME": str(home), "HF_HUB_OFFLINE": "1", "LEARNLAKE_API_PORT": str(port),
               **{f"LEARNLAKE_{setting}": str(free_port()) for setting in SERVICES if setting != "API_PORT"}}
        served = subprocess.run([str(Path(sys.executable).parent / "learnlake"), "serve"], env=env, text=True,
                                capture_output=True, timeout=120, check=False)
    assert served.returncode == 2, served.stdout + served.stderr
    message = " ".join((served.stdout + served.stderr).split())
    assert f"the api cannot listen on 127.0.0.1:{port}" in message and "set LEARNLAKE_API_PORT" in message
    assert "Traceback" not in served.stdout + served.stderr
    assert not (home / "logs").exists()
