"""Model assets: train on the published warehouse, evaluate on a hold-out, register in MLflow, maybe promote.

A model that cannot be trained yet (too little data, e.g. a fresh platform) is not an error:
the asset materialises with ``trained: false`` and the reason, serving keeps answering 503
"no model registered yet", and the next run tries again.
"""

import dagster as dg

from learnlake.errors import DataQualityError
from models.dropout import training as dropout_training
from models.dropout.drift import PSI_ALERT, live_score_drift
from models.knowledge_tracing import lake_training as kt_training
from models.recommender import popularity
from models.recommender import training as next_items_training
from pipelines.defs.features.assets import online_features
from pipelines.defs.resources import LearnLake
from pipelines.defs.transforms.assets import published_warehouse


def _result(context: dg.AssetExecutionContext, learnlake: LearnLake, train) -> dg.MaterializeResult:
    try:
        result = train(learnlake.settings())
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
    deps=[published_warehouse],
    group_name="models",
    kinds={"mlflow"},
    description="Popularity recommender (feature view item_first_engagement) registered in MLflow; champion when "
                "it beats the current one.",
)
def popularity_recommender(context: dg.AssetExecutionContext, learnlake: LearnLake) -> dg.MaterializeResult:
    return _result(context, learnlake, popularity.train)


@dg.asset(deps=[published_warehouse], group_name="models", kinds={"mlflow", "scikitlearn"},
          description="Dropout risk per learner and course (feature service dropout_risk_v1), compared with "
                      "the at-risk rule; champion when its held-out AUC beats the current one.")
def dropout_model(context: dg.AssetExecutionContext, learnlake: LearnLake) -> dg.MaterializeResult:
    return _result(context, learnlake, dropout_training.train)


@dg.asset(deps=[published_warehouse], group_name="models", kinds={"mlflow", "pytorch"},
          description="Knowledge tracing (DKT on recent answers, PyTorch Lightning) on graded answers: next-answer "
                      "correctness and mastery per skill; champion on held-out AUC.")
def knowledge_tracing_model(context: dg.AssetExecutionContext, learnlake: LearnLake) -> dg.MaterializeResult:
    return _result(context, learnlake, kt_training.train)


@dg.asset(deps=[published_warehouse, knowledge_tracing_model], group_name="models", kinds={"mlflow"},
          description="Next-item recommender re-ranked by the champion knowledge-tracing mastery; champion on "
                      "held-out NDCG@10.")
def next_items_recommender(context: dg.AssetExecutionContext, learnlake: LearnLake) -> dg.MaterializeResult:
    return _result(context, learnlake, next_items_training.train)


@dg.asset(deps=[dropout_model, online_features], group_name="models", kinds={"mlflow"},
          description="Drift of today's dropout scores (every open enrolment, from the online store as served) "
                      "against the champion's training scores: the population stability index.")
def dropout_score_drift(context: dg.AssetExecutionContext, learnlake: LearnLake) -> dg.MaterializeResult:
    measured = live_score_drift(learnlake.settings())
    if measured is None or measured["psi"] is None:
        context.log.info("no dropout champion or no open enrolment: no drift to measure")
        return dg.MaterializeResult(metadata={"measured": False})
    context.log.info(f"PSI {measured['psi']:.3f} over {measured['learners']} open enrolments")
    return dg.MaterializeResult(metadata={"measured": True, **measured})


@dg.asset_check(asset=dropout_score_drift, blocking=False,
                description=f"The live dropout scores have not drifted past PSI {PSI_ALERT} from the training scores.")
def dropout_scores_have_not_drifted(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    event = context.instance.get_latest_materialization_event(dropout_score_drift.key)
    value = event.asset_materialization.metadata.get("psi") if event is not None else None
    psi = float(value.value) if value is not None else None
    return dg.AssetCheckResult(passed=psi is None or psi <= PSI_ALERT, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"psi": psi, "alert_above": PSI_ALERT})
