"""The access audit, and what the lake side reads of the core database's privacy tables."""

import sqlalchemy as sa

from lake.sources.core_privacy import ERASURES
from serving.core.enums import Role
from serving.core.tables import AccessRecord, Erasure


def test_the_lake_reads_the_erasures_table_by_the_models_own_column_names():
    assert {c.name for c in ERASURES.columns} == {c.name for c in Erasure.__table__.columns}


def test_reads_of_a_learners_data_by_others_are_audited_and_queryable(api):
    admin, owner, learner, other = api.user(Role.ADMIN), api.user(Role.INSTRUCTOR), api.user(), api.user()
    course = api.course(owner, items=1)
    for who in (learner, other):
        api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=who.headers)
    assert api.client.get(f"/api/v1/courses/{course['id']}/enrollments", headers=owner.headers).status_code == 200
    assert api.client.get(f"/api/v1/users/{learner.id}", headers=admin.headers).status_code == 200
    assert api.client.get("/api/v1/users/me", headers=learner.headers).status_code == 200  # one's own: not audited

    everything = api.client.get("/api/v1/admin/audit", headers=admin.headers).json()
    assert {(r["reader_id"], r["action"], r["learner_id"]) for r in everything["items"]} == {
        (owner.id, "course_learners", learner.id), (owner.id, "course_learners", other.id),
        (admin.id, "user_read", learner.id)}
    mine = api.client.get("/api/v1/admin/audit", params={"learner_id": learner.id}, headers=admin.headers).json()
    assert mine["total"] == 2 and {r["reader_role"] for r in mine["items"]} == {"instructor", "admin"}
    by_owner = api.client.get("/api/v1/admin/audit", params={"reader_id": owner.id, "action": "course_learners"},
                              headers=admin.headers).json()
    assert by_owner["total"] == 2
    future = api.client.get("/api/v1/admin/audit", params={"since": "2999-01-01T00:00:00Z"}, headers=admin.headers)
    assert future.json()["total"] == 0
    assert api.client.get("/api/v1/admin/audit", headers=owner.headers).status_code == 403


def test_an_erasure_takes_the_learners_id_out_of_the_audit_log(api):
    admin, learner = api.user(Role.ADMIN), api.user()
    api.client.get(f"/api/v1/users/{learner.id}", headers=admin.headers)
    assert api.client.post(f"/api/v1/admin/users/{learner.id}/erasure", headers=admin.headers).status_code == 202
    with api.client.app.state.database.read() as session:
        learners = session.scalars(sa.select(AccessRecord.learner_id)).all()
    assert learners == ["erased"]
