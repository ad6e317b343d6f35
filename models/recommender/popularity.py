"""Popularity recommender: per course, the items most learners engage with.

The simplest recommender worth measuring, and the cold-start fallback of the real ones.
It is trained on ``bronze.events`` and evaluated on a temporal hold-out: fit on every
event before a cutoff, then ask, for each learner active after it, whether the items
they went on to start for the first time are among the top-k recommended (items they had
already touched are excluded, as a product would). A random recommender is scored on the
same hold-out so that the numbers have a floor to be read against.
"""

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

import mlflow
import numpy as np
import pandas as pd
import polars as pl
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from lake.readers import read_table, table_version
from learnlake.settings import Settings, get_settings
from models import names
from models.tracking import TrainingResult, configure_mlflow, pip_requirements, promote_if_better

log = logging.getLogger(__name__)

MODEL_NAME = names.POPULARITY
HELD_OUT_METRIC = "test_recall_at_10"
# Verbs that mean a learner engaged with a content item (not just searched or enrolled).
ENGAGEMENT_VERBS = ("viewed", "started", "completed", "answered", "played")
ITEM_TYPES = ("lesson", "video", "quiz", "assignment")
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", "course_id"), ColSpec("long", "k")]),
    outputs=Schema([ColSpec("string", "course_id"), ColSpec("string", "item_id"), ColSpec("double", "score"),
                    ColSpec("long", "rank")]),
)


def item_interactions(events: pl.DataFrame) -> pl.DataFrame:
    """First interaction of each learner with each content item: learner, course, item, first_at."""
    return (
        events.filter(pl.col("verb").is_in(ENGAGEMENT_VERBS) & pl.col("object_type").is_in(ITEM_TYPES))
        .group_by("learner_id", "course_id", pl.col("object_id").alias("item_id"))
        .agg(pl.col("timestamp").min().alias("first_at"))
    )


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
    """Train on ``bronze.events``, evaluate on the last ``holdout_days``, log, register, maybe promote."""
    settings = settings or get_settings()
    client = configure_mlflow(settings)
    events_version = table_version("bronze.events", settings)
    events = read_table("bronze.events", version=events_version, settings=settings)
    interactions = item_interactions(events)
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
    with mlflow.start_run(run_name="popularity-recommender") as run:
        mlflow.log_params({
            "model": "popularity",
            "holdout_days": holdout_days,
            "cutoff": cutoff.isoformat(),
            "input.bronze.events.version": events_version,
            "input.bronze.events.rows": events.height,
        })
        mlflow.set_tag("input.bronze.events.version", str(events_version))
        mlflow.log_metrics(metrics)
        mlflow.log_text(_model_card(metrics, events_version, holdout_days), "model_card.md")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=model,
            signature=SIGNATURE,
            input_example=example,
            registered_model_name=MODEL_NAME,
            pip_requirements=pip_requirements("polars"),
        )
    version = str(info.registered_model_version)
    promotion = promote_if_better(client, MODEL_NAME, version, HELD_OUT_METRIC)
    log.info("popularity recommender: run %s, v%s, %s", run.info.run_id, version, metrics)
    return TrainingResult(run.info.run_id, version, metrics, promotion)


def _model_card(metrics: dict[str, float], events_version: int, holdout_days: int) -> str:
    return f"""# Popularity recommender

**What it does**: ranks each course's content items by the number of distinct learners
who engaged with them (viewed, started, completed, answered, played).

**Trained on**: `bronze.events` at Delta version {events_version}.

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
