"""A real reverse proxy for the tests and benchmarks: Debian's nginx in front of API replicas, configured by
``deploy/nginx/learnlake.conf.template`` the way the nginx image of ``deploy/compose.yaml`` fills it in."""

import shutil
import socket
import string
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from benchmarks.harness import free_port

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "learnlake.conf.template"

MAIN_CONFIG = """
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/learnlake.conf;
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def render(upstreams: list[int], listen: int) -> str:
    """The template with these replicas (loopback ports) and this port: as envsubst fills it."""
    servers = " ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in upstreams)
    return string.Template(TEMPLATE.read_text()).safe_substitute(API_SERVERS=servers, LISTEN=f"127.0.0.1:{listen}")


@contextmanager
def nginx(upstreams: list[int], folder: Path):
    """nginx on a free loopback port in front of ``upstreams``; yields the port."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("no nginx: apt-get install -y nginx (.ci/run does)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (folder / "learnlake.conf").write_text(render(upstreams, port))
    (folder / "nginx.conf").write_text(MAIN_CONFIG.format(folder=folder))
    proc = subprocess.Popen([binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=open(folder / "stderr.log", "wb"))  # noqa: SIM115
    try:
        _wait_for(port, proc, folder)
        yield port
    finally:
        proc.terminate()
        proc.wait(20)


def _wait_for(port: int, proc: subprocess.Popen, folder: Path, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {(folder / 'stderr.log').read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen within {timeout_s} s")
