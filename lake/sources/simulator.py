"""A deterministic learning-activity simulator.

Courses have ordered modules of content items (lesson, video, quiz, assignment) tagged
with skills and a difficulty. Each learner has a latent mastery per skill (a logit, as in
item response theory) that grows with practice, interests that decide which courses they
enrol in, a rhythm of study sessions, and a daily dropout hazard that rises when they
struggle. The simulator emits what the platform would see (users, courses, enrollments,
activity events) and keeps the ground truth it drew them from (latent mastery by week,
the day each enrollment dropped out or completed, the true probability behind every
answer) so that models can be checked against it.

The same ``SimulationConfig`` (seed included) always gives identical output.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from lake.privacy import learner_id_for
from lake.schemas import EVENT_SCHEMA_VERSION
from lake.sources.simulator_catalog import Course, build_catalog, new_uuid, user_row

PLATFORMS = ("web", "web", "web", "ios", "android")
# Minutes a content type takes, and how many questions a quiz has.
QUIZ_QUESTIONS = (3, 6)
PASS_SCORE = 0.6
SESSION_HOURS = (8, 9, 12, 13, 17, 18, 19, 20, 21, 22)


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate; every field takes part in determinism."""

    learners: int = 400
    courses: int = 4
    days: int = 56
    start: date = date(2026, 9, 7)
    seed: int = 42
    pseudonym_key: str = "dev-only-pseudonym-key-change-me"
    modules_per_course: tuple[int, int] = (4, 6)
    items_per_module: tuple[int, int] = (3, 6)
    skills_per_course: int = 6

    def __post_init__(self) -> None:
        if self.learners < 1 or self.courses < 1 or self.days < 7:
            msg = f"need learners >= 1, courses >= 1 and days >= 7, got {self}"
            raise ValueError(msg)


def config_from_settings(settings, *, learners: int | None = None, courses: int | None = None,
                         days: int | None = None, seed: int | None = None) -> SimulationConfig:
    """The simulation that ``LEARNLAKE_*`` settings describe, with optional overrides."""
    return SimulationConfig(
        learners=settings.learners if learners is None else learners,
        courses=courses or settings.courses,
        days=days or settings.simulation_days,
        seed=settings.seed if seed is None else seed,
        start=date.fromisoformat(settings.simulation_start),
        pseudonym_key=settings.pseudonym_key.get_secret_value(),
    )


@dataclass
class Simulation:
    """Platform entities, activity events and the ground truth behind them."""

    config: SimulationConfig
    users: pl.DataFrame
    courses: pl.DataFrame
    modules: pl.DataFrame
    content_items: pl.DataFrame
    skills: pl.DataFrame
    enrollments: pl.DataFrame
    events: pl.DataFrame
    truth_enrollments: pl.DataFrame
    truth_mastery: pl.DataFrame
    truth_answers: pl.DataFrame


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass
class _Learner:
    user_id: str
    learner_id: str
    ability: float
    learning_rate: float
    sessions_per_week: float
    base_hazard: float
    platform: str
    theta: dict[str, float] = field(default_factory=dict)  # skill id -> latent mastery logit


