"""What a learner should do next in a course: candidates from sequences, re-ranked by mastery.

Candidates and their first scores come from the variable-order Markov chain over learners'
item sequences (``sequential.py``, chosen on ASSISTments where it beats first-order
transitions). Then, per candidate:

- course structure: the items just after the furthest one the learner reached score higher
  (this is all a new learner has, with popularity);
- new content, which no learner has touched yet, scores by the similarity of its text
  (MiniLM embeddings of title, skills and the start of its content) to the learner's recent items;
- prerequisites not yet met push an item far down;
- mastery from knowledge tracing: the expected chance of success on the item's skills,
  given its difficulty, should sit in a learning zone (about 0.7): not too easy, not too hard.

When even the best new item looks too hard (expected success under 0.5), the first
recommendation is a review: the item the learner has already opened, on the same skills
where possible, whose expected success sits nearest the zone. On simulated learners this is
what brings the first recommendation near their level (``training.py`` measures it against
the simulator's true mastery).

Each recommendation carries a reason a learner can read.
"""

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from models.recommender.sequential import SequentialRecommender

TARGET_SUCCESS = 0.7  # the chance of success that keeps practice productive
ZONE_WIDTH = 0.2
STRUCTURE_WEIGHT = 0.5
NEW_CONTENT_WEIGHT = 0.5
PREREQUISITE_PENALTY = 0.05
REVIEW_BELOW = 0.5  # expected success on the best new item under which a review comes first


@dataclass(frozen=True)
class Item:
    item_id: str
    course_id: str
    order: int  # position in the course: module position, then item position
    title: str
    skills: tuple[str, ...]
    difficulty: float
    prerequisites: tuple[str, ...]
    text: str = ""  # the start of its content (a lesson's text), for the embedding of new content
    content_type: str = ""  # lesson, video, quiz, assignment ("" in models trained before it was kept)


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    reason: str
    review: bool = False  # an item the learner has opened before, to practise before going on


def expected_success(mastery: dict[str, float], item: Item) -> float | None:
    """Mean over the item's skills of sigmoid(logit(mastery) - difficulty); None without skills known."""
    known = [mastery[s] for s in item.skills if s in mastery]
    if not known:
        return None
    # Plain floats, not numpy: a handful of skills per item, scored for every candidate of every request.
    logits = [math.log(max(m, 1e-4) / max(1 - m, 1e-4)) - item.difficulty for m in known]
    return sum(1 / (1 + math.exp(-x)) for x in logits) / len(logits)


