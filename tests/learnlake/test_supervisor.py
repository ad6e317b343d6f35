"""``learnlake serve``'s supervisor, with real processes: every service and everything it started is stopped,
on one signal or several, and a service that exits on its own stops the rest."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from benchmarks.harness import free_port
from learnlake.supervisor import PortInUse, Service, ServiceExited, accepts_connections, supervise

# A service that writes "<its pid> <its child's pid>" to a file, starts a child that ignores SIGTERM (as a
# code server waiting for its runs does), and ignores SIGTERM itself when STUBBORN is set.
SERVICE = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    if os.environ.get("STUBBORN"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    with open(sys.argv[1] + ".tmp", "w") as fh:
        fh.write(f"{os.getpid()} {child.pid}")
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(600)
""")

SUPERVISOR = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    from learnlake.supervisor import Service, supervise
    services = [Service(name, command, "") for name, command in json.loads(sys.argv[3])]
    supervise(services, env={**os.environ, "STUBBORN": "1"} if sys.argv[4] == "stubborn" else dict(os.environ),
              logs=Path(sys.argv[1]), started=lambda: print("started", flush=True), grace_s=float(sys.argv[2]))
    print("stopped", flush=True)
""")


def _service(name: str, pid_file: Path) -> list:
    return [name, [sys.executable, "-c", SERVICE, str(pid_file)]]


def _pids(pid_files: list[Path], timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while not all(f.exists() for f in pid_files):
        assert time.monotonic() < deadline, "a service never started"
        time.sleep(0.05)
    return [int(pid) for f in pid_files for pid in f.read_text().split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has stopped; only its parent's wait is missing


def _gone(pids: list[int], timeout: float = 5) -> list[int]:
    """The pids still running after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (left := [pid for pid in pids if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def supervisor(tmp_path):
    """Starts the supervisor in a process of its own over two services, and kills whatever is left after the test."""
    started: list[tuple[subprocess.Popen, list[Path]]] = []

    def start(grace_s: float, *, stubborn: bool) -> tuple[subprocess.Popen, list[int]]:
        pid_files = [tmp_path / "api.pid", tmp_path / "dagster.pid"]
        services = [_service("api", pid_files[0]), _service("dagster", pid_files[1])]
        proc = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(tmp_path / "logs"), str(grace_s),
                                 json.dumps(services), "stubborn" if stubborn else "polite"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append((proc, pid_files))
        assert proc.stdout.readline().strip() == "started"
        return proc, _pids(pid_files)

    yield start
    for proc, pid_files in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pid in _pids(pid_files, timeout=0) if all(f.exists() for f in pid_files) else []:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_sigterm_stops_every_service_and_what_each_started(supervisor):
    """The services stop on SIGTERM, and the children they started, which ignore it, are killed with their group
    rather than left running under init."""
    proc, pids = supervisor(grace_s=10, stubborn=False)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == "stopped"
    assert _gone(pids) == []


def test_a_service_that_ignores_sigterm_is_killed_after_the_grace_period(supervisor):
    proc, pids = supervisor(grace_s=1, stubborn=True)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and out.strip() == "stopped", err
    assert 1 <= time.monotonic() - started < 10
    assert _gone(pids) == []


def test_a_second_ctrl_c_while_stopping_kills_what_is_left_at_once(supervisor):
    """Pressing Ctrl-C again used to raise inside the stop and leave every service that was slow to stop running."""
    proc, pids = supervisor(grace_s=120, stubborn=True)
    proc.send_signal(signal.SIGINT)
    time.sleep(1)
    assert proc.poll() is None  # waiting for the services that ignore SIGTERM
    started = time.monotonic()
    for _ in range(20):  # a burst, as from a service manager or an impatient user
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == "stopped" and "Traceback" not in err
    assert time.monotonic() - started < 10
    assert _gone(pids) == []


def test_a_service_that_exits_stops_the_rest_and_shows_the_end_of_its_log(tmp_path):
    pid_file = tmp_path / "api.pid"
    exits = ("import os, sys, time\n"  # once the api has started
             f"while not os.path.exists({str(pid_file)!r}): time.sleep(0.05)\n"
             "print('port 8501 is already in use', flush=True); sys.exit(3)")
    failing = Service("dashboards", [sys.executable, "-c", exits], "")
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(ServiceExited) as raised:
        supervise([Service("api", _service("api", pid_file)[1], ""), failing], env=dict(os.environ),
                  logs=tmp_path / "logs", grace_s=10)
    assert "dashboards exited with code 3" in str(raised.value)
    assert "port 8501 is already in use" in str(raised.value)
    assert _gone(_pids([pid_file], timeout=0)) == []
    assert {signum: signal.getsignal(signum) for signum in handlers} == handlers  # the caller's are back


def test_started_is_said_once_every_service_accepts_connections(tmp_path):
    """Not when the processes are launched: the API loads its models before it listens, and an address printed
    before then refuses the first visit."""
    port = free_port()
    late = ("import socket, sys, time\n"  # listens after 1.5 s, then exits (which ends the supervision)
            f"time.sleep(1.5); s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(1)")
    said = []
    launched = time.monotonic()
    with pytest.raises(ServiceExited, match="api exited with code 0"):
        supervise([Service("api", [sys.executable, "-c", late], "", ("127.0.0.1", port))], env=dict(os.environ),
                  logs=tmp_path / "logs", started=lambda: said.append((time.monotonic() - launched, accepts_connections(("127.0.0.1", port)))))
    assert len(said) == 1 and said[0][0] >= 1.5 and said[0][1], said


def test_started_is_said_anyway_when_a_service_is_slow_to_listen(tmp_path):
    silent = "import time; time.sleep(3)"  # never listens
    said = []
    launched = time.monotonic()
    with pytest.raises(ServiceExited):
        supervise([Service("api", [sys.executable, "-c", silent], "", ("127.0.0.1", free_port()))],
                  env=dict(os.environ), logs=tmp_path / "logs", ready_within_s=1,
                  started=lambda: said.append(time.monotonic() - launched))
    assert len(said) == 1 and 1 <= said[0] < 3


def test_a_taken_port_is_refused_before_any_service_starts(tmp_path):
    """Said at once, with the setting to change, rather than in the service's log once the others have started."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        services = [Service("api", _service("api", tmp_path / "api.pid")[1], "", ("127.0.0.1", free_port())),
                    Service("dashboards", _service("dashboards", tmp_path / "dashboards.pid")[1], "",
                            ("127.0.0.1", port), "LEARNLAKE_DASHBOARD_PORT")]
        with pytest.raises(PortInUse, match=rf"dashboards cannot listen on 127\.0\.0\.1:{port}: .*"
                                            "set LEARNLAKE_DASHBOARD_PORT to another port"):
            supervise(services, env=dict(os.environ), logs=tmp_path / "logs")
    assert not (tmp_path / "api.pid").exists() and not (tmp_path / "logs").exists()  # nothing was started
