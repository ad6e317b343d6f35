"""Seeding the core database with a simulation: once, idempotent, and refused over another one."""

import pytest
import sqlalchemy as sa

from lake.sources.simulator import SimulationConfig, simulate
from learnlake.errors import ConfigurationError
from serving.core.db import Database
from serving.core.migrate import upgrade
from serving.core.outbox import Outbox
from serving.core.pseudonyms import Pseudonyms
from serving.core.seed import seed_from_simulation
from serving.core.tables import Enrollment, OutboxEvent, User


def _count(database: Database, table) -> int:
    with database.read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(table))


def test_seeding_is_idempotent_and_refuses_a_different_simulation(database_url):
    upgrade(database_url)
    database, outbox = Database(database_url), Outbox(Pseudonyms("test-key"))
    try:
        sim = simulate(SimulationConfig(learners=15, courses=2, days=14))
        counts = seed_from_simulation(database, outbox, sim)
        # the simulated users, and the admin, analyst and ML engineer demo accounts
        assert counts.users == sim.users.height + 3 and counts.enrollments == sim.enrollments.height
        assert _count(database, Enrollment) == sim.enrollments.height
        events = _count(database, OutboxEvent)
        with database.read() as session:
            completed = session.scalar(sa.select(sa.func.count()).where(Enrollment.status == "completed"))
        # every seeded change has its domain event, as if it had happened through the API (a completed course too)
        assert events == (counts.users + 2 * counts.courses + sim.modules.height + sim.content_items.height
                          + counts.enrollments + counts.progress + completed)
        assert seed_from_simulation(database, outbox, sim).users == 0  # the same one again: nothing
        other = simulate(SimulationConfig(learners=15, courses=2, days=14, seed=7))
        with pytest.raises(ConfigurationError, match="seed into a fresh"):
            seed_from_simulation(database, outbox, other)
        assert _count(database, User) == counts.users and _count(database, OutboxEvent) == events
    finally:
        database.dispose()
