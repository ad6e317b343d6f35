"""The recommendations' fallback for courses the model has not seen: the items a learner has not
completed, in course order, read by plain SQL (SQLite's driver, or SQLAlchemy on PostgreSQL)."""

from serving.api.course_access import CourseRef
from serving.api.routes.learner_models import _in_course_order
from serving.core.enums import Role


def test_items_not_completed_come_in_course_order(api):
    teacher, learner, newcomer = api.user(Role.INSTRUCTOR), api.user(Role.LEARNER), api.user(Role.LEARNER)
    course = api.course(teacher, items=4)
    ids, base = course["item_ids"], f"/api/v1/courses/{course['id']}"
    assert api.client.post(f"{base}/enrollments", headers=learner.headers).is_success
    for item, status in ((ids[1], "completed"), (ids[2], "started")):
        assert api.client.post(f"{base}/progress", json={"item_id": item, "status": status},
                               headers=learner.headers).is_success
    database, ref = api.client.app.state.database, CourseRef(course["id"], "published", teacher.id)

    ahead = _in_course_order(database, ref, learner.id, 10, "next in the course")
    assert [i.item_id for i in ahead] == [ids[0], ids[2], ids[3]], "a started item is still ahead"
    assert [i.rank for i in ahead] == [1, 2, 3] and {i.reason for i in ahead} == {"next in the course"}
    assert [i.item_id for i in _in_course_order(database, ref, learner.id, 2, "")] == [ids[0], ids[2]]
    assert [i.item_id for i in _in_course_order(database, ref, newcomer.id, 10, "")] == ids
