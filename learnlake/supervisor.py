"""Runs the platform's processes side by side until Ctrl-C or until one of them exits (``learnlake serve``).

Each process logs to a file of its own under the home's ``logs/`` so the terminal keeps the summary;
when one exits, the end of its log is shown and the rest are stopped.

Each service runs in a process group of its own, and stopping it stops the whole group (a Dagster UI's
code servers, Streamlit's and uvicorn's workers): SIGTERM first, then SIGKILL to what is left after
``STOP_GRACE_S``, or at once on a further Ctrl-C or SIGTERM, which hurries the stop instead of cutting
it short.
"""

import errno
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from learnlake.errors import LearnLakeError
from learnlake.settings import Settings
from learnlake.stop_request import StopRequest

STOP_GRACE_S = 10.0  # how long the services have to stop after SIGTERM
# How long ``started()`` waits for every service to accept connections (the API loads its models before it listens,
# the Dagster UI its code first): past it, it is said anyway and the slow one's log tells the rest.
READY_WITHIN_S = 180.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class Service:
    name: str
    command: list[str]
    url: str  # where people reach it
    listens_on: tuple[str, int] | None = None  # the address it binds
    port_setting: str = ""  # the setting that moves it to another port


class ServiceExited(LearnLakeError):
    """One of the supervised processes stopped on its own; the message holds the end of its log."""


class PortInUse(LearnLakeError):
    """A service cannot listen where it is told to (its port is taken, most often): nothing was started."""


def repo_root() -> Path:
    # pipelines/ sits at the repository root, next to workspace.yaml and dashboards/ (found, not imported).
    return Path(importlib.util.find_spec("pipelines").origin).resolve().parents[1]


def platform_services(settings: Settings, api_command: list[str]) -> list[Service]:
    """The API (``api_command``), the dashboards, the Dagster UI, the MLflow UI and the pipeline metrics."""
    root, bin_dir, host = repo_root(), Path(sys.executable).parent, settings.api_host
    return [
        Service("api", api_command, settings.api_url, (host, settings.api_port), "LEARNLAKE_API_PORT"),
        Service("dashboards", dashboards_command(host, settings.dashboard_port),
                f"http://{host}:{settings.dashboard_port}", (host, settings.dashboard_port), "LEARNLAKE_DASHBOARD_PORT"),
        Service("dagster", [str(bin_dir / "dagster"), "dev", "-w", str(root / "workspace.yaml"), "-h", host,
                            "-p", str(settings.dagster_port)], f"http://{host}:{settings.dagster_port}",
                (host, settings.dagster_port), "LEARNLAKE_DAGSTER_PORT"),
        Service("mlflow", [str(bin_dir / "mlflow"), "server", "--backend-store-uri", settings.mlflow_tracking_uri,
                           "--default-artifact-root", settings.mlflow_artifacts_dir.as_uri(), "--host", host,
                           "--port", str(settings.mlflow_port), "--workers", "1"],
                f"http://{host}:{settings.mlflow_port}", (host, settings.mlflow_port), "LEARNLAKE_MLFLOW_PORT"),
        Service("pipeline metrics", [sys.executable, "-c", "from learnlake.cli import main; main()", "pipeline",
                                     "metrics"], f"http://{host}:{settings.pipeline_metrics_port}/metrics",
                (host, settings.pipeline_metrics_port), "LEARNLAKE_PIPELINE_METRICS_PORT"),
    ]


def dashboards_command(host: str, port: int) -> list[str]:
    """How the dashboards are started (Streamlit), here and in a deployment (``learnlake dashboards``)."""
    return [sys.executable, "-m", "streamlit", "run", str(repo_root() / "dashboards" / "app.py"),
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer"]  # no "Deploy" button: this is the deployment


def service_environment(settings: Settings) -> dict[str, str]:
    """What every child needs: this interpreter's tools first on PATH, the same home, JSON logs, no downloads."""
    bin_dir = Path(sys.executable).parent
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HF_HUB_OFFLINE": "1",
        "DAGSTER_HOME": str(settings.dagster_home),
        "LEARNLAKE_HOME": str(settings.home),  # children resolve the same paths
        "LEARNLAKE_LOG_FORMAT": "json",  # into their log files, one object a line
        **settings.dbt_env(),
    }


