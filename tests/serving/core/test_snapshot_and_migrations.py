"""The core tables reach bronze.core_* incrementally and without PII; migrations match the models."""

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lake import readers
from lake.privacy import learner_id_for
from lake.sources.core_snapshot import snapshot_core_tables
from serving.core.migrate import alembic_config, current_revision, head_revision, upgrade
from serving.core.tables import Base, GradedAnswer


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


def test_an_instructors_grade_of_a_written_answer_reaches_the_lake_and_leaves_with_the_answer(api):
    teacher, learner = api.user("instructor"), api.user()
    course = api.course(teacher, items=1)
    item = f"/api/v1/courses/{course['id']}/items/{course['item_ids'][0]}"
    api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=learner.headers)
    assert api.client.put(f"{item}/assessment", json={"reference": "a loop repeats code", "points": 4},
                          headers=teacher.headers).is_success
    reviewed, _not_reviewed = (api.client.post(f"{item}/answers", json={"answer": text}, headers=learner.headers).json()
                      for text in ("it goes round", "a loop repeats code"))
    queue = f"/api/v1/courses/{course['id']}/review-queue"
    assert api.client.post(f"{queue}/{reviewed['answer_id']}", json={"score": 3, "comment": "nearly"},
                           headers=teacher.headers).is_success
    first = snapshot_core_tables(api.settings.database_url, api.settings)
    assert first["bronze.core_answer_reviews"]["inserted"] == 1, "answers nobody graded stay out"
    grades = readers.read_table("bronze.core_answer_reviews")
    key = api.settings.pseudonym_key.get_secret_value()
    assert grades.select("answer_id", "learner_id", "reviewed_score", "points").rows() == [
        (reviewed["answer_id"], learner_id_for(learner.id, key), 3, 4)]
    assert "nearly" not in grades.write_json() and "goes round" not in grades.write_json()

    # A grade changed is merged; an answer that goes (erasure, retention) takes its grade out of the lake.
    assert api.client.post(f"{queue}/{reviewed['answer_id']}", json={"score": 4}, headers=teacher.headers).is_success
    snapshot_core_tables(api.settings.database_url, api.settings)
    assert readers.read_table("bronze.core_answer_reviews")["reviewed_score"].to_list() == [4]
    with api.client.app.state.database.write() as session:
        session.execute(sa.delete(GradedAnswer).where(GradedAnswer.id == reviewed["answer_id"]))
    assert snapshot_core_tables(api.settings.database_url, api.settings)["bronze.core_answer_reviews"]["deleted"] == 1
    assert readers.read_table("bronze.core_answer_reviews").height == 0
