"""dbt builds green on the real datasets, each loaded the way a user would load it."""


import duckdb
import pytest

from lake import writers
from lake.catalog import CORE_SNAPSHOTS
from lake.sources.core_snapshot import empty_table, snapshot_core_tables
from lake.sources.datasets.loading import load_dataset
from lake.sources.datasets.openstax import read_book
from pipelines.defs.transforms.project import dbt_build
from serving.core.db import Database
from serving.core.imports import import_book
from serving.core.migrate import upgrade
from serving.core.outbox import Outbox
from tests.conftest import real_data_dir

pytestmark = pytest.mark.integration

DATA_DIR = real_data_dir()
ACTIVITY = ("assistments", "kddcup2015", "oulad")


def test_the_marts_build_on_every_real_dataset(learnlake_home):
    settings = learnlake_home
    missing = [name for name in (*ACTIVITY, "openstax-python") if not (DATA_DIR / name).is_dir()]
    if missing:
        pytest.skip(f"real datasets {missing} not under {DATA_DIR} (set LEARNLAKE_DATA_DIR)")
    for name in ACTIVITY:
        load_dataset(name, DATA_DIR / name, settings)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    import_book(database, Outbox.for_settings(settings), read_book(DATA_DIR / "openstax-python"))
    database.dispose()
    for name in CORE_SNAPSHOTS:
        writers.merge(name, empty_table(name), settings=settings)
    snapshot_core_tables(settings.database_url, settings)

    dbt_build(settings)  # raises with dbt's output when a model or a test fails

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        sources = dict(con.sql("select source, count(*) from staging.stg_lake__events group by 1").fetchall())
        assert set(sources) == set(ACTIVITY)
        courses = dict(con.sql("select source, count(*) from marts.dim_courses group by 1").fetchall())
        assert courses["kddcup2015"] == len(list((DATA_DIR / "kddcup2015").glob("trainCourse*.csv")))
        assert courses["oulad"] == 12 and courses["assistments"] == 1
        assert courses["core-api"] == 1  # the OpenStax book, a course without activity yet
        lessons = con.execute("select count(*) from marts.dim_content_items where content_type = 'lesson'").fetchone()[0]
        assert lessons == 115
        skills = con.execute("select count(*) from marts.fct_learner_skill_practice").fetchone()[0]
        assert skills > 0  # ASSISTments answers name their skills
        oulad_grades = con.execute("select sum(learners) from marts.fct_course_grade_distribution "
                               "where course_id like 'oulad:%'").fetchone()[0]
        assert oulad_grades > 0
