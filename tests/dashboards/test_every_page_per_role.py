"""Every page of every role, signed in through the app under Streamlit's AppTest: on an empty
platform each says there is no data yet, on the demo each renders its data; none raises.

The empty platform is a fresh home with one account per role and the API serving it on
loopback: no events, no warehouse, no model, no course.
"""

import json
import re

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from benchmarks.harness import free_port, start_api
from dashboards.tables import MISSING
from learnlake.settings import Settings, get_settings
from serving.core.enums import Role
from serving.core.migrate import upgrade
from serving.core.security import hash_password
from serving.core.seed import DEMO_PASSWORD
from serving.core.tables import User
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
APP = REPO_ROOT / "dashboards" / "app.py"
# As dashboards/app.py lists them (imported from there, the module would run the app).
PAGES = {"instructor": ["pages/instructor_courses.py"], "learner": ["pages/learner_home.py"],
         "analyst": ["pages/course_activity.py", "pages/learning_analytics.py"],
         "ml_engineer": ["pages/models.py"],
         "admin": ["pages/operations.py", "pages/models.py", "pages/instructor_courses.py",
                   "pages/course_activity.py", "pages/learning_analytics.py"]}
EMPTY = ("No data yet", "No courses yet", "You are not enrolled in any course yet")


def test_the_page_list_is_the_apps():
    listed = APP.read_text()
    assert all(f'"{page}"' in listed for pages in PAGES.values() for page in pages)
    assert {role.value for role in Role} == set(PAGES)


@pytest.fixture(scope="module")
def empty_platform(tmp_path_factory):
    home = tmp_path_factory.mktemp("empty") / "learnlake"
    settings = Settings(home=home)
    upgrade(settings.database_url)
    engine = sa.create_engine(settings.database_url)
    emails = {role.value: f"{role.value}@empty.test" for role in Role}
    with engine.begin() as con:
        for role, email in emails.items():
            con.execute(sa.insert(User).values(id=f"user-{role}", email=email, name=f"An {role}", role=role,
                                               password_hash=hash_password(DEMO_PASSWORD)))
    engine.dispose()
    port = free_port()
    api = start_api(home, port, env={"LEARNLAKE_WRITER_ID": "empty-dashboards-test"})
    try:
        yield {"url": f"http://127.0.0.1:{port}", "home": home, "emails": emails}
    finally:
        api.terminate()
        api.wait(60)


def _signed_in(platform: dict, email: str, monkeypatch) -> AppTest:
    # Pages cache their reads per process; a served app has one home, this test process two.
    st.cache_data.clear()
    monkeypatch.setenv("LEARNLAKE_HOME", str(platform["home"]))
    monkeypatch.setenv("LEARNLAKE_API_URL", platform["url"])
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.text_input[0].input(email)
    at.text_input[1].input(DEMO_PASSWORD)
    at.button[0].click()
    return at.run()


@pytest.mark.parametrize("role", list(PAGES))
def test_on_an_empty_platform_every_page_says_there_is_no_data_yet(empty_platform, role, monkeypatch):
    at = _signed_in(empty_platform, empty_platform["emails"][role], monkeypatch)
    try:
        for page in PAGES[role]:
            at.switch_page(page).run()
            assert not at.exception, f"{role} {page}: {at.exception}"
            assert not at.error, f"{role} {page}: {[e.value for e in at.error]}"
            said = [i.value for i in at.info]
            assert any(s.startswith(EMPTY) for s in said), f"{role} {page} says {said}"
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("role", list(PAGES))
def test_on_the_demo_every_page_renders_its_data(served_demo, role, monkeypatch):
    emails = {"instructor": served_demo["instructor"].email, "learner": served_demo["learner"],
              "analyst": "analyst@learnlake.example", "ml_engineer": "ml@learnlake.example",
              "admin": "admin@learnlake.example"}
    at = _signed_in(served_demo, emails[role], monkeypatch)
    try:
        for page in PAGES[role]:
            at.switch_page(page).run()
            assert not at.exception, f"{role} {page}: {at.exception}"
            assert not at.error, f"{role} {page}: {[e.value for e in at.error]}"
            # Only what too few learners typed stays hidden on the demo (a privacy floor, not missing data), the
            # simulated learners never ask the tutor (its questions come from people, through the API), and the
            # demo evaluates nothing on real data sets (`learnlake eval` reads files the demo does not have).
            missing = [i.value for i in at.info if i.value.startswith(EMPTY) and "several learners" not in i.value
                       and "asked to the tutor" not in i.value and "evaluation on real data" not in i.value]
            assert not missing, f"{role} {page}: {missing}"
            assert at.dataframe or at.metric, f"{role} {page} shows neither a table nor a figure"
            for table in at.dataframe:
                # A missing value reads as a dash, not as Streamlit's "None" (a video has no first-attempt accuracy),
                # and every column is headed in words, not by its name in the API ("days_since_last_activity").
                assert table.proto.placeholder == MISSING, f"{role} {page}"
                labels = [column.get("label") for column in json.loads(table.proto.columns).values()
                          if not column.get("hidden")]  # the index, hidden
                assert len(labels) >= len(table.value.columns), f"{role} {page}: {list(table.value.columns)}"
                assert all(label and not re.fullmatch(r"\w+_\w+", label) for label in labels), f"{role} {page}: {labels}"
    finally:
        get_settings.cache_clear()
