"""The dashboards in a real browser: Debian's headless Chromium, driven by Playwright, against
`streamlit run` and the API, both on loopback, on a trained demo.

Each role signs in through the form and opens each of its pages from the sidebar; every page
is screenshotted under the test's temporary directory, and any exception Streamlit shows in a
page fails the test. The instructor's page must show the at-risk table with rows.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from benchmarks.harness import free_port
from serving.core.seed import DEMO_PASSWORD
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGES = {  # as dashboards/app.py lists them for each role
    "instructor": ["My courses"],
    "learner": ["My learning"],
    "analyst": ["Course activity", "Learning analytics"],
    "ml_engineer": ["Models"],
    "admin": ["Operations", "Models", "Courses", "Course activity", "Learning analytics"],
}


@pytest.fixture(scope="module")
def dashboard(served_demo):
    port = free_port()
    env = {**os.environ, "LEARNLAKE_HOME": str(served_demo["home"]), "LEARNLAKE_API_URL": served_demo["url"]}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboards" / "app.py"),
                             "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port",
                             str(port), "--browser.gatherUsageStats", "false"], env=env, cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not answer within 60 s")
    yield url
    proc.terminate()
    proc.wait(30)


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), "the browser tests need Debian's Chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _settled(page: Page, title: str) -> None:
    """The page's title is shown and its script has run to the end (Streamlit marks the app so)."""
    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=60_000)
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning",
                                                                     timeout=60_000)
    expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0, timeout=60_000)


def _no_exception(page: Page, where: str) -> None:
    shown = page.locator('[data-testid="stException"]')
    assert shown.count() == 0, f"{where}: {shown.first.inner_text()[:500]}"


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="E-mail").fill(email)
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("role", list(PAGES))
def test_each_page_of_each_role_renders_in_chromium(browser, dashboard, served_demo, role, tmp_path):
    email = {"instructor": served_demo["instructor"].email, "learner": served_demo["learner"],
             "analyst": "analyst@learnlake.example", "ml_engineer": "ml@learnlake.example",
             "admin": "admin@learnlake.example"}[role]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, dashboard, email)
    for title in PAGES[role]:
        if len(PAGES[role]) > 1:
            page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
        _settled(page, title)  # each page's title is its name in the sidebar
        page.screenshot(path=tmp_path / f"{role}-{title.lower().replace(' ', '-')}.png", full_page=True)
        _no_exception(page, f"{role} / {title}")
        if role == "instructor":
            expect(page.get_by_text("Learners at risk")).to_be_visible()
            grid = page.locator('[data-testid="stDataFrame"]').last.locator('[role="grid"]')
            assert int(grid.get_attribute("aria-rowcount")) > 1, "the at-risk table has rows"
    assert len(list(tmp_path.glob("*.png"))) == len(PAGES[role])
    page.close()



def test_the_learner_page_shows_reviews_with_reasons_searches_and_practises(browser, dashboard, served_demo, tmp_path):
    api = served_demo["url"]
    tokens = httpx.post(f"{api}/api/v1/auth/login", json={"email": served_demo["learner"], "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    me = httpx.get(f"{api}/api/v1/users/me", headers=headers).json()["id"]
    enrolled = httpx.get(f"{api}/api/v1/users/me/enrollments", params={"limit": 100}, headers=headers).json()["items"]
    course = next(e["course_id"] for e in enrolled if e["status"] != "unenrolled")  # the page's first course
    reviews = httpx.get(f"{api}/api/v1/learners/{me}/reviews", params={"course_id": course}, headers=headers).json()
    due = [r for r in reviews["reviews"] if r["due"]]
    assert reviews["reviews"], "the demo learner has answered questions in their first course"

    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    _sign_in(page, dashboard, served_demo["learner"])
    _settled(page, "My learning")
    expect(page.get_by_role("heading", name="Due for review")).to_be_visible()
    if due:  # the weakest due skill, by name, with its reason in words
        expect(page.get_by_text(due[0]["reason"], exact=False).first).to_be_visible()
    else:
        expect(page.get_by_text("Nothing due for review")).to_be_visible()
    page.get_by_role("textbox", name="Search this course").fill(reviews["reviews"][0]["skill_name"])
    page.keyboard.press("Enter")
    expect(page.get_by_text("items match")).to_be_visible(timeout=30_000)
    _settled(page, "My learning")  # the search's rerun draws the practice question again: click once it is done
    # A practice question made from the material, answered and marked with the sentence that settles it.
    options = page.get_by_role("radiogroup", name="Your answer")
    if options.count():
        options.get_by_role("radio").first.check(force=True)
    else:
        page.get_by_role("textbox", name="Your answer (the missing words)").fill("a guess")
    page.get_by_role("button", name="Check").click()
    marking = page.get_by_text(re.compile(r"^(Right\.|Not quite: the answer is) .*From .+: "))
    expect(marking).to_be_visible(timeout=30_000)
    page.screenshot(path=tmp_path / "learner-reviews-search-practice.png", full_page=True)
    # The marking stays while the learner searches again, and goes with the next question.
    page.get_by_role("textbox", name="Search this course").fill(reviews["reviews"][-1]["skill_name"])
    page.keyboard.press("Enter")
    _settled(page, "My learning")
    expect(marking).to_be_visible()
    page.get_by_role("button", name="Next question").click()
    _settled(page, "My learning")
    expect(marking).to_have_count(0)
    _no_exception(page, "learner / reviews, search and practice")
    page.close()
