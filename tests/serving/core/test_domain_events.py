"""One payload schema per domain event type, whoever emits it: the routes, the seeder and the book importer."""

from collections import defaultdict

import pytest
import sqlalchemy as sa

from lake.sources.datasets.openstax import Book, BookChapter, BookSection
from lake.sources.simulator import SimulationConfig, simulate
from serving.core.domain_events import UnknownDomainEvent, payload_of
from serving.core.imports import import_book
from serving.core.seed import seed_from_simulation
from serving.core.tables import OutboxEvent
from tests.serving.core.test_outbox import _drive_some_changes


def _book() -> Book:
    sections = [BookSection(module_id=f"m{i:05d}", title=f"Section {i}", markdown=f"# Section {i}\n\nText {i}.",
                        path=f"modules/m{i:05d}/index.cnxml") for i in range(1, 4)]
    return Book(uuid="b-1", slug="a-book", title="A Book", license_url="https://creativecommons.org/licenses/by/4.0/",
                chapters=[BookChapter(title="One", sections=sections)])


def test_every_emitter_writes_each_event_type_in_its_one_shape(api):
    database, outbox = api.client.app.state.database, api.client.app.state.outbox
    _drive_some_changes(api)  # the routes
    course = api.course(api.user("instructor"), items=2)
    base = f"/api/v1/courses/{course['id']}"
    editor = api.user("admin")
    module = api.client.post(f"{base}/modules", json={"title": "Extra"}, headers=editor.headers).json()
    api.client.patch(f"{base}/modules/{module['id']}", json={"title": "Extra, renamed"}, headers=editor.headers)
    api.client.patch(f"{base}/items/{course['item_ids'][0]}", json={"title": "Renamed"}, headers=editor.headers)
    api.client.delete(f"{base}/items/{course['item_ids'][1]}", headers=editor.headers)
    api.client.delete(f"{base}/modules/{module['id']}", headers=editor.headers)
    seed_from_simulation(database, outbox, simulate(SimulationConfig(learners=6, courses=1, days=7)))  # the seeder
    import_book(database, outbox, _book())  # the importer
    with database.read() as session:
        rows = session.execute(sa.select(OutboxEvent.event_type, OutboxEvent.payload)).all()

    shapes = defaultdict(set)
    for event_type, payload in rows:
        assert payload_of(event_type, payload) == payload  # stored as its schema says
        shapes[event_type].add(frozenset(k for k in payload if k not in ("score", "time_spent_s", "skills",
                                                                           "difficulty", "estimated_minutes")))
    assert {"course.created", "course.published", "module.created", "module.updated", "module.deleted",
            "content_item.created", "content_item.updated", "content_item.deleted", "enrollment.created",
            "progress.updated", "user.registered", "user.updated"} <= set(shapes)
    # The same type from three emitters: one set of required facts.
    assert shapes["course.created"] == {frozenset({"title", "instructor_learner_id"})}
    assert all(len(keys) == 1 for keys in shapes.values()), {t: k for t, k in shapes.items() if len(k) > 1}


@pytest.mark.parametrize(("event_type", "facts", "reason"), [
    ("course.renamed", {}, "no domain event type"),
    ("course.created", {"title": "No instructor"}, "instructor_learner_id"),
    ("course.deleted", {"email": "someone@example.org"}, "extra"),
    ("progress.updated", {"status": "active", "item_id": "i1", "item_status": "done", "score": "high"}, "score"),
])
def test_an_event_that_breaks_its_schema_is_refused(event_type, facts, reason):
    with pytest.raises(UnknownDomainEvent, match=reason):
        payload_of(event_type, facts)
