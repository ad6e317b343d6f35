"""Candidate generation from interaction sequences: a variable-order Markov chain.

Learners follow curricula: the skill (or item) that comes next depends on the last few
they did, not only on the last one. The model counts, for every context of the last 1..N
items, which item followed it in training, and scores a candidate by the weighted sum of
its conditional frequencies over the contexts the learner's history matches; longer
contexts weigh more, and popularity breaks ties and covers unseen contexts (cold start).

Measured on ASSISTments 2009 (``learnlake eval recommender``), this beats first-order
transitions, which the README of that evaluation explains.
"""

from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

# Weight of a context of length n (n = 1..MAX_ORDER): longer matches are rarer and sharper.
DEFAULT_GROWTH = 2.0
MAX_ORDER = 5
POPULARITY_WEIGHT = 0.01


@dataclass
class SequentialRecommender:
    """Variable-order Markov chain over item sequences, with a popularity back-off."""

    max_order: int = MAX_ORDER
    growth: float = DEFAULT_GROWTH
    repeat_weight: float = 1.0  # multiplier of items already in the history (<1 steers to new ones)
    popularity: Counter = field(default_factory=Counter)
    followers: list[dict[tuple, Counter]] = field(default_factory=list)

    def fit(self, sequences: Sequence[Sequence[Hashable]]) -> "SequentialRecommender":
        self.popularity = Counter(item for sequence in sequences for item in sequence)
        self.followers = [defaultdict(Counter) for _ in range(self.max_order + 1)]
        for sequence in sequences:
            for order in range(1, self.max_order + 1):
                for i in range(order, len(sequence)):
                    self.followers[order][tuple(sequence[i - order:i])][sequence[i]] += 1
        return self

    @property
    def catalogue(self) -> set:
        return set(self.popularity)

    def scores(self, history: Sequence[Hashable]) -> dict[Hashable, float]:
        total = sum(self.popularity.values()) or 1
        scores = {item: POPULARITY_WEIGHT * n / total for item, n in self.popularity.items()}
        for order in range(1, min(self.max_order, len(history)) + 1):
            following = self.followers[order].get(tuple(history[-order:]))
            if not following:
                continue
            weight = self.growth ** (order - 1)
            seen = sum(following.values())
            for item, n in following.items():
                scores[item] = scores.get(item, 0.0) + weight * n / seen
        if self.repeat_weight != 1.0:
            for item in set(history):
                if item in scores:
                    scores[item] *= self.repeat_weight
        return scores

    def rank(self, history: Sequence[Hashable], k: int | None = None) -> list[Hashable]:
        scores = self.scores(history)
        ranked = sorted(scores, key=lambda item: (-scores[item], str(item)))
        return ranked[:k] if k else ranked


class TransitionsBaseline:
    """First-order transitions: the items that most often followed the learner's last one."""

    def __init__(self, sequences: Sequence[Sequence[Hashable]]):
        self.model = SequentialRecommender(max_order=1).fit(sequences)

    def rank(self, history: Sequence[Hashable], k: int | None = None) -> list[Hashable]:
        return self.model.rank(history, k)


class PopularityBaseline:
    """The items most often practised in training, the same list for everyone."""

    def __init__(self, sequences: Sequence[Sequence[Hashable]]):
        popularity = Counter(item for sequence in sequences for item in sequence)
        self.ranking = sorted(popularity, key=lambda item: (-popularity[item], str(item)))

    def rank(self, history: Sequence[Hashable], k: int | None = None) -> list[Hashable]:
        return self.ranking[:k] if k else list(self.ranking)
