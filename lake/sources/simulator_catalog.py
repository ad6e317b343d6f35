"""The simulated platform's catalogue: courses from blueprints, their modules and content items (with
skills, difficulty and lesson texts), and the people who teach and take them."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from lake.sources.simulator_lessons import lesson_body

if TYPE_CHECKING:
    from lake.sources.simulator import SimulationConfig

# Course blueprints: title and the skills it teaches, roughly in teaching order.
COURSE_BLUEPRINTS = (
    ("Python Foundations", ("variables", "conditionals", "loops", "functions", "lists", "dictionaries")),
    ("Statistics for Data Science", ("descriptive statistics", "probability", "distributions",
                                     "sampling", "hypothesis testing", "linear regression")),
    ("Web Development Basics", ("html", "css", "javascript", "dom events", "http", "accessibility")),
    ("Databases and SQL", ("relational model", "select queries", "joins", "aggregation",
                           "indexes", "transactions")),
    ("Machine Learning 101", ("features", "train test split", "linear models", "decision trees",
                              "overfitting", "evaluation metrics")),
    ("Calculus I", ("limits", "derivatives", "chain rule", "optimisation", "integrals",
                    "fundamental theorem")),
)
FIRST_NAMES = ("Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Tim", "Barbara",
               "Edsger", "Frances", "Donald", "Radia", "Ken", "Hedy", "Claude", "Sophie")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Berners-Lee",
              "Liskov", "Dijkstra", "Allen", "Knuth", "Perlman", "Thompson", "Lamarr", "Shannon")
TYPE_MINUTES = {"lesson": (8, 20), "video": (4, 15), "quiz": (5, 12), "assignment": (25, 60)}


def new_uuid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


@dataclass
class Course:
    course_id: str
    title: str
    instructor_id: str
    skill_ids: list[str]
    items: list[dict] = field(default_factory=list)  # in teaching order


def build_catalog(cfg: SimulationConfig, rng: np.random.Generator, users: list[dict]):
    courses: list[Course] = []
    modules, items, skills = [], [], []
    n_instructors = max(1, math.ceil(cfg.courses / 2))
    instructors = []
    for i in range(n_instructors):
        user_id = new_uuid(rng)
        instructors.append(user_id)
        users.append(user_row(user_id, f"instructor{i + 1:03d}@learnlake.example", rng, "instructor", cfg))
    for c in range(cfg.courses):
        title, skill_names = COURSE_BLUEPRINTS[c % len(COURSE_BLUEPRINTS)]
        if c >= len(COURSE_BLUEPRINTS):
            title = f"{title} ({c // len(COURSE_BLUEPRINTS) + 1})"
        course = Course(new_uuid(rng), title, instructors[c % n_instructors], [])
        for s, skill_name in enumerate(skill_names[: cfg.skills_per_course]):
            skill_id = f"c{c + 1}s{s + 1}"
            course.skill_ids.append(skill_id)
            skills.append({"skill_id": skill_id, "course_id": course.course_id, "name": skill_name})
        n_modules = int(rng.integers(cfg.modules_per_course[0], cfg.modules_per_course[1] + 1))
        previous_module_items: list[str] = []
        for m in range(n_modules):
            module_id = new_uuid(rng)
            # Modules move through the skills in order; difficulty rises through the course.
            focus = course.skill_ids[min(len(course.skill_ids) - 1, m * len(course.skill_ids) // n_modules)]
            focus_name = skill_names[course.skill_ids.index(focus)]
            modules.append({"module_id": module_id, "course_id": course.course_id, "position": m + 1,
                            "title": f"Module {m + 1}: {focus_name}"})
            n_items = int(rng.integers(cfg.items_per_module[0], cfg.items_per_module[1] + 1))
            types = ["lesson", "video"] + list(rng.choice(["lesson", "video", "quiz"], n_items - 2))
            types.append("quiz" if m < n_modules - 1 else "assignment")
            module_items = []
            for position, content_type in enumerate(types, start=1):
                item_skills = [focus]
                if rng.random() < 0.3:
                    other = course.skill_ids[int(rng.integers(len(course.skill_ids)))]
                    if other != focus:
                        item_skills.append(other)
                low, high = TYPE_MINUTES[content_type]
                item = {
                    "item_id": new_uuid(rng),
                    "course_id": course.course_id,
                    "module_id": module_id,
                    "position": position,
                    "content_type": content_type,
                    "title": f"{content_type.title()} {m + 1}.{position}: {focus_name}",
                    "body": None,  # lessons get theirs below; videos and quizzes have no text to read
                    "skills": item_skills,
                    "difficulty": round(float(rng.normal(-0.8 + 1.6 * m / max(1, n_modules - 1), 0.5)), 3),
                    "estimated_minutes": int(rng.integers(low, high + 1)),
                    "prerequisites": list(previous_module_items[-1:]),
                }
                module_items.append(item["item_id"])
                course.items.append(item)
                items.append(item)
            previous_module_items = module_items
        write_lessons(course, dict(zip(course.skill_ids, skill_names, strict=False)))
        courses.append(course)
    return courses, modules, items, skills


def write_lessons(course: Course, skill_names: dict[str, str]) -> None:
    """Give each lesson its text: a skill's parts are shared out among the course's lessons on it,
    in turn, so every part is taught somewhere (and one lesson teaches all of a one-lesson skill)."""
    lessons: dict[str, list[dict]] = {}
    for item in course.items:
        if item["content_type"] == "lesson":
            lessons.setdefault(item["skills"][0], []).append(item)
    for skill, items in lessons.items():
        for n, item in enumerate(items):
            item["body"] = lesson_body(item["title"], skill_names[skill], n, len(items))


def user_row(user_id: str, email: str, rng: np.random.Generator, role: str, cfg: SimulationConfig) -> dict:
    name = f"{FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]} {LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]}"
    created = datetime.combine(cfg.start, datetime.min.time(), UTC) - timedelta(days=int(rng.integers(1, 60)))
    return {"user_id": user_id, "email": email, "name": name, "role": role, "created_at": created}
