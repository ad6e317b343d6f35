"""The dbt project object, built once (CONVENTIONS.md), and how its manifest is prepared."""

import logging
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from learnlake.settings import Settings, get_settings

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
# The dbt next to this interpreter, so nothing depends on the virtual environment being activated.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
# dbt's progress lines: "... OK created sql table model marts.fct_x ... [OK in 1.23s]"
# and its test lines: "... PASS unique_x_id ...... [PASS in 0.03s]" (group 1 is "model" or "PASS").
NODE_TIME = re.compile(r"(model|PASS) ([\w.]+) [. ]*\[(?:OK|PASS)[^\]]* in ([\d.]+)s\]")

# dbt's own DBT_TARGET_PATH moves the target folder (manifest, partial parse), as dagster-dbt's per-run folders
# already follow it: processes that parse at the same time (the test suite's workers) keep theirs apart.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target="dev",
                         target_path=os.environ.get("DBT_TARGET_PATH", "target"))


def dbt_resource() -> DbtCliResource:
    """The dbt CLI resource of this project."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def prepare_manifest() -> Path:
    """Run ``dbt parse`` so the dbt assets can be defined; returns the manifest path.

    It parses in the environment the build will have (this home's warehouse path): dbt parses
    the whole project again when the profile differs from the last parse's, and the build then
    reuses this parse instead."""
    with environment(get_settings().dbt_env()):
        dbt_resource().cli(["--quiet", "parse"], target_path=dbt_project.target_path).wait()
    return dbt_project.manifest_path


def manifest_is_current() -> bool:
    """Whether the manifest was parsed after every file of the dbt project last changed (models, macros,
    seeds, tests, the project's and the profile's YAML): a service starting then needs no parse."""
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return False
    skipped = {"target", "logs", "dbt_packages"}
    sources = (p for p in DBT_PROJECT_DIR.rglob("*") if p.is_file() and
               skipped.isdisjoint(p.relative_to(DBT_PROJECT_DIR).parts[:1]))
    return manifest.stat().st_mtime >= max((p.stat().st_mtime for p in sources), default=0)


@contextmanager
def environment(variables: dict[str, str]):
    """Set variables for a subprocess started inside the block, then restore the old values."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_build(settings: Settings) -> tuple[float, int]:
    """Run `dbt build` on the warehouse and lake of `settings`; returns (seconds, models and tests run)."""
    env = {**os.environ, **settings.dbt_env(), "DBT_USE_COLORS": "false"}
    started = time.perf_counter()
    result = subprocess.run(
        [DBT_EXECUTABLE, "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(settings.home / "dbt-target"), "--log-path", str(settings.home / "dbt-logs")],
        env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise RuntimeError(f"dbt build failed:\n{tail}")
    timed = sorted(((float(m.group(3)), m.group(2), m.group(1)) for m in NODE_TIME.finditer(result.stdout)),
                   reverse=True)
    log.info("models %.1fs, tests %.1fs, the rest (dbt itself) %.1fs; slowest: %s",
             sum(t for t, _, kind in timed if kind == "model"), sum(t for t, _, kind in timed if kind == "PASS"),
             elapsed - sum(t for t, _, _ in timed), ", ".join(f"{name} {secs:.1f}s" for secs, name, _ in timed[:6]))
    done = next((line for line in result.stdout.splitlines() if "PASS=" in line), "")
    steps = int(done.split("TOTAL=")[-1]) if "TOTAL=" in done else 0
    return elapsed, steps
