"""Popularity recommender: per course, the items most learners engage with.

The simplest recommender worth measuring, and the cold-start fallback of the real ones.
It is trained on the feature view ``item_first_engagement`` (when each learner first engaged
with each content item) and evaluated on a temporal hold-out: fit on every first engagement
before a cutoff, then ask, for each learner active after it, whether the items
they went on to start for the first time are among the top-k recommended (items they had
already touched are excluded, as a product would). A random recommender is scored on the
same hold-out so that the numbers have a floor to be read against.
"""

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

import duckdb
import mlflow
import numpy as np
import pandas as pd
import polars as pl

from feature_store.offline import history
from feature_store.repository import item_first_engagement
from lake.warehouse import published_warehouse
from learnlake.errors import DataQualityError
from learnlake.settings import Settings, get_settings
from models import names
from models.registration import log_and_register
from models.tracking import TrainingResult, configure_mlflow

log = logging.getLogger(__name__)

MODEL_NAME = names.POPULARITY
HELD_OUT_METRIC = "test_recall_at_10"


def item_interactions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """First engagement of each learner with each content item: learner_id, course_id, item_id, first_at."""
    return history(con, item_first_engagement).select("learner_id", "course_id", "item_id",
                                                      pl.col("feature_timestamp").alias("first_at"))


class PopularityRecommender(mlflow.pyfunc.PythonModel):
    """Ranks each course's items by the number of distinct learners who engaged with them."""

    def __init__(self, ranking: dict[str, list[tuple[str, float]]]) -> None:
        self.ranking = ranking

    @classmethod
    def fit(cls, interactions: pl.DataFrame) -> "PopularityRecommender":
        counts = (
            interactions.group_by("course_id", "item_id")
            .agg(pl.col("learner_id").n_unique().alias("learners"))
            .sort(["course_id", "learners", "item_id"], descending=[False, True, False])
        )
        ranking: dict[str, list[tuple[str, float]]] = {}
        for course_id, item_id, learners in counts.iter_rows():
            ranking.setdefault(course_id, []).append((item_id, float(learners)))
        return cls(ranking)

    def recommend(self, course_id: str, k: int = 10, exclude: frozenset[str] = frozenset()) -> list[tuple[str, float]]:
        """Top-k (item id, score) of a course, leaving out ``exclude``; [] for an unknown course."""
        ranked = (pair for pair in self.ranking.get(course_id, []) if pair[0] not in exclude)
        return [pair for pair, _ in zip(ranked, range(k))]

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        rows = []
        for course_id, k in zip(model_input["course_id"], model_input["k"]):
            for rank, (item_id, score) in enumerate(self.recommend(str(course_id), int(k)), start=1):
                rows.append({"course_id": str(course_id), "item_id": item_id, "score": score, "rank": rank})
        return pd.DataFrame(rows, columns=["course_id", "item_id", "score", "rank"])


@dataclass(frozen=True)
class HoldOutScores:
    """Mean recall@k and nDCG@k over learners, and the share of the catalogue ever shown."""

    recall: float
    ndcg: float
    coverage: float
    learners: int


def evaluate(recommend, interactions: pl.DataFrame, cutoff, catalog: dict[str, list[str]], k: int = 10) -> HoldOutScores:
    """Score ``recommend(learner, course, seen) -> [item ids]`` on first interactions after ``cutoff``."""
    before = interactions.filter(pl.col("first_at") < cutoff)
    after = interactions.filter(pl.col("first_at") >= cutoff)
    seen = {
        (learner, course): set(items)
        for learner, course, items in before.group_by("learner_id", "course_id", maintain_order=True)
        .agg("item_id")
        .iter_rows()
    }
    recalls, ndcgs, shown = [], [], set()
    after = after.sort("learner_id", "course_id", "item_id")  # a fixed order keeps the random baseline repeatable
    for learner, course, relevant in after.group_by("learner_id", "course_id", maintain_order=True).agg("item_id").iter_rows():
        relevant = set(relevant)
        recommended = recommend(learner, course, frozenset(seen.get((learner, course), set())))[:k]
        shown.update(recommended)
        hits = [item in relevant for item in recommended]
        recalls.append(sum(hits) / len(relevant))
        dcg = sum(1 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit)
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
        ndcgs.append(dcg / ideal)
    catalog_size = sum(len(items) for items in catalog.values())
    return HoldOutScores(
        recall=float(np.mean(recalls)) if recalls else 0.0,
        ndcg=float(np.mean(ndcgs)) if ndcgs else 0.0,
        coverage=len(shown) / catalog_size if catalog_size else 0.0,
        learners=len(recalls),
    )


