"""``learnlake eval recommender``: what to study next, on ASSISTments three-line files.

Protocol (the issue's): each learner's consecutive answers on one skill collapse into one
skill session; the last session of every test learner is held out, and a recommender ranks
the skills that learner may move to next, given the sessions before it. Reported: NDCG@10,
hit@10, catalogue coverage and novelty, for the sequential model and for the popularity and
first-order transitions baselines. The sequential model's two settings are chosen on a
validation split of the training learners only: nothing is fitted to the test file.
"""

import itertools
import logging
from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np

from lake.sources.datasets.assistments import read_sequences
from lake.sources.datasets.common import DatasetError
from models.headline import HEADLINE, against_strongest
from models.knowledge_tracing.data import split_files
from models.recommender.metrics import coverage, hit_at_k, ndcg_at_k, novelty
from models.recommender.sequential import PopularityBaseline, SequentialRecommender, TransitionsBaseline

log = logging.getLogger(__name__)
K = 10
GROWTH_GRID = (1.0, 2.0, 3.0, 4.0)
REPEAT_GRID = (0.7, 1.0, 1.5, 2.0)


def skill_sessions(skills: Sequence[int]) -> list[int]:
    """Consecutive answers on one skill -> one session (the skill, once)."""
    return [skill for skill, _ in itertools.groupby(skills)]


def _score(model, cases: list[tuple[list, Hashable]], popularity, catalogue: set) -> dict[str, float]:
    ranked = [model.rank(history, K) for history, _ in cases]
    return {
        "ndcg_at_10": float(np.mean([ndcg_at_k(r, t, K) for r, (_, t) in zip(ranked, cases, strict=True)])),
        "hit_at_10": float(np.mean([hit_at_k(r, t, K) for r, (_, t) in zip(ranked, cases, strict=True)])),
        "coverage": coverage(ranked, catalogue, K),
        "novelty_bits": novelty(ranked, popularity, K),
    }


def held_out(sequences: list[list[int]]) -> list[tuple[list[int], int]]:
    """(history, next session) for every learner with at least two sessions."""
    return [(sequence[:-1], sequence[-1]) for sequence in sequences if len(sequence) >= 2]


def choose_settings(train: list[list[int]], *, seed: int = 0) -> dict[str, float]:
    """Grid-search growth and repeat weight on 20 % of the training learners' last sessions."""
    order = np.random.default_rng(seed).permutation(len(train))
    cut = int(0.8 * len(order))
    fit_part = [train[i] for i in order[:cut]]
    cases = held_out([train[i] for i in order[cut:]])
    best, best_ndcg = {"growth": GROWTH_GRID[0], "repeat_weight": REPEAT_GRID[0]}, -1.0
    for growth, repeat in itertools.product(GROWTH_GRID, REPEAT_GRID):
        model = SequentialRecommender(growth=growth, repeat_weight=repeat).fit(fit_part)
        ndcg = float(np.mean([ndcg_at_k(model.rank(h, K), t, K) for h, t in cases]))
        if ndcg > best_ndcg:
            best, best_ndcg = {"growth": growth, "repeat_weight": repeat}, ndcg
    log.info("recommender settings chosen on validation: %s (NDCG@10 %.4f)", best, best_ndcg)
    return best | {"validation_ndcg_at_10": best_ndcg}


def evaluate(data_dir: Path, *, seed: int = 0) -> dict:
    files = split_files(data_dir)
    train = [skill_sessions(skills) for skills, _ in read_sequences(files.train)]
    test = [skill_sessions(skills) for skills, _ in read_sequences(files.test)]
    cases = held_out(test)
    if not cases:
        raise DatasetError(f"{files.test}: no test learner has two skill sessions to hold one out")
    settings = choose_settings(train, seed=seed)
    # Every model learns from the training learners only; test histories are only read at ranking time.
    model = SequentialRecommender(growth=settings["growth"], repeat_weight=settings["repeat_weight"]).fit(train)
    popularity, catalogue = model.popularity, model.catalogue | {t for _, t in cases}
    result = {
        "dataset": data_dir.name,
        "test_learners": len(cases),
        "skills": len(catalogue),
        "model": "variable-order Markov chain over skill sessions (orders 1-5)",
        "settings": settings,
        **_score(model, cases, popularity, catalogue),
        "baselines": {
            "popularity": _score(PopularityBaseline(train), cases, popularity, catalogue),
            "transitions": _score(TransitionsBaseline(train), cases, popularity, catalogue),
        },
    }
    result["ndcg_vs_transitions"] = result["ndcg_at_10"] / max(result["baselines"]["transitions"]["ndcg_at_10"], 1e-9)
    result[HEADLINE] = {"ndcg_at_10": against_strongest(
        "NDCG@10 of the next skill session", "variable-order Markov chain", result["ndcg_at_10"],
        {name: figures["ndcg_at_10"] for name, figures in result["baselines"].items()})}
    return result
