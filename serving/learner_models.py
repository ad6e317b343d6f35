"""Mastery, recommendations and dropout risk, from the champion models and the online store.

Models are the registry's champions (``ChampionCache``: a newly promoted version is served
within ``LEARNLAKE_CHAMPION_REFRESH_S`` seconds, without a restart). Features are the online
store's (SQLite, or Redis with ``LEARNLAKE_REDIS_URL``), written by the ``online_features``
asset after each build. Mastery is the costly part (a pass of the knowledge-tracing network
over the learner's recent answers), so it is kept per learner until their answers or the
champion change, and so is each ranked list of next items, until the learner's history, their
mastery or a champion changes.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from feature_store.online import online_store
from feature_store.repository import learner_course_history, learner_recent_answers
from learnlake.caches import LRU
from learnlake.errors import ModelNotFoundError
from learnlake.settings import Settings
from models import names
from models.dropout.live import live_features
from models.dropout.reasons import reason_text
from models.recommender.next_items import TARGET_SUCCESS, expected_success
from models.recommender.reviews import Answer
from serving.champions import ChampionCache
from serving.telemetry.metrics import PREDICTION_SECONDS

log = logging.getLogger(__name__)
MASTERY_CACHE_SIZE = 50_000  # learners; a few KB each
RANKED_CACHE_SIZE = 20_000  # (learner, course, k) lists; a few KB each


@dataclass(frozen=True)
class LearnerMastery:
    model_version: str
    answers_as_of: datetime | None  # the learner's last answer the online store knows; None: no answers yet
    skills: dict[str, float]  # probability of answering each skill right next
    practised: dict[str, int]  # answers per skill among the recent ones the model read


@dataclass(frozen=True)
class RecommendedItem:
    item_id: str
    title: str
    score: float
    reason: str
    review: bool = False  # opened before: practise it before going on


@dataclass(frozen=True)
class Recommendations:
    model_version: str
    mastery_model_version: str | None  # None: no knowledge-tracing champion yet, ranked without mastery
    items_opened: int  # what the model knew of the learner in this course (0: a cold start)
    items: list[RecommendedItem]


@dataclass(frozen=True)
class SkillReview:
    skill_id: str
    skill_name: str
    chance: float  # predicted chance of a right answer on the skill now
    due: bool
    due_at: datetime | None  # None: not due within a year (or the answers show no forgetting)
    answers: int
    right: int
    last_practised_at: datetime | None
    item_id: str | None  # the course's item that practises the skill nearest the learning zone
    item_title: str | None
    reason: str


@dataclass(frozen=True)
class LearnerRisk:
    learner_id: str
    risk: float  # calibrated probability of dropping out in the model's horizon
    reasons: list[str]
    days_since_last_activity: float | None


class LearnerModels:
    def __init__(self, settings: Settings):
        self.knowledge_tracing = ChampionCache(names.KNOWLEDGE_TRACING, settings)
        self.next_items = ChampionCache(names.NEXT_ITEMS, settings)
        self.dropout = ChampionCache(names.DROPOUT, settings)
        self.store = online_store(settings)
        self._mastery = LRU(MASTERY_CACHE_SIZE)
        self._ranked = LRU(RANKED_CACHE_SIZE)

    def warm_up(self) -> None:
        """Load every registered champion now, so the first request does not wait for it, and start
        tracing the known learners' mastery in the background (``warm_mastery``)."""
        for cache in (self.knowledge_tracing, self.next_items, self.dropout):
            try:
                cache.get()
            except ModelNotFoundError:
                pass  # nothing registered yet: the endpoints say so
        threading.Thread(target=self.warm_mastery, name="warm-mastery", daemon=True).start()

    def warm_mastery(self) -> int:
        """Trace the mastery of the learners in the online store (up to the cache's size), so that their
        first request finds it ready; returns how many were traced."""
        traced = 0
        try:
            for learner_id in self.store.keys(learner_recent_answers.name):
                if traced >= MASTERY_CACHE_SIZE:
                    break
                self.mastery(learner_id)
                traced += 1
        except ModelNotFoundError:
            pass  # no knowledge-tracing champion yet
        except Exception:  # a warm-up only: requests trace what it did not, and say what failed
            log.warning("mastery warm-up stopped after %d learners", traced, exc_info=True)
        return traced

    def mastery(self, learner_id: str) -> LearnerMastery:
        """Per-skill mastery; ModelNotFoundError until a knowledge-tracing model is registered."""
        return self._mastery_of(learner_id, self.knowledge_tracing.get(), trace=True)

    def _mastery_of(self, learner_id: str, champion, *, trace: bool,
                    doc: dict | None = None) -> LearnerMastery | None:
        """From the cache, or traced by the network (None instead when ``trace`` is False)."""
        doc = doc if doc is not None else self.store.read(learner_recent_answers.name, learner_id) or {}
        stamp = doc.get("feature_timestamp")
        key = (learner_id, champion.version, stamp)
        if (cached := self._mastery.get(key)) is not None or not trace:
            return cached
        answers = [(a["skill_id"], int(a["correct"]), a["answer_id"]) for a in doc.get("answers", [])]
        practised: dict[str, int] = {}
        for skill, _, _ in answers:
            practised[skill] = practised.get(skill, 0) + 1
        with PREDICTION_SECONDS.labels(names.KNOWLEDGE_TRACING).time():
            skills = champion.model.mastery(answers)
        result = LearnerMastery(champion.version, datetime.fromisoformat(stamp) if stamp else None,
                                skills, practised)
        self._mastery.put(key, result)
        return result

    def recommendations(self, learner_id: str, course_id: str, k: int, skill_names: dict[str, str] | None = None, *,
                        trace: bool = True) -> Recommendations | None:
        """The next items for a learner in a course; ModelNotFoundError until a recommender is registered.

        Without a knowledge-tracing champion the items are ranked without mastery (and say so).
        An empty list means the model does not know the course's items (a course newer than it).
        With ``trace`` False the answer is None where it would need a pass of the knowledge-tracing
        network (the caller runs that off the event loop): everything else here is a few reads.
        """
        champion = self.next_items.get()
        history_doc = self.store.read(learner_course_history.name, f"{learner_id}|{course_id}") or {}
        try:
            tracer = self.knowledge_tracing.get()
        except ModelNotFoundError:
            tracer, answers_doc = None, {}
        else:
            answers_doc = self.store.read(learner_recent_answers.name, learner_id) or {}
        history = history_doc.get("items_opened", [])
        # The history itself is in the key, not only its timestamp: a late event can change it alone.
        key = (learner_id, course_id, k, champion.version, tuple(history),
               tracer.version if tracer else None, answers_doc.get("feature_timestamp"),
               tuple(sorted((skill_names or {}).items())))
        if (ranked := self._ranked.get(key)) is not None:
            return ranked
        mastery = self._mastery_of(learner_id, tracer, trace=trace, doc=answers_doc) if tracer else None
        if tracer and mastery is None:
            return None
        recommender = champion.model.recommender
        with PREDICTION_SECONDS.labels(names.NEXT_ITEMS).time():
            found = recommender.recommend(course_id, history, mastery=mastery.skills if mastery else None, k=k,
                                          skill_names=skill_names)
        items = [RecommendedItem(r.item_id, recommender.items[r.item_id].title, r.score, r.reason, r.review)
                 for r in found]
        ranked = Recommendations(champion.version, mastery.model_version if mastery else None, len(history), items)
        self._ranked.put(key, ranked)
        return ranked

    def reviews(self, learner_id: str, course_id: str, skills: set[str], skill_names: dict[str, str],
                now: datetime) -> tuple[str, list[SkillReview]]:
        """(model version, the learner's practised ``skills`` (the course's), due first, weakest first), each with
        the item to review it by and a reason; ModelNotFoundError until a recommender with reviews exists."""
        champion = self.next_items.get()
        forgetting = getattr(champion.model, "forgetting", None)  # None: trained before reviews, or too few answers
        if not hasattr(forgetting, "question_ease"):  # trained before the model weighed questions by difficulty
            forgetting = None
        if forgetting is None:
            raise ModelNotFoundError(f"the {names.NEXT_ITEMS} champion (version {champion.version}) schedules no "
                                     "reviews: train the recommender again once learners have answered questions")
        doc = self.store.read(learner_recent_answers.name, learner_id) or {}
        answers = [Answer(a["skill_id"], bool(a["correct"]),
                          datetime.fromisoformat(str(a["answered_at"])) if a.get("answered_at") else None,
                          a.get("question_id"))  # absent from answers materialised before questions were kept
                   for a in doc.get("answers", [])]
        items = champion.model.recommender.by_course.get(course_id, [])
        found = []
        for review in forgetting.reviews(answers, now, skills):
            name = skill_names.get(review.skill_id, review.skill_id)
            practising = [i for i in items if review.skill_id in i.skills]
            # Practice that is graded (a quiz), on the skill first (not in passing), at the learner's level.
            item = min(practising, default=None, key=lambda i: (
                i.content_type != "quiz", i.skills[0] != review.skill_id,
                abs(expected_success({review.skill_id: review.chance}, i) - TARGET_SUCCESS), i.order))
            found.append(SkillReview(review.skill_id, name, review.chance, review.due(now), review.due_at,
                                     review.answers, review.right, review.last_practised_at,
                                     item.item_id if item else None, item.title if item else None,
                                     review.reason(now)))
        return champion.version, found

    def risks(self, course_id: str, learner_ids: list[str], *, as_of: datetime) -> tuple[str, list[LearnerRisk]]:
        """(model version, each learner's dropout risk with reasons), riskiest first, features as of ``as_of``."""
        champion = self.dropout.get()
        model = champion.model.model  # the DropoutModel inside the served form
        if not learner_ids:
            return champion.version, []
        with PREDICTION_SECONDS.labels(names.DROPOUT).time():
            rows, features = self._dropout_features(model, [(learner, course_id) for learner in learner_ids], as_of)
            risk = model.predict_proba(features)
            reasons = model.reasons(features)
            order = model.riskiest_first(features, risk)
        found = [LearnerRisk(learner, float(p), [reason_text(r) for r in why],
                             row.get("learner_course_activity__age_days"))
                 for learner, p, why, row in zip(learner_ids, risk, reasons, rows, strict=True)]
        return champion.version, [found[i] for i in order]

    def risk_scores(self, enrolments: list[tuple[str, str]], *, as_of: datetime) -> tuple[str, np.ndarray]:
        """(model version, the dropout risk of each (learner, course)), without reasons: for monitoring."""
        champion = self.dropout.get()
        model = champion.model.model
        if not enrolments:
            return champion.version, np.zeros(0)
        _, features = self._dropout_features(model, enrolments, as_of)
        return champion.version, model.predict_proba(features)

    def _dropout_features(self, model, enrolments: list[tuple[str, str]], as_of: datetime
                          ) -> tuple[list[dict], np.ndarray]:
        return live_features(self.store, model.feature_names, enrolments, as_of)