def check_ports(services: list[Service]) -> None:
    """Raise ``PortInUse`` when a service could not listen where it is told to. Checked before anything starts:
    otherwise the service's own log says so only once the others have started, and they are all stopped."""
    for service in services:
        if service.listens_on is None:
            continue
        host, port = service.listens_on
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no obstacle
            try:
                probe.bind((host, port))
            except OSError as exc:
                taken = exc.errno == errno.EADDRINUSE and service.port_setting
                hint = f"; set {service.port_setting} to another port" if taken else ""
                raise PortInUse(f"the {service.name} cannot listen on {host}:{port}: {exc.strerror}{hint}") from exc


def supervise(services: list[Service], *, env: dict[str, str], logs: Path, started=lambda: None,
              grace_s: float = STOP_GRACE_S, ready_within_s: float = READY_WITHIN_S) -> None:
    """Start every service, call ``started()`` once each accepts connections where it listens (or after
    ``ready_within_s``), then wait.

    Returns on Ctrl-C or SIGTERM after stopping every service; raises ``ServiceExited`` when one exits, and
    ``PortInUse``, having started nothing, when a service's port is taken."""
    check_ports(services)
    logs.mkdir(parents=True, exist_ok=True)
    log_paths = {s.name: logs / f"{s.name.replace(' ', '_')}.log" for s in services}
    log_files = {name: open(path, "ab") for name, path in log_paths.items()}  # noqa: SIM115
    procs: dict[str, subprocess.Popen] = {}
    # Ctrl-C and a plain `kill` both stop every service (a background shell ignores SIGINT otherwise).
    handlers = {signum: signal.signal(signum, signal.default_int_handler) for signum in STOP_SIGNALS}
    try:
        for service in services:
            procs[service.name] = subprocess.Popen(service.command, cwd=repo_root(), env=env, start_new_session=True,
                                                   stdout=log_files[service.name], stderr=subprocess.STDOUT)
        waiting, ready_by = [s.listens_on for s in services if s.listens_on is not None], time.monotonic() + ready_within_s
        while waiting and time.monotonic() < ready_by:
            _raise_if_one_exited(procs, log_paths)
            if waiting := [address for address in waiting if not accepts_connections(address)]:
                time.sleep(0.2)
        started()
        while True:
            _raise_if_one_exited(procs, log_paths)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        try:
            _stop(list(procs.values()), grace_s)
        finally:
            for handle in log_files.values():
                handle.close()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)


def _raise_if_one_exited(procs: dict[str, subprocess.Popen], log_paths: dict[str, Path]) -> None:
    for name, proc in procs.items():
        if proc.poll() is not None:
            raise ServiceExited(f"{name} exited with code {proc.returncode}; stopping the rest. "
                                f"The end of {log_paths[name]}:\n{_tail(log_paths[name])}")


def accepts_connections(address: tuple[str, int]) -> bool:
    """Whether something accepts connections at the address a service binds (``0.0.0.0`` reaches this host)."""
    try:
        with socket.create_connection(address, timeout=0.5):
            return True
    except OSError:
        return False


def _stop(procs: list[subprocess.Popen], grace_s: float) -> None:
    """SIGTERM to every service's group; SIGKILL to what is left of them after ``grace_s``.

    A Ctrl-C or SIGTERM arriving meanwhile (a user pressing Ctrl-C again, a service manager's second
    signal) ends the wait instead of raising: raised, it would leave a service that is slow to stop,
    or ignores SIGTERM, running with nobody to stop it."""
    hurry = StopRequest()
    for signum in STOP_SIGNALS:
        signal.signal(signum, hurry.request)
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(proc.poll() is None for proc in procs):
        if hurry.sleep(0.05):
            break
    # The groups too, not only their leaders: a child the leader started outlives it otherwise.
    for proc in procs:
        _signal_group(proc, signal.SIGKILL)
    for proc in procs:
        proc.wait()


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:  # the group has no process left
        pass


def _tail(path: Path, lines: int = 20) -> str:
    with open(path, "rb") as fh:
        fh.seek(max(0, fh.seek(0, os.SEEK_END) - 8192))
        return b"\n".join(fh.read().splitlines()[-lines:]).decode(errors="replace")
