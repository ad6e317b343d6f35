import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT


def test_the_app_opens_on_sign_in(learnlake_home):
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Sign in to LearnLake"


@pytest.mark.parametrize("page", ["course_activity", "learning_analytics", "models"])
def test_an_empty_platform_says_no_data_yet(learnlake_home, page):
    # The page as the app shows it (the app's navigation serves it only after sign-in).
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / f"{page}.py"), default_timeout=30).run()
    assert not at.exception
    assert at.info[0].value.startswith("No data yet")


def test_operations_on_an_empty_platform_say_no_data_yet(learnlake_home):
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "operations.py"), default_timeout=30).run()
    assert not at.exception
    assert at.metric[0].value == "0" and at.metric[1].value == "none yet"
    assert all(i.value.startswith("No data yet") for i in at.info) and len(at.info) == 3


def test_operations_name_a_failing_committer_and_its_error(learnlake_home):
    from lake.committer_health import CommitterHealth
    from lake.landing import LandingLog

    writer = learnlake_home.landing_dir / "api-0"
    log = LandingLog(writer, "api-0")
    log.append(["e-1"], b'[{"event_id": "e-1"}]', source="api")
    log.close()
    health = CommitterHealth()
    for _ in range(4):
        health.failed(OSError("No space left on device"))
    health.write(writer)
    st.cache_data.clear()  # the page keeps its reads for 15 s, across the apps of this process
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "operations.py"), default_timeout=30).run()
    assert not at.exception
    assert "Ingestion is failing on api-0" in at.error[0].value and "No space left" in at.error[0].value
    backlog = next(d.value for d in at.dataframe if "committer" in d.value.columns)
    assert backlog.loc[0, "committer"] == "failing" and backlog.loc[0, "failures_in_a_row"] == 4
