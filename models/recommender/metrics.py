"""Ranking metrics for one held-out next item per learner, and beyond-accuracy figures."""

import math
from collections import Counter
from collections.abc import Hashable, Sequence


def ndcg_at_k(ranked: Sequence[Hashable], target: Hashable, k: int = 10) -> float:
    """NDCG with one relevant item: 1/log2(rank + 1) when it is in the top k, else 0."""
    top = list(ranked[:k])
    return 1.0 / math.log2(top.index(target) + 2) if target in top else 0.0


def hit_at_k(ranked: Sequence[Hashable], target: Hashable, k: int = 10) -> float:
    return 1.0 if target in ranked[:k] else 0.0


def coverage(recommended: list[Sequence[Hashable]], catalogue: set[Hashable], k: int = 10) -> float:
    """Share of the catalogue that appears in at least one top-k list."""
    shown = {item for ranked in recommended for item in ranked[:k]}
    return len(shown & catalogue) / len(catalogue) if catalogue else 0.0


def novelty(recommended: list[Sequence[Hashable]], popularity: Counter, k: int = 10) -> float:
    """Mean self-information -log2(p(item)) of recommended items: higher = less obvious picks."""
    total = sum(popularity.values())
    bits = [-math.log2(max(popularity.get(item, 0), 1) / total) for ranked in recommended for item in ranked[:k]]
    return sum(bits) / len(bits) if bits else 0.0