def train(settings: Settings | None = None, *, holdout_days: int = 7, seed: int = 0) -> TrainingResult:
    """Train on first engagements, evaluate on the last ``holdout_days``, log, register, maybe promote."""
    settings = settings or get_settings()
    client = configure_mlflow(settings)
    with published_warehouse(settings) as con:
        interactions = item_interactions(con)
    if interactions.is_empty():
        raise DataQualityError("no learner has engaged with a content item yet: nothing to rank")
    cutoff = interactions["first_at"].max() - timedelta(days=holdout_days)
    train_part = interactions.filter(pl.col("first_at") < cutoff)
    # The catalogue is what the training period knew about; an item first seen later cannot be ranked.
    catalog = {
        course: sorted(items)
        for course, items in train_part.group_by("course_id").agg(pl.col("item_id").unique()).iter_rows()
    }

    candidate = PopularityRecommender.fit(train_part)
    scores = evaluate(lambda _l, c, seen: [i for i, _ in candidate.recommend(c, 10, seen)], interactions, cutoff, catalog)
    rng = np.random.default_rng(seed)

    def random_recommend(_learner, course, seen):
        pool = [i for i in catalog.get(course, []) if i not in seen]
        return list(rng.permutation(pool)[:10]) if pool else []

    baseline = evaluate(random_recommend, interactions, cutoff, catalog)
    metrics = {
        HELD_OUT_METRIC: scores.recall,
        "test_ndcg_at_10": scores.ndcg,
        "test_catalog_coverage": scores.coverage,
        "test_learners": float(scores.learners),
        "random_test_recall_at_10": baseline.recall,
        "random_test_ndcg_at_10": baseline.ndcg,
        "train_interactions": float(train_part.height),
    }
    # The served model learns from everything; the held-out metric above is what it is judged on.
    model = PopularityRecommender.fit(interactions)
    example = pd.DataFrame({"course_id": [next(iter(model.ranking), "")], "k": [10]})
    return log_and_register(
        client, settings, model_name=MODEL_NAME, run_name="popularity-recommender", held_out_metric=HELD_OUT_METRIC,
        params={"model": "popularity", "feature_view": item_first_engagement.name, "holdout_days": holdout_days,
                "cutoff": cutoff.isoformat(), "first_engagements": interactions.height},
        metrics=metrics, model_card=_model_card(metrics, holdout_days), python_model=model, example=example,
        packages=("polars",))


def _model_card(metrics: dict[str, float], holdout_days: int) -> str:
    return f"""# Popularity recommender

**What it does**: ranks each course's content items by the number of distinct learners
who engaged with them (viewed, started, completed, answered, played).

**Trained on**: feature view `item_first_engagement` of the published warehouse (the run records the
Delta version of every lake table under it).

**Evaluated on**: learners' first interactions with items in the last {holdout_days} days,
with the model fitted only on what came before; items a learner had already touched are
excluded from their list.

| metric | model | random |
|---|---|---|
| recall@10 | {metrics[HELD_OUT_METRIC]:.4f} | {metrics['random_test_recall_at_10']:.4f} |
| nDCG@10 | {metrics['test_ndcg_at_10']:.4f} | {metrics['random_test_ndcg_at_10']:.4f} |

**Limits**: not personalised; it knows nothing of a learner's mastery or of new items.
It is the baseline and cold-start fallback for the sequential recommender.
"""
