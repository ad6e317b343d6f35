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
from serving.core.db import Database
from serving.core.outbox import Outbox
from serving.core.security import hash_password
from serving.core.tables import (
    ContentItem,
    Course,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    ItemProgress,
    Module,
    ProgressStatus,
    Role,
    User,
)

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
            session.add(User(id=user["user_id"], email=user["email"], name=user["name"], role=user["role"],
                             password_hash=password_hash, created_at=user["created_at"],
                             updated_at=user["created_at"]))
            outbox.record(session, "user.registered", actor_id=user["user_id"], entity_type="user",
                          entity_id=user["user_id"], occurred_at=user["created_at"], flush=False, role=user["role"])
        start = datetime.combine(sim.config.start, datetime.min.time(), UTC)
        for email, name, role in (("admin@learnlake.example", "Ada Admin", Role.ADMIN),
                                  ("analyst@learnlake.example", "Alan Analyst", Role.ANALYST),
                                  ("ml@learnlake.example", "Grace Engineer", Role.ML_ENGINEER)):
            if session.scalar(select(User.id).where(User.email == email)) is not None:
                continue  # made by hand, or by an earlier seeding: keep that one
            user = User(email=email, name=name, role=role, password_hash=demo_hash, created_at=start, updated_at=start)
            session.add(user)
            session.flush()
            outbox.record(session, "user.registered", actor_id=user.id, entity_type="user", entity_id=user.id,
                          occurred_at=start, flush=False, role=role)
            counts.users += 1
        counts.users += sim.users.height
        session.flush()
        _seed_catalog(session, outbox, sim, start)
        counts.courses = sim.courses.height
        counts.enrollments, counts.progress = _seed_enrollments(session, outbox, sim)
    return counts


def _seed_catalog(session, outbox: Outbox, sim: Simulation, published_at: datetime) -> None:
    instructors = dict(zip(sim.courses["course_id"], sim.courses["instructor_id"], strict=True))
    for course in sim.courses.iter_rows(named=True):
        session.add(Course(id=course["course_id"], title=course["title"], instructor_id=course["instructor_id"],
                           status=CourseStatus.PUBLISHED, description=f"A simulated course: {course['title']}.",
                           meta={"source": "simulator"}, published_at=published_at, created_at=published_at,
                           updated_at=published_at))
        outbox.record(session, "course.created", actor_id=course["instructor_id"], entity_type="course",
                      entity_id=course["course_id"], course_id=course["course_id"], occurred_at=published_at,
                      flush=False, title=course["title"],
                      instructor_learner_id=outbox.pseudonyms.learner_id(course["instructor_id"]))
        outbox.record(session, "course.published", actor_id=course["instructor_id"], entity_type="course",
                      entity_id=course["course_id"], course_id=course["course_id"], occurred_at=published_at,
                      flush=False)
    session.flush()
    for module in sim.modules.iter_rows(named=True):
        session.add(Module(id=module["module_id"], course_id=module["course_id"], position=module["position"],
                           title=module["title"], created_at=published_at, updated_at=published_at))
        outbox.record(session, "module.created", actor_id=instructors[module["course_id"]], entity_type="module",
                      entity_id=module["module_id"], course_id=module["course_id"], occurred_at=published_at,
                      flush=False, position=module["position"])
    session.flush()
    for item in sim.content_items.iter_rows(named=True):
        session.add(ContentItem(
            id=item["item_id"], module_id=item["module_id"], course_id=item["course_id"], position=item["position"],
            content_type=item["content_type"], title=item["title"], body=item["body"], skills=item["skills"],
            difficulty=item["difficulty"], estimated_minutes=item["estimated_minutes"],
            prerequisites=item["prerequisites"], created_at=published_at, updated_at=published_at))
        outbox.record(session, "content_item.created", actor_id=instructors[item["course_id"]],
                      entity_type="content_item", entity_id=item["item_id"], course_id=item["course_id"],
                      occurred_at=published_at, flush=False, module_id=item["module_id"],
                      content_type=item["content_type"], skills=item["skills"], difficulty=item["difficulty"],
                      estimated_minutes=item["estimated_minutes"])
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
        total = items_per_course[enr["course_id"]][0]
        n_done = 0 if done is None else done.height
        last = enr["enrolled_at"] if done is None else done["completed_at"].max()
        enrollment = Enrollment(
            id=enr["enrollment_id"], user_id=enr["user_id"], course_id=enr["course_id"],
            status=EnrollmentStatus.COMPLETED if n_done >= total else EnrollmentStatus.ACTIVE,
            progress_percent=round(100.0 * n_done / total, 2), enrolled_at=enr["enrolled_at"],
            completed_at=last if n_done >= total else None, updated_at=last)
        session.add(enrollment)
        outbox.record(session, "enrollment.created", actor_id=enr["user_id"], entity_type="enrollment",
                      entity_id=enr["enrollment_id"], course_id=enr["course_id"], occurred_at=enr["enrolled_at"],
                      flush=False, status=EnrollmentStatus.ACTIVE, progress_percent=0.0)
        for i, row in enumerate([] if done is None else done.iter_rows(named=True), start=1):
            session.add(ItemProgress(enrollment_id=enr["enrollment_id"], item_id=row["object_id"],
                                     status=ProgressStatus.COMPLETED, score=row["score"], completed_at=row["completed_at"],
                                     created_at=row["completed_at"], updated_at=row["completed_at"]))
            outbox.record(session, "progress.updated", actor_id=enr["user_id"], entity_type="enrollment",
                          entity_id=enr["enrollment_id"], course_id=enr["course_id"], occurred_at=row["completed_at"],
                          flush=False, item_id=row["object_id"], item_status=ProgressStatus.COMPLETED,
                          score=row["score"], progress_percent=round(100.0 * i / total, 2),
                          status=EnrollmentStatus.ACTIVE if i < total else EnrollmentStatus.COMPLETED)
            progress_rows += 1
    return sim.enrollments.height, progress_rows
