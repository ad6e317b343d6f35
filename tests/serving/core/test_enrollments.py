"""Enrolment, progress, a course's learners and its aggregates."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from serving.core.tables import OutboxEvent


def test_enrolling_is_idempotent_and_leaving_keeps_the_record(api):
    teacher, learner = api.user("instructor"), api.user()
    course = api.course(teacher)
    url = f"/api/v1/courses/{course['id']}/enrollments"
    first = api.client.post(url, headers=learner.headers)
    assert first.status_code == 201
    again = api.client.post(url, headers=learner.headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert api.client.delete(f"{url}/me", headers=learner.headers).status_code == 204
    assert api.client.delete(f"{url}/me", headers=learner.headers).status_code == 404
    mine = api.client.get("/api/v1/users/me/enrollments", headers=learner.headers).json()
    assert [e["status"] for e in mine["items"]] == ["unenrolled"]
    back = api.client.post(url, headers=learner.headers)
    assert back.status_code == 201 and back.json()["id"] == first.json()["id"]
    assert back.json()["status"] == "active"


def test_drafts_and_archived_courses_take_no_enrolments(api):
    teacher, learner = api.user("instructor"), api.user()
    draft = api.course(teacher, publish=False)
    assert api.client.post(f"/api/v1/courses/{draft['id']}/enrollments", headers=learner.headers).status_code == 404
    archived = api.course(teacher)
    api.client.post(f"/api/v1/courses/{archived['id']}/archive", headers=teacher.headers)
    refused = api.client.post(f"/api/v1/courses/{archived['id']}/enrollments", headers=learner.headers)
    assert refused.status_code == 409 and "archived" in refused.json()["detail"]


def test_progress_recomputes_the_percent_and_completes_the_enrollment(api):
    teacher, learner = api.user("instructor"), api.user()
    course = api.course(teacher, items=4)
    base = f"/api/v1/courses/{course['id']}"
    assert api.client.post(f"{base}/progress", json={"item_id": course["item_ids"][0], "status": "completed"},
                           headers=learner.headers).status_code == 409  # not enrolled yet
    api.client.post(f"{base}/enrollments", headers=learner.headers)
    started = api.client.post(f"{base}/progress", json={"item_id": course["item_ids"][0], "status": "started",
                                                        "time_spent_s": 30}, headers=learner.headers).json()
    assert started["enrollment"]["progress_percent"] == 0
    for item_id in course["item_ids"][:3]:
        done = api.client.post(f"{base}/progress", json={"item_id": item_id, "status": "completed", "score": 0.9,
                                                         "time_spent_s": 60}, headers=learner.headers).json()
    assert done["enrollment"]["progress_percent"] == 75.0
    # Starting a completed item again does not undo its completion.
    again = api.client.post(f"{base}/progress", json={"item_id": course["item_ids"][0], "status": "started"},
                            headers=learner.headers).json()
    assert again["enrollment"]["progress_percent"] == 75.0
    first = next(p for p in again["items"] if p["item_id"] == course["item_ids"][0])
    assert first["status"] == "completed" and first["time_spent_s"] == 90
    final = api.client.post(f"{base}/progress", json={"item_id": course["item_ids"][3], "status": "completed"},
                            headers=learner.headers).json()
    assert final["enrollment"]["progress_percent"] == 100.0
    assert final["enrollment"]["status"] == "completed"
    assert final["enrollment"]["completed_at"] is not None
    assert api.client.get(f"{base}/progress", headers=learner.headers).json() == final


def test_progress_on_an_item_of_another_course_is_refused(api):
    teacher, learner = api.user("instructor"), api.user()
    course, other = api.course(teacher), api.course(teacher)
    api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=learner.headers)
    response = api.client.post(f"/api/v1/courses/{course['id']}/progress",
                               json={"item_id": other["item_ids"][0], "status": "completed"}, headers=learner.headers)
    assert response.status_code == 404


def test_instructors_see_their_learners_and_analysts_see_only_counts(api):
    teacher, other_teacher, analyst = api.user("instructor"), api.user("instructor"), api.user("analyst")
    course = api.course(teacher, items=2)
    learners = [api.user() for _ in range(3)]
    for learner in learners:
        api.client.post(f"/api/v1/courses/{course['id']}/enrollments", headers=learner.headers)
    api.client.post(f"/api/v1/courses/{course['id']}/progress", json={"item_id": course["item_ids"][0],
                    "status": "completed"}, headers=learners[0].headers)
    roster = api.client.get(f"/api/v1/courses/{course['id']}/enrollments", params={"sort": "-progress_percent"},
                            headers=teacher.headers).json()
    assert roster["total"] == 3
    assert roster["items"][0]["email"] == learners[0].email
    assert roster["items"][0]["progress_percent"] == 50.0
    assert api.client.get(f"/api/v1/courses/{course['id']}/enrollments",
                          headers=other_teacher.headers).status_code == 403
    assert api.client.get(f"/api/v1/courses/{course['id']}/enrollments", headers=analyst.headers).status_code == 403
    stats = api.client.get(f"/api/v1/courses/{course['id']}/stats", headers=analyst.headers)
    assert stats.json() == {"course_id": course["id"], "enrollments": 3, "active": 3, "completed": 0,
                            "unenrolled": 0, "mean_progress_percent": pytest.approx(16.67), "items": 2}
    assert "@" not in stats.text
    assert api.client.get(f"/api/v1/courses/{course['id']}/stats", headers=other_teacher.headers).status_code == 403


def test_fifty_parallel_enrolments_make_one_enrollment(api):
    teacher, learner = api.user("instructor"), api.user()
    course = api.course(teacher)
    url = f"/api/v1/courses/{course['id']}/enrollments"
    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(lambda _: api.client.post(url, headers=learner.headers), range(50)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 49 + [201], codes
    assert len({r.json()["id"] for r in responses}) == 1
    roster = api.client.get(url, headers=teacher.headers).json()
    assert roster["total"] == 1


def test_a_hundred_concurrent_progress_updates_leave_a_consistent_percent(api):
    teacher, learner = api.user("instructor"), api.user()
    course = api.course(teacher, items=20)
    base = f"/api/v1/courses/{course['id']}"
    api.client.post(f"{base}/enrollments", headers=learner.headers)
    # 100 reports over 20 items: each item completed 5 times, concurrently.
    bodies = [{"item_id": course["item_ids"][i % 20], "status": "completed", "time_spent_s": 1.0} for i in range(100)]
    with ThreadPoolExecutor(32) as pool:
        responses = list(pool.map(lambda b: api.client.post(f"{base}/progress", json=b, headers=learner.headers),
                                  bodies))
    assert all(r.status_code == 200 for r in responses), {r.status_code for r in responses}
    final = api.client.get(f"{base}/progress", headers=learner.headers).json()
    assert final["enrollment"]["progress_percent"] == 100.0
    assert final["enrollment"]["status"] == "completed"
    assert len(final["items"]) == 20
    assert sum(p["time_spent_s"] for p in final["items"]) == 100.0  # no update lost
    # The percents seen along the way only ever rose.
    seen = sorted(r.json()["enrollment"]["progress_percent"] for r in responses)
    assert seen[-1] == 100.0 and seen[0] >= 5.0


def test_content_changes_recompute_the_percents_of_the_course(api):
    teacher, learner = api.user("instructor"), api.user()
    course = api.course(teacher, items=2)
    base = f"/api/v1/courses/{course['id']}"
    api.client.post(f"{base}/enrollments", headers=learner.headers)
    api.client.post(f"{base}/progress", json={"item_id": course["item_ids"][0], "status": "completed"},
                    headers=learner.headers)
    api.client.post(f"{base}/modules/{course['module_id']}/items", json={"content_type": "quiz", "title": "Q"},
                    headers=teacher.headers)
    assert api.client.get(f"{base}/progress", headers=learner.headers).json()["enrollment"]["progress_percent"] == 33.33
    # Removing everything the learner has not done completes their enrollment.
    items = api.client.get(f"{base}/modules", headers=teacher.headers).json()[0]["items"]
    for item in items[1:]:
        api.client.delete(f"{base}/items/{item['id']}", headers=teacher.headers)
    enrollment = api.client.get(f"{base}/progress", headers=learner.headers).json()["enrollment"]
    assert (enrollment["progress_percent"], enrollment["status"]) == (100.0, "completed")
    with api.client.app.state.database.read() as session:
        events = session.scalars(sa.select(OutboxEvent.event_type).where(OutboxEvent.entity_type == "enrollment")
                                 .order_by(OutboxEvent.id)).all()
    assert events[-3:] == ["enrollment.recomputed", "enrollment.recomputed", "enrollment.completed"]
