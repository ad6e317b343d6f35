"""The core tables reach bronze.core_* incrementally and without PII; migrations match the models."""

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lake import readers
from lake.privacy import learner_id_for
from lake.sources.core_snapshot import snapshot_core_tables
from serving.core.migrate import alembic_config, current_revision, head_revision, upgrade
from serving.core.tables import Base


def test_snapshots_merge_changes_and_deletions_and_hold_no_pii(api):
    teacher, learner = api.user("instructor"), api.user()
    course = api.course(teacher, items=3)
    base = f"/api/v1/courses/{course['id']}"
    api.client.post(f"{base}/enrollments", headers=learner.headers)
    api.client.post(f"{base}/progress", json={"item_id": course["item_ids"][0], "status": "completed"},
                    headers=learner.headers)
    first = snapshot_core_tables(api.settings.database_url, api.settings)
    assert first["bronze.core_users"]["inserted"] == 2
    assert first["bronze.core_content_items"]["inserted"] == 3
    key = api.settings.pseudonym_key.get_secret_value()
    enrollments = readers.read_table("bronze.core_enrollments")
    assert enrollments["learner_id"].to_list() == [learner_id_for(learner.id, key)]
    assert enrollments["progress_percent"].to_list() == [33.33]
    users = readers.read_table("bronze.core_users")
    assert set(users.columns) == {"learner_id", "role", "is_active", "created_at", "updated_at"}
    lake_text = "".join(readers.read_table(t).write_json() for t in (
        "bronze.core_users", "bronze.core_courses", "bronze.core_enrollments", "bronze.core_item_progress"))
    for person in (teacher, learner):
        assert person.id not in lake_text and person.email not in lake_text

    # Changes since the last snapshot are merged; unchanged rows are not read again.
    api.client.post(f"{base}/progress", json={"item_id": course["item_ids"][1], "status": "completed"},
                    headers=learner.headers)
    api.client.delete(f"{base}/items/{course['item_ids'][2]}", headers=teacher.headers)
    second = snapshot_core_tables(api.settings.database_url, api.settings)
    assert second["bronze.core_users"]["read"] <= 1  # only rows at the watermark itself come back
    assert second["bronze.core_item_progress"]["inserted"] == 1
    assert second["bronze.core_content_items"]["deleted"] == 1
    assert readers.read_table("bronze.core_enrollments")["progress_percent"].to_list() == [100.0]
    assert readers.read_table("bronze.core_content_items").height == 2
    assert readers.read_table("bronze.core_enrollments").height == 1


def test_the_migrations_build_exactly_the_tables_the_models_describe(database_url):
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_go_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'core.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == head_revision()
