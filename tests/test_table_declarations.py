"""The core tables are declared once (the ORM in serving/core/tables.py, migrated by Alembic); everything the
lake and the warehouse say about them must agree with that declaration. A column added to one place and
not the others fails here, not in a night's pipeline run.

- the snapshot queries are derived from the lake's Arrow schemas: every column they read exists in the ORM,
  with a type the Arrow type can hold, and every ORM column is either in the lake or named below as kept out;
- the outbox relay's table mirror names columns the ORM has;
- the dbt sources are catalogued lake tables at the one lake location, and the core staging models select
  columns of the snapshot's schema only;
- the staged events accept exactly the lake's verbs.
(That the migrations build exactly the ORM is tests/serving/core/test_snapshot_and_migrations.py.)
"""

import re

import pyarrow as pa
import sqlalchemy as sa
import yaml

from lake.catalog import CORE_SNAPSHOTS, TABLES, get_spec
from lake.schemas import VERBS
from lake.sources.core_outbox import OUTBOX, RELAY_STATE
from lake.sources.core_snapshot import QUERIES
from serving.core.tables import Base
from tests.conftest import REPO_ROOT

# Columns of the core database that the lake does not get: people's identity and secrets stay in the core
# database (decision 6), and bookkeeping the analyses do not need.
KEPT_OUT = {
    "users": {"email", "name", "password_hash", "token_version"},
    "courses": set(),
    "modules": set(),
    "content_items": set(),
    "enrollments": set(),
    "item_progress": set(),
    # The lake takes an instructor's grade only; the answer's text and the grader's findings stay (the lake has
    # the automatic grade in the answer's event), and so does who reviewed it.
    "graded_answers": {"answer", "score", "confidence", "feedback", "status", "reviewer_comment", "reviewed_by",
                       "created_at"},
}

COMPATIBLE = [  # (Arrow type test, SQLAlchemy types that fit it)
    (pa.types.is_string, (sa.String, sa.Text, sa.Enum, sa.JSON)),
    (pa.types.is_boolean, (sa.Boolean,)),
    (pa.types.is_integer, (sa.Integer,)),
    (pa.types.is_floating, (sa.Float, sa.Numeric)),
    (pa.types.is_timestamp, (sa.DateTime,)),
    (pa.types.is_list, (sa.JSON,)),
]


def _selected(query) -> dict[str, str]:
    """lake column (or user id column) -> the core column it is read from, for columns of the ``t`` table."""
    user_of = {learner: user for user, learner in query.pseudonymise}
    read = {}
    for field in get_spec(query.table).schema:
        column = user_of.get(field.name, field.name)
        expression = query.columns.get(column, f"t.{column}")
        if expression.startswith("t."):
            read[field.name] = expression.removeprefix("t.")
    return read


def test_every_snapshot_column_is_an_orm_column_of_a_fitting_type():
    assert {q.table for q in QUERIES} == set(CORE_SNAPSHOTS)
    for query in QUERIES:
        table = Base.metadata.tables[query.source]
        schema = get_spec(query.table).schema
        for lake_column, core_column in _selected(query).items():
            assert core_column in table.c, f"{query.table}.{lake_column} reads {query.source}.{core_column}: no such column"
            if lake_column != core_column and lake_column.endswith("learner_id"):
                continue  # a user id, pseudonymised on the way
            arrow_type, sql_type = schema.field(lake_column).type, table.c[core_column].type
            if isinstance(sql_type, sa.types.TypeDecorator):
                sql_type = sql_type.impl_instance
            fits = [types for test, types in COMPATIBLE if test(arrow_type)]
            assert fits and isinstance(sql_type, fits[0]), \
                f"{query.table}.{lake_column} is {arrow_type}, {query.source}.{core_column} is {sql_type!r}"


def test_every_orm_column_is_in_the_lake_or_kept_out_on_purpose():
    for query in QUERIES:
        table = Base.metadata.tables[query.source]
        read = set(_selected(query).values()) | {c.split(".")[-1] for c in query.columns.values()}
        missing = {c.name for c in table.columns} - read - KEPT_OUT[query.source]
        assert not missing, f"{query.source} has {sorted(missing)}: add them to {query.table} or to KEPT_OUT"
        assert not (KEPT_OUT[query.source] & read), f"{query.source}: a column kept out is read"
        assert KEPT_OUT[query.source] <= {c.name for c in table.columns}, f"{query.source}: KEPT_OUT names a ghost"


def test_the_outbox_relay_mirror_names_orm_columns():
    for mirror in (OUTBOX, RELAY_STATE):
        orm = Base.metadata.tables[mirror.name]
        assert {c.name for c in mirror.columns} <= {c.name for c in orm.columns}, mirror.name


def test_dbt_sources_are_catalogued_tables_at_the_one_lake_location():
    sources = yaml.safe_load((REPO_ROOT / "dbt_project/models/staging/_sources.yml").read_text())["sources"]
    bronze = next(s for s in sources if s["name"] == "bronze")
    for table in bronze["tables"]:
        name = f"bronze.{table['name']}"
        assert name in TABLES, f"dbt source {name} is not a catalogued lake table"
        assert table["meta"]["delta_table_path"] == "{{ env_var('LEARNLAKE_LAKE_URI') }}/bronze/" + table["name"]
        assert table["meta"]["dagster"]["asset_key"] == ["bronze", table["name"]]


def test_core_staging_models_select_only_snapshot_columns():
    staging = REPO_ROOT / "dbt_project/models/staging"
    checked = 0
    for path in sorted(staging.glob("stg_core__*.sql")):
        sql = path.read_text()
        source = re.search(r"source\('bronze', '(\w+)'\)", sql).group(1)
        select_list = re.search(r"select\s+(.*?)\s+from", re.sub(r"--.*", "", sql), re.DOTALL | re.IGNORECASE).group(1)
        columns = {c.strip().split()[0] for c in select_list.split(",")}
        schema_columns = set(get_spec(f"bronze.{source}").schema.names)
        assert columns <= schema_columns, f"{path.name} selects {sorted(columns - schema_columns)}, not in bronze.{source}"
        checked += 1
    assert checked >= 4


def test_the_staged_events_accept_exactly_the_lakes_verbs():
    """dbt's YAML cannot import ``lake.schemas.VERBS``, so its list of accepted verbs is a copy: it must stay one."""
    models = yaml.safe_load((REPO_ROOT / "dbt_project/models/staging/stg_lake__events.yml").read_text())["models"]
    events = next(m for m in models if m["name"] == "stg_lake__events")
    verb = next(c for c in events["columns"] if c["name"] == "verb")
    accepted = next(t["accepted_values"] for t in verb["data_tests"] if isinstance(t, dict) and "accepted_values" in t)
    assert accepted["arguments"]["values"] == list(VERBS)
