"""Model assets: train, evaluate on a hold-out, register in MLflow, maybe promote."""

import dagster as dg

from learnlake.settings import get_settings
from models.recommender import popularity


@dg.asset(
    deps=[dg.AssetKey(["bronze", "events"])],
    group_name="models",
    kinds={"mlflow"},
    description="Popularity recommender registered in MLflow; champion when it beats the current one.",
)
def popularity_recommender(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    result = popularity.train(get_settings())
    context.log.info(result.promotion.reason)
    return dg.MaterializeResult(
        metadata={
            "mlflow_run_id": result.run_id,
            "model_version": result.version,
            "promoted": result.promotion.promoted,
            "promotion": result.promotion.reason,
            **{name: float(value) for name, value in result.metrics.items()},
        }
    )
