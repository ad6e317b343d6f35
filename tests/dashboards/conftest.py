"""The session's trained demo with the API serving it on loopback, shared by the dashboards' tests."""

import pytest
import sqlalchemy as sa

from benchmarks.harness import free_port, start_api


@pytest.fixture(scope="package")
def served_demo(trained_demo):
    settings = trained_demo
    port = free_port()
    # Every page test signs in again, a few dozen times a minute when they run back to back (the sign-in limit
    # is tested in tests/serving/core/test_rate_limits.py, not here).
    api = start_api(settings.home, port, env={"LEARNLAKE_WRITER_ID": "dashboards-test",
                                              "LEARNLAKE_RATE_LIMIT_AUTH": "1000/minute"})
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as con:
        instructor = con.execute(sa.text("select id, email from users where role = 'instructor' "
                                         "and password_hash is not null")).first()
        learner = con.execute(sa.text("select email from users where role = 'learner' "
                                      "and password_hash is not null")).scalar()
        courses = dict(con.execute(sa.text("select id, instructor_id from courses")).all())
    engine.dispose()
    try:
        yield {"url": f"http://127.0.0.1:{port}", "home": settings.home, "instructor": instructor, "learner": learner,
               "courses": courses}
    finally:
        api.terminate()
        api.wait(60)
