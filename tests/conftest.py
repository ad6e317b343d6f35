"""Shared fixtures: every test gets its own LearnLake home, never the developer's `.learnlake/`."""

import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from learnlake.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SMALL_DEMO_LEARNERS = 40
# The demos built once per session: `make test`'s workers (pytest-xdist, ``--dist loadgroup``) run every test
# that reads one in the same worker, so that each is built once.
SHARED_BUILDS = ("trained_demo", "small_demo")


def worker_number() -> int:
    """This process's number among `make test`'s workers (``gw0``, ``gw1``...; 0 without pytest-xdist)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker parses the dbt project into a target folder of its own
        os.environ["DBT_TARGET_PATH"] = f"target/{os.environ['PYTEST_XDIST_WORKER']}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist: a test that reads a session demo goes with the others that read it, any other test
    with its file's (module fixtures start servers); the production-like test and the demos' groups come first,
    so the longest work is not left for the end while the other worker waits."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for item in items:
        group = next((name for name in SHARED_BUILDS if name in item.fixturenames), item.nodeid.split("::")[0])
        item.add_marker(pytest.mark.xdist_group(group))

    def rank(item) -> int:
        if item.get_closest_marker("production_like"):
            return 0
        return next((1 + n for n, name in enumerate(SHARED_BUILDS) if name in item.fixturenames), len(SHARED_BUILDS) + 1)

    items.sort(key=rank)


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment():
    """Drop LEARNLAKE_* variables of the developer's shell so tests see only their own."""
    kept = {"LEARNLAKE_REQUIRE_SERVICES"}
    saved = {k: v for k, v in os.environ.items() if k.startswith("LEARNLAKE_") and k not in kept}
    for key in saved:
        del os.environ[key]
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _settings_read_afresh_after_each_test():
    """The settings are cached in the process: a test that pointed them at another home (``use_home``)
    must not hand that home to the next test. Autouse fixtures end last, after the environment is back."""
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _main_module_kept(monkeypatch):
    """Streamlit's AppTest (the dashboards', the end-to-end and the retention tests) runs a page as ``__main__``
    and leaves it there: a process spawned later by the same test process (the API's validation workers,
    Lightning's training processes) would run that page again and die, and its parent wait for it for ever."""
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


@pytest.fixture
def learnlake_home(tmp_path, monkeypatch) -> Settings:
    """Point the process settings at a fresh home under tmp_path."""
    monkeypatch.setenv("LEARNLAKE_HOME", str(tmp_path / "learnlake"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def services_required() -> bool:
    return os.environ.get("LEARNLAKE_REQUIRE_SERVICES") == "1"


def unavailable(reason: str):
    """Skip a case whose service (PostgreSQL, Redis) is down, or fail when services are required."""
    if services_required():
        pytest.fail(f"{reason} (LEARNLAKE_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> str:
    """Database 15 of the local Redis (14 for the second worker of `make test`...), emptied before the test."""
    import redis

    url = os.environ.get("LEARNLAKE_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - worker_number()}")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError as exc:
        unavailable(f"Redis is not reachable at {url}: {exc}")
    yield url
    client.flushdb()


def real_data_dir() -> Path:
    """Where the real datasets are: ``LEARNLAKE_DATA_DIR``, else the nearest ``shared/data``
    above the repository (``../shared/data`` in the workspace); tests skip when it is absent."""
    if os.environ.get("LEARNLAKE_DATA_DIR"):
        return Path(os.environ["LEARNLAKE_DATA_DIR"])
    for parent in REPO_ROOT.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return REPO_ROOT.parent / "shared" / "data"


@contextmanager
def demo_home(tmp_path_factory, name: str, *, learners: int, courses: int):
    """`learnlake demo --no-serve` in a home of its own; yields (settings, the demo's output)."""
    from typer.testing import CliRunner

    from learnlake.cli import app as cli

    home = tmp_path_factory.mktemp(name) / "learnlake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEARNLAKE_HOME", str(home))
        mp.setenv("LEARNLAKE_COURSES", str(courses))
        get_settings.cache_clear()
        result = CliRunner().invoke(cli, ["demo", "--no-serve", "--learners", str(learners)])
        assert result.exit_code == 0, result.output + repr(result.exception)
        try:
            yield get_settings(), result.output
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> tuple[Settings, str]:
    """A 40-learner, 3-course demo and what it printed, built once for the session: the notebooks
    and the marts' checks read it, the end-to-end tests read it and then run the pipeline again on
    it (which must change nothing). Tests that need its home in the environment set it themselves
    (``use_home``)."""
    with demo_home(tmp_path_factory, "small_demo", learners=SMALL_DEMO_LEARNERS, courses=3) as built:
        pass
    return built


def use_home(monkeypatch, settings: Settings) -> None:
    """Point this test's environment at a demo's home (and the number of courses it simulated)."""
    monkeypatch.setenv("LEARNLAKE_HOME", str(settings.home))
    monkeypatch.setenv("LEARNLAKE_COURSES", str(settings.courses))
    get_settings.cache_clear()


def copy_of_demo(demo: Settings, tmp_path: Path, monkeypatch) -> Settings:
    """A copy of a demo's home for a test that changes it, in this test's environment; its settings
    (without the API's committer: tests flush what they need)."""
    home = tmp_path / "learnlake"
    shutil.copytree(demo.home, home)
    use_home(monkeypatch, demo.model_copy(update={"home": home}))
    return get_settings().model_copy(update={"run_committer": False})


@pytest.fixture(scope="session")
def trained_demo(tmp_path_factory) -> Settings:
    """A 160-learner, 3-course demo with every model trained, built once for the session: the
    dashboards (with the API serving it), the lake's models and the served models read it, and put
    back what they change (a champion moved for a hot-swap test is moved back). The environment
    is restored at once, so tests that do not ask for this home never see it."""
    with demo_home(tmp_path_factory, "trained_demo", learners=160, courses=3) as (settings, _output):
        pass
    return settings
