from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT


def test_empty_platform_says_no_data_yet(learnlake_home):
    at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert at.info[0].value.startswith("No data yet")
