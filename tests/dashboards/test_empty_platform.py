from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT


def test_the_app_opens_on_sign_in(learnlake_home):
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Sign in to LearnLake"


def test_empty_platform_says_no_data_yet(learnlake_home):
    # The page as the app shows it to an analyst (the app's navigation serves it only after sign-in).
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "course_activity.py"), default_timeout=30).run()
    assert not at.exception
    assert at.info[0].value.startswith("No data yet")


def test_operations_on_an_empty_platform_say_no_data_yet(learnlake_home):
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "operations.py"), default_timeout=30).run()
    assert not at.exception
    assert at.metric[0].value == "0" and at.metric[1].value == "none yet"
    assert all(i.value.startswith("No data yet") for i in at.info) and len(at.info) == 3


def test_learning_analytics_on_an_empty_platform_say_no_data_yet(learnlake_home):
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "learning_analytics.py"), default_timeout=30).run()
    assert not at.exception
    assert at.info[0].value.startswith("No data yet")


def test_models_on_an_empty_platform_say_no_data_yet(learnlake_home):
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "pages" / "models.py"), default_timeout=30).run()
    assert not at.exception
    assert at.info[0].value.startswith("No data yet")