class _EventLog:
    """Collects events and the true probability behind each answer."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.answers: list[dict] = []

    def emit(self, rng, ts: datetime, learner: _Learner, verb: str, object_type: str, object_id: str,
             course_id: str, module_id: str | None, session_id: str, registration: str, **result) -> str:
        event_id = new_uuid(rng)
        self.rows.append({
            "event_id": event_id,
            "learner_id": learner.learner_id,
            "verb": verb,
            "object_type": object_type,
            "object_id": object_id,
            "course_id": course_id,
            "module_id": module_id,
            "result_score": result.get("score"),
            "result_success": result.get("success"),
            "result_completion": result.get("completion"),
            "result_duration_s": result.get("duration_s"),
            "result_response": result.get("response"),
            "context_platform": learner.platform,
            "context_session_id": session_id,
            "context_registration": registration,
            "timestamp": ts,
            "received_at": ts + timedelta(milliseconds=int(rng.integers(50, 5000))),
        })
        return event_id


class _Enrollment:
    def __init__(self, enrollment_id: str, course: Course, enrolled_day: int) -> None:
        self.enrollment_id = enrollment_id
        self.course = course
        self.enrolled_day = enrolled_day
        self.pointer = 0  # index of the next item in course order
        self.recent_success: list[float] = []
        self.dropout_day: int | None = None
        self.completed_day: int | None = None

    @property
    def active(self) -> bool:
        return self.dropout_day is None and self.completed_day is None


def _practice(learner: _Learner, skills: list[str], gain: float) -> None:
    for skill in skills:
        learner.theta[skill] += gain * learner.learning_rate


def _study_item(rng, log: _EventLog, learner: _Learner, enr: _Enrollment, item: dict, ts: datetime,
                session_id: str) -> tuple[datetime, bool]:
    """Emit the events of one item; returns the time after it and whether it was completed."""
    course_id, module_id, item_id = enr.course.course_id, item["module_id"], item["item_id"]
    ctx = (course_id, module_id, session_id, enr.enrollment_id)
    ctype = item["content_type"]
    planned_s = item["estimated_minutes"] * 60 * float(rng.lognormal(0.0, 0.35))
    log.emit(rng, ts, learner, "viewed", ctype, item_id, *ctx)
    ts += timedelta(seconds=int(rng.integers(2, 30)))
    mastery = sum(_sigmoid(learner.theta[s] - item["difficulty"]) for s in item["skills"]) / len(item["skills"])

    if ctype == "video":
        log.emit(rng, ts, learner, "played", ctype, item_id, *ctx)
        # Learners who find the material hard tend to stop watching early.
        share = max(0.02, float(rng.beta(2 + 4 * mastery, 1.2)))
        watched = planned_s * share
        ts += timedelta(seconds=watched)
        log.emit(rng, ts, learner, "paused", ctype, item_id, *ctx, duration_s=round(watched, 1))
        completed = share >= 0.9
        _practice(learner, item["skills"], 0.15 * share)
        if completed:
            log.emit(rng, ts, learner, "completed", ctype, item_id, *ctx, completion=True,
                     duration_s=round(watched, 1))
        return ts, completed

    log.emit(rng, ts, learner, "started", ctype, item_id, *ctx)
    if ctype == "lesson":
        completed = rng.random() < 0.55 + 0.4 * mastery
        spent = planned_s * (1.0 if completed else float(rng.uniform(0.1, 0.6)))
        ts += timedelta(seconds=spent)
        _practice(learner, item["skills"], 0.2 if completed else 0.05)
        if completed:
            log.emit(rng, ts, learner, "completed", ctype, item_id, *ctx, completion=True,
                     duration_s=round(spent, 1))
        return ts, completed

    if ctype == "quiz":
        n_questions = int(rng.integers(QUIZ_QUESTIONS[0], QUIZ_QUESTIONS[1] + 1))
        correct_count = 0
        for q in range(n_questions):
            skill = item["skills"][q % len(item["skills"])]
            p_correct = _sigmoid(learner.theta[skill] - item["difficulty"])
            correct = bool(rng.random() < p_correct)
            correct_count += correct
            spent = float(rng.uniform(20, 120))
            ts += timedelta(seconds=spent)
            event_id = log.emit(rng, ts, learner, "answered", "question", f"{item_id}/q{q + 1}", *ctx,
                                score=1.0 if correct else 0.0, success=correct,
                                duration_s=round(spent, 1), response=f"choice-{int(rng.integers(1, 5))}")
            log.answers.append({"event_id": event_id, "skill_id": skill, "p_correct": p_correct})
            # Practice teaches, mistakes (with feedback) a little less than successes.
            _practice(learner, [skill], 0.25 if correct else 0.12)
        score = correct_count / n_questions
        enr.recent_success.append(score)
        log.emit(rng, ts, learner, "completed", ctype, item_id, *ctx, score=round(score, 4),
                 success=score >= PASS_SCORE, completion=True)
        return ts, score >= PASS_SCORE or rng.random() < 0.5  # some move on after failing

    # assignment: one graded submission, its score driven by mastery of its skills
    spent = planned_s
    ts += timedelta(seconds=spent)
    score = min(1.0, max(0.0, mastery + float(rng.normal(0, 0.1))))
    enr.recent_success.append(score)
    _practice(learner, item["skills"], 0.3)
    completed = rng.random() < 0.4 + 0.6 * mastery
    if completed:
        log.emit(rng, ts, learner, "completed", ctype, item_id, *ctx, score=round(score, 4),
                 success=score >= PASS_SCORE, completion=True, duration_s=round(spent, 1))
    return ts, completed


def _session(rng, log: _EventLog, learner: _Learner, enr: _Enrollment, skills_by_id: dict, day: int,
             cfg: SimulationConfig) -> None:
    hour = SESSION_HOURS[int(rng.integers(len(SESSION_HOURS)))]
    ts = datetime.combine(cfg.start + timedelta(days=day), datetime.min.time(), UTC) + timedelta(
        hours=hour, minutes=int(rng.integers(0, 60)), seconds=int(rng.integers(0, 60)))
    session_id = new_uuid(rng)
    items = enr.course.items
    for _ in range(1 + int(rng.poisson(2.5))):
        if rng.random() < 0.07:
            skill = enr.course.skill_ids[int(rng.integers(len(enr.course.skill_ids)))]
            log.emit(rng, ts, learner, "searched", "search", "course-search", enr.course.course_id, None,
                     session_id, enr.enrollment_id, response=skills_by_id[skill])
            ts += timedelta(seconds=int(rng.integers(5, 60)))
        if enr.pointer > 0 and rng.random() < 0.12:
            item = items[int(rng.integers(0, enr.pointer))]  # review something already seen
            ts, _ = _study_item(rng, log, learner, enr, item, ts, session_id)
            continue
        ts, completed = _study_item(rng, log, learner, enr, items[enr.pointer], ts, session_id)
        if completed:
            enr.pointer += 1
            if enr.pointer == len(items):
                enr.completed_day = day
                return
        ts += timedelta(seconds=int(rng.integers(5, 120)))
        if ts.date() != (cfg.start + timedelta(days=day)):
            return  # sessions do not run past midnight


def _simulate_learner(index: int, cfg: SimulationConfig, courses: list[Course], interest_alpha: np.ndarray,
                      skills_by_id: dict, users: list[dict], enrollments: list[dict], log: _EventLog,
                      truth_enrollments: list[dict], truth_mastery: list[dict]) -> None:
    rng = np.random.default_rng([cfg.seed, 1, index])
    user_id = new_uuid(rng)
    users.append(user_row(user_id, f"learner{index + 1:05d}@learnlake.example", rng, "learner", cfg))
    ability = float(rng.normal(0, 1))
    learner = _Learner(
        user_id=user_id,
        learner_id=learner_id_for(user_id, cfg.pseudonym_key),
        ability=ability,
        learning_rate=float(rng.lognormal(math.log(0.12), 0.4)),
        sessions_per_week=float(rng.gamma(2.0, 1.3)),
        base_hazard=float(rng.lognormal(math.log(0.02), 0.6)),
        platform=str(rng.choice(PLATFORMS)),
    )
    interests = rng.dirichlet(interest_alpha)
    n_courses = min(len(courses), 1 + int(rng.binomial(2, 0.3)))
    chosen = rng.choice(len(courses), size=n_courses, replace=False, p=interests)
    own: list[_Enrollment] = []
    for c in sorted(int(x) for x in chosen):
        course = courses[c]
        for skill in course.skill_ids:
            learner.theta[skill] = 0.7 * ability + float(rng.normal(-0.3, 0.7))
        enrolled_day = min(cfg.days - 7, int(rng.geometric(0.12)) - 1)
        enr = _Enrollment(new_uuid(rng), course, enrolled_day)
        own.append(enr)
        enrolled_at = datetime.combine(cfg.start + timedelta(days=enrolled_day), datetime.min.time(), UTC) + \
            timedelta(hours=int(rng.integers(7, 23)), minutes=int(rng.integers(0, 60)))
        enrollments.append({"enrollment_id": enr.enrollment_id, "user_id": user_id,
                            "learner_id": learner.learner_id, "course_id": course.course_id,
                            "enrolled_at": enrolled_at})
        log.emit(rng, enrolled_at, learner, "registered", "course", course.course_id, course.course_id, None,
                 new_uuid(rng), enr.enrollment_id)

    for day in range(cfg.days):
        for enr in own:
            if day < enr.enrolled_day or not enr.active:
                continue
            weight = 0.6 + 0.8 * interests[courses.index(enr.course)] * len(courses) / 2
            if rng.random() < 1 - math.exp(-learner.sessions_per_week * min(weight, 2.0) / 7):
                _session(rng, log, learner, enr, skills_by_id, day, cfg)
            if not enr.active:
                continue
            # Struggling raises the hazard; doing well lowers it.
            last = enr.recent_success[-3:]
            recent = sum(last) / len(last) if last else 0.6
            hazard = learner.base_hazard * math.exp(2.0 * (0.6 - recent))
            if rng.random() < hazard:
                enr.dropout_day = day
        if day % 7 == 6:
            for skill, theta in learner.theta.items():
                truth_mastery.append({"learner_id": learner.learner_id, "skill_id": skill,
                                      "week": day // 7 + 1, "mastery": _sigmoid(theta)})
    for enr in own:
        truth_enrollments.append({"enrollment_id": enr.enrollment_id, "learner_id": learner.learner_id,
                                  "course_id": enr.course.course_id, "enrolled_day": enr.enrolled_day,
                                  "dropout_day": enr.dropout_day, "completed_day": enr.completed_day})


def simulate(cfg: SimulationConfig, progress=None) -> Simulation:
    """Run the simulation.

    Args:
        cfg: what to simulate (seed included).
        progress: optional callable ``progress(done, total)`` called after each learner.
    """
    rng = np.random.default_rng([cfg.seed, 0])
    users: list[dict] = []
    courses, modules, items, skills = build_catalog(cfg, rng, users)
    skills_by_id = {s["skill_id"]: s["name"] for s in skills}
    # Some courses are far more popular than others.
    interest_alpha = np.array([1.5 / (1 + c) for c in range(len(courses))])

    enrollments: list[dict] = []
    log = _EventLog()
    truth_enrollments: list[dict] = []
    truth_mastery: list[dict] = []
    for index in range(cfg.learners):
        _simulate_learner(index, cfg, courses, interest_alpha, skills_by_id, users, enrollments, log,
                          truth_enrollments, truth_mastery)
        if progress is not None:
            progress(index + 1, cfg.learners)

    events = pl.DataFrame(log.rows, infer_schema_length=None).with_columns(
        pl.col("timestamp").dt.date().alias("event_date"),
        pl.lit(EVENT_SCHEMA_VERSION, pl.Int32).alias("schema_version"),
        pl.lit("simulator").alias("source"),
        pl.lit(None, pl.String).alias("payload"),
    ).sort("timestamp", "event_id")
    return Simulation(
        config=cfg,
        users=pl.DataFrame(users),
        courses=pl.DataFrame([{"course_id": c.course_id, "title": c.title, "instructor_id": c.instructor_id,
                               "status": "published"} for c in courses]),
        modules=pl.DataFrame(modules),
        content_items=pl.DataFrame(items),
        skills=pl.DataFrame(skills),
        enrollments=pl.DataFrame(enrollments),
        events=events,
        truth_enrollments=pl.DataFrame(truth_enrollments, schema={
            "enrollment_id": pl.String, "learner_id": pl.String, "course_id": pl.String,
            "enrolled_day": pl.Int32, "dropout_day": pl.Int32, "completed_day": pl.Int32}),
        truth_mastery=pl.DataFrame(truth_mastery),
        truth_answers=pl.DataFrame(log.answers),
    )
