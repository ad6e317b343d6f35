"""`learnlake bench dashboards`: how long each dashboard page takes to load, in a real browser.

Starts the API and `streamlit run` on loopback over a trained LearnLake home, signs in as each
demo account in Debian's headless Chromium (Playwright, no browser download), opens each page
of the role from the sidebar, then runs it ``rounds`` more times (queries cached for a short
time, as in use), and reports the median and worst load time per page: from the click
to the moment Streamlit marks the script finished (timed in the browser). The first load of
each page (queries not cached yet) is reported beside the warm ones.
"""

import functools
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from benchmarks.harness import free_port
from learnlake.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "learnlake-demo"  # the demo accounts' password (serving.core.seed.DEMO_PASSWORD)
PAGES = {"instructor": ["My courses"], "learner": ["My learning"],
         "analyst": ["Course activity", "Learning analytics"], "ml_engineer": ["Models"],
         "admin": ["Operations", "Models", "Courses", "Course activity", "Learning analytics"]}
APP = Path(importlib.util.find_spec("dashboards").origin).with_name("app.py")
RUN_TIMEOUT_S = 120


@dataclass(frozen=True)
class PageTimes:
    role: str
    page: str
    cold_s: float
    median_s: float
    worst_s: float


def _wait(url: str, proc: subprocess.Popen, what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} while starting")
        try:
            if httpx.get(url, timeout=2).is_success:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer within {timeout_s:g} s")


def _accounts(settings: Settings) -> dict[str, str]:
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as con:
        found = dict(con.execute(sa.text("select role, min(email) from users where password_hash is not null "
                                         "group by role")).all())
    engine.dispose()
    return found


# Resolves with the milliseconds from now until Streamlit's script has finished a run. The
# records' old values are read, not only the attribute now: a quick run can start and finish
# between two callbacks, and then only a record still says it was running. The whole document
# is watched and the app looked up again each time: if React replaces the stApp element (as it
# may after signing in), an observer on the old element would never hear the run end. React may
# also batch a quick run's "running" away altogether (the CI once waited 120 s on a page that had
# long rendered): then the page has changed and the app is not running; after QUIET_MS without a
# change the run is taken to have ended at the last change.
QUIET_MS = 2000
_ARM = """() => { window.__learnlakeRun = new Promise(resolve => {
    const start = performance.now();
    const armedOn = document.querySelector('[data-testid="stApp"]');
    let quiet = null;
    const notRunning = app => app && app.getAttribute('data-test-script-state') !== 'running';
    const done = at => { watch.disconnect(); clearTimeout(quiet); resolve(at - start); };
    const watch = new MutationObserver(records => {
        const now = performance.now();
        const app = document.querySelector('[data-testid="stApp"]');
        if ((app !== armedOn || records.some(r => r.oldValue === 'running')) && notRunning(app)) {
            return done(now);
        }
        clearTimeout(quiet);
        quiet = setTimeout(() => {
            if (notRunning(document.querySelector('[data-testid="stApp"]'))) done(now);
        }, QUIET_MS);
    });
    watch.observe(document.documentElement, {attributes: true, childList: true, subtree: true,
                                             attributeFilter: ['data-test-script-state'], attributeOldValue: true});
}); }""".replace("QUIET_MS", str(QUIET_MS))


def _timed(page, action) -> float:
    """Seconds from ``action`` to the end of the script run it caused, measured in the browser."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    page.evaluate(_ARM)
    action()
    elapsed = page.evaluate(f"""() => Promise.race([window.__learnlakeRun,
        new Promise(resolve => setTimeout(() => resolve(-1), {RUN_TIMEOUT_S * 1000}))])""")
    if elapsed < 0:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "learnlake-bench-timeout.png"))
        raise RuntimeError(f"no script run finished within {RUN_TIMEOUT_S} s of the action (screenshot: "
                           f"{tempfile.gettempdir()}/learnlake-bench-timeout.png)")
    return elapsed / 1000


def _rerun(page) -> None:
    """Rerun the page from the app's main menu (as a user would; the "r" shortcut only reaches the
    app while something inside it has the keyboard focus)."""
    page.get_by_test_id("stMainMenuButton").click()
    page.get_by_test_id("stMainMenuItem-rerun").click()


def run(home: Path, *, rounds: int = 3, roles: list[str] | None = None, progress=print) -> list[PageTimes]:
    """The pages of ``roles`` (default: every role of ``PAGES``) timed, as the module's docstring says."""
    from playwright.sync_api import expect, sync_playwright

    settings = Settings(home=home)
    accounts = _accounts(settings)
    api_port, app_port = free_port(), free_port()
    env = {**os.environ, "LEARNLAKE_HOME": str(home), "LEARNLAKE_API_URL": f"http://127.0.0.1:{api_port}",
           "LEARNLAKE_WRITER_ID": f"bench-dashboards-{os.getpid()}"}
    # As serving.main.uvicorn_command starts it (dashboards may not import serving).
    api = subprocess.Popen([sys.executable, "-m", "uvicorn", "serving.main:app", "--host", "127.0.0.1", "--port",
                            str(api_port), "--no-proxy-headers", "--log-level", "warning"], env=env)
    app = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
                            "--server.address", "127.0.0.1", "--server.port", str(app_port),
                            "--browser.gatherUsageStats", "false"], env=env, stdout=subprocess.DEVNULL)
    results = []
    try:
        _wait(f"http://127.0.0.1:{api_port}/health/live", api, "the API")
        _wait(f"http://127.0.0.1:{app_port}/_stcore/health", app, "streamlit")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            for role, titles in PAGES.items():
                if role not in accounts or (roles is not None and role not in roles):
                    continue
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{app_port}")
                page.get_by_role("textbox", name="E-mail").fill(accounts[role])
                page.get_by_role("textbox", name="Password").fill(PASSWORD)
                for title in titles:
                    if title == titles[0]:
                        cold = _timed(page, page.get_by_role("button", name="Sign in").click)
                    else:
                        link = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title)
                        cold = _timed(page, link.click)
                    # On a loaded machine the run after signing in (to the role's page) may start after the quiet
                    # period that ends the timing: wait for the page itself longer than Playwright's 5 s default.
                    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=60_000)
                    # Warm loads: the page runs again as on any interaction ("r" reruns it).
                    rerun = functools.partial(_rerun, page)
                    times = [_timed(page, rerun) for _ in range(rounds)]
                    results.append(PageTimes(role, title, round(cold, 3), round(statistics.median(times), 3),
                                             round(max(times), 3)))
                    progress(f"{role} / {title}: first {cold:.2f} s, then median {statistics.median(times):.2f} s")
                page.close()
            browser.close()
    finally:
        for proc in (app, api):
            proc.terminate()
            proc.wait(60)
    return results
