"""Seeds the core database with the simulator's users, courses, enrollments and progress (the demo).

Seeded accounts cannot sign in (no password), except the demo accounts listed in
``DEMO_ACCOUNTS``, which share ``DEMO_PASSWORD``. Every seeded change goes through the
outbox with the simulated time at which it happened, as a live platform would have written it.
Seeding twice adds nothing.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import func, select

from lake.schemas import CONTENT_TYPES
from lake.sources.simulator import Simulation
from learnlake.errors import ConfigurationError
from learnlake.settings import Settings
from serving.core import courses, enrollments, users
from serving.core.db import Database
from serving.core.enums import CourseStatus, Role
from serving.core.outbox import Outbox
from serving.core.security import hash_password
from serving.core.tables import User

DEMO_PASSWORD = "learnlake-demo"


@dataclass
class SeedCounts:
    users: int = 0
    courses: int = 0
    enrollments: int = 0
    progress: int = 0


def seed_simulated_platform(settings: Settings, learners: int | None = None) -> tuple[SeedCounts, list[str]]:
    """``learnlake db seed`` and the demo: simulate the platform of these settings and seed the core
    database with it (migrated first). Returns the counts and the demo accounts to sign in with."""
    from lake.sources.simulator import config_from_settings, simulate
    from serving.core.migrate import migrated_database

    with migrated_database(settings.database_url) as database:
        sim = simulate(config_from_settings(settings, learners=learners))
        counts = seed_from_simulation(database, Outbox.for_settings(settings), sim)
    accounts = ["admin@learnlake.example", "analyst@learnlake.example"] + sim.users.group_by(
        "role", maintain_order=True).first()["email"].to_list()
    return counts, accounts


def seed_from_simulation(database: Database, outbox: Outbox, sim: Simulation) -> SeedCounts:
    """Write ``sim``'s entities into the core database in one transaction (nothing if already there)."""
    counts = SeedCounts()
    with database.write() as session:
        if session.scalar(select(User.id).where(User.id == sim.users["user_id"][0])) is not None:
            return counts
        taken = session.scalar(select(func.count()).where(User.email.in_(sim.users["email"].to_list())))
        if taken:
            msg = (f"{taken} of the simulated users' e-mails belong to other users of this core database "
                   "(another simulation was seeded here); seed into a fresh LEARNLAKE_HOME or database")
            raise ConfigurationError(msg)
        demo_hash = hash_password(DEMO_PASSWORD)
        first = {"instructor": None, "learner": None}
        for user in sim.users.iter_rows(named=True):
            password_hash = None
            if first.get(user["role"], "taken") is None:  # the first instructor and learner can sign in
                first[user["role"]] = user["email"]
                password_hash = demo_hash
            users.register_user(session, outbox, email=user["email"], name=user["name"], role=user["role"],
                                password_hash=password_hash, user_id=user["user_id"], at=user["created_at"],
                                flush=False)
        start = datetime.combine(sim.config.start, datetime.min.time(), UTC)
        for email, name, role in (("admin@learnlake.example", "Ada Admin", Role.ADMIN),
                                  ("analyst@learnlake.example", "Alan Analyst", Role.ANALYST),
                                  ("ml@learnlake.example", "Grace Engineer", Role.ML_ENGINEER)):
            if session.scalar(select(User.id).where(User.email == email)) is not None:
                continue  # made by hand, or by an earlier seeding: keep that one
            users.register_user(session, outbox, email=email, name=name, role=role, password_hash=demo_hash, at=start,
                                flush=False)
            counts.users += 1
        counts.users += sim.users.height
        session.flush()
        _seed_catalog(session, outbox, sim, start)
        counts.courses = sim.courses.height
        counts.enrollments, counts.progress = _seed_enrollments(session, outbox, sim)
    return counts


def _seed_catalog(session, outbox: Outbox, sim: Simulation, published_at: datetime) -> None:
    """The simulated courses, published, through the same writes as the API's (``serving.core.courses``)."""
    instructors = dict(zip(sim.courses["course_id"], sim.courses["instructor_id"], strict=True))
    names: dict[str, dict[str, str]] = {}
    for skill in sim.skills.iter_rows(named=True):
        names.setdefault(skill["course_id"], {})[skill["skill_id"]] = skill["name"]
    for course in sim.courses.iter_rows(named=True):
        meta = {"source": "simulator", courses.SKILL_NAMES: names.get(course["course_id"], {})}
        courses.create_course(session, outbox, actor_id=course["instructor_id"], title=course["title"],
                              instructor_id=course["instructor_id"], course_id=course["course_id"],
                              description=f"A simulated course: {course['title']}.", meta=meta,
                              status=CourseStatus.PUBLISHED, at=published_at, flush=False)
    session.flush()
    modules = {}
    for module in sim.modules.iter_rows(named=True):
        modules[module["module_id"]] = courses.create_module(
            session, outbox, module["course_id"], actor_id=instructors[module["course_id"]], title=module["title"],
            position=module["position"], module_id=module["module_id"], at=published_at, flush=False)
    session.flush()
    for item in sim.content_items.iter_rows(named=True):
        fields = {name: item[name] for name in ("content_type", "title", "body", "skills", "difficulty",
                                                "estimated_minutes", "prerequisites")}
        courses.create_item(session, outbox, modules[item["module_id"]], fields,
                            actor_id=instructors[item["course_id"]], position=item["position"],
                            item_id=item["item_id"], at=published_at, flush=False)
    session.flush()


def _seed_enrollments(session, outbox: Outbox, sim: Simulation) -> tuple[int, int]:
    items_per_course = sim.content_items.group_by("course_id").len().rows_by_key("course_id", unique=True)
    completions = (
        sim.events.filter(pl.col("verb") == "completed", pl.col("object_type").is_in(CONTENT_TYPES))
        .group_by("context_registration", "object_id")
        .agg(pl.col("timestamp").min().alias("completed_at"), pl.col("result_score").max().alias("score"))
        .sort("completed_at")
    )
    by_enrollment = completions.partition_by("context_registration", as_dict=True)
    progress_rows = 0
    for enr in sim.enrollments.iter_rows(named=True):
        done = by_enrollment.get((enr["enrollment_id"],))
        enrollment = enrollments.enroll(session, outbox, enr["user_id"], enr["course_id"],
                                        enrollment_id=enr["enrollment_id"], at=enr["enrolled_at"], flush=False)
        completions = [] if done is None else done.rename({"object_id": "item_id"}).to_dicts()
        enrollments.replay_completions(session, outbox, enrollment, completions,
                                       items_per_course[enr["course_id"]][0])
        progress_rows += len(completions)
    return sim.enrollments.height, progress_rows