class NextItemRecommender:
    def __init__(self, items: list[Item], sequences: list[list[str]], embeddings: dict[str, np.ndarray] | None = None):
        self.items = {item.item_id: item for item in items}
        self.by_course: dict[str, list[Item]] = {}
        for item in sorted(items, key=lambda i: (i.course_id, i.order)):
            self.by_course.setdefault(item.course_id, []).append(item)
        self.sequential = SequentialRecommender().fit(sequences)
        self.popularity = Counter(item for sequence in sequences for item in set(sequence))
        self.embeddings = embeddings or {}

    def _new_content_similarity(self, item: Item, history: list[str]) -> float:
        """Cosine similarity of an untouched item to the learner's last three items."""
        if self.popularity.get(item.item_id) or item.item_id not in self.embeddings:
            return 0.0
        target = self.embeddings[item.item_id]
        recent = [self.embeddings[i] for i in history[-3:] if i in self.embeddings]
        return max(float(vector @ target) for vector in recent) if recent else 0.0

    def _unlocks(self, item_id: str) -> list[str]:
        """The items that list ``item_id`` among their prerequisites (built on first use, also for
        models pickled before this existed)."""
        if "_unlocking" not in self.__dict__:
            unlocking: dict[str, list[str]] = {}
            for item in self.items.values():
                for prerequisite in item.prerequisites:
                    unlocking.setdefault(prerequisite, []).append(item.item_id)
            self._unlocking = unlocking
        return self._unlocking.get(item_id, [])

    def recommend(self, course_id: str, history: list[str], *, mastery: dict[str, float] | None = None,
                  k: int = 10, skill_names: dict[str, str] | None = None) -> list[Recommendation]:
        """Top-k items of the course the learner has not touched, best first, with reasons (skills by their
        ``skill_names``, else by id); first a review of a touched one when mastery says the best new item is
        too hard."""
        course_items = self.by_course.get(course_id, [])
        seen = set(history)
        candidates = [item for item in course_items if item.item_id not in seen]
        if not candidates:
            return []
        sequential = self.sequential.scores(history)
        most_popular = max((self.popularity.get(i.item_id, 0) for i in course_items), default=0) or 1
        reached = max((self.items[i].order for i in history if i in self.items), default=-1)
        ahead = sorted({item.order for item in candidates if item.order > reached})
        scored = []
        for item in candidates:
            score = sequential.get(item.item_id, 0.0)
            reasons = []
            if item.order > reached:
                steps = ahead.index(item.order) + 1
                score += STRUCTURE_WEIGHT / steps
                if steps == 1:
                    reasons.append("next in the course")
            score += 0.01 * self.popularity.get(item.item_id, 0) / most_popular
            similarity = self._new_content_similarity(item, history)
            if similarity > 0:
                score += NEW_CONTENT_WEIGHT * similarity
                reasons.append(f"new content close to what you studied (similarity {similarity:.2f})")
            missing = [p for p in item.prerequisites if p not in seen]
            if missing:
                score *= PREREQUISITE_PENALTY
                first = self.items.get(missing[0])
                reasons.append(f"after {first.title if first else missing[0]}")
            unlocked = [i for i in self._unlocks(item.item_id) if i not in seen]
            if unlocked:
                reasons.append(f"prerequisite of {self.items[unlocked[0]].title or unlocked[0]}")
            success = expected_success(mastery or {}, item)
            if success is not None:
                score *= math.exp(-((success - TARGET_SUCCESS) ** 2) / (2 * ZONE_WIDTH ** 2))
                weakest = min((s for s in item.skills if s in (mastery or {})), key=lambda s: mastery[s])
                reasons.insert(0, f"practise {(skill_names or {}).get(weakest, weakest)}: "
                               f"mastery {mastery[weakest]:.2f}, "
                               f"expected success {success:.2f}")
            if sequential.get(item.item_id, 0.0) > 0.5 and not reasons:
                reasons.append("learners at your point usually go here next")
            scored.append(Recommendation(item.item_id, float(score), "; ".join(reasons) or "popular in this course"))
        scored.sort(key=lambda r: (-r.score, self.items[r.item_id].order))
        review = self._review(course_id, history, mastery, scored[0]) if mastery else None
        return ([review] + scored[:k - 1]) if review else scored[:k]

    def _review(self, course_id: str, history: list[str], mastery: dict[str, float],
                best: Recommendation) -> Recommendation | None:
        """A touched item to practise first, when the best new item is expected to be too hard."""
        ahead = self.items[best.item_id]
        hard = expected_success(mastery, ahead)
        if hard is None or hard >= REVIEW_BELOW:
            return None
        opened = [self.items[i] for i in dict.fromkeys(history) if i in self.items
                  and self.items[i].course_id == course_id]
        related = [item for item in opened if set(item.skills) & set(ahead.skills)] or opened
        chances = [(success, item) for item in related
                   if (success := expected_success(mastery, item)) is not None and success > hard]
        if not chances:
            return None
        success, item = min(chances, key=lambda pair: (abs(pair[0] - TARGET_SUCCESS), -pair[1].order))
        return Recommendation(item.item_id, best.score, f"review {item.title or item.item_id} first: expected "
                              f"success {success:.2f}, against {hard:.2f} on {ahead.title or ahead.item_id}",
                              review=True)
