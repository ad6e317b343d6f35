"""Model assets: train on the published warehouse, evaluate on a hold-out, register in MLflow, maybe promote.

A model that cannot be trained yet (too little data, e.g. a fresh platform) is not an error:
the asset materialises with ``trained: false`` and the reason, serving keeps answering 503
"no model registered yet", and the next run tries again.
"""

import dagster as dg

from learnlake.errors import DataQualityError
from learnlake.settings import get_settings
from models.dropout import training as dropout_training
from models.knowledge_tracing import lake_training as kt_training
from models.recommender import popularity
from models.recommender import training as next_items_training
from pipelines.defs.transforms.assets import published_warehouse


def _result(context: dg.AssetExecutionContext, train) -> dg.MaterializeResult:
    try:
        result = train(get_settings())
    except DataQualityError as exc:
        context.log.warning(f"not trained: {exc}")
        return dg.MaterializeResult(metadata={"trained": False, "reason": str(exc)})
    context.log.info(result.promotion.reason)
    return dg.MaterializeResult(metadata={
        "trained": True,
        "mlflow_run_id": result.run_id,
        "model_version": result.version,
        "promoted": result.promotion.promoted,
        "promotion": result.promotion.reason,
        **{name: float(value) for name, value in result.metrics.items()},
    })


@dg.asset(
    deps=[dg.AssetKey(["bronze", "events"])],
    group_name="models",
    kinds={"mlflow"},
    description="Popularity recommender registered in MLflow; champion when it beats the current one.",
)
def popularity_recommender(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return _result(context, popularity.train)


@dg.asset(deps=[published_warehouse], group_name="models", kinds={"mlflow", "scikitlearn"},
          description="Dropout risk per learner and course (feature service dropout_risk_v1), compared with "
                      "the at-risk rule; champion when its held-out AUC beats the current one.")
def dropout_model(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return _result(context, dropout_training.train)


@dg.asset(deps=[published_warehouse], group_name="models", kinds={"mlflow", "pytorch"},
          description="Knowledge tracing (DKT on recent answers, PyTorch Lightning) on graded answers: next-answer "
                      "correctness and mastery per skill; champion on held-out AUC.")
def knowledge_tracing_model(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return _result(context, kt_training.train)


@dg.asset(deps=[published_warehouse, knowledge_tracing_model], group_name="models", kinds={"mlflow"},
          description="Next-item recommender re-ranked by the champion knowledge-tracing mastery; champion on "
                      "held-out NDCG@10.")
def next_items_recommender(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return _result(context, next_items_training.train)
