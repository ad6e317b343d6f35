"""The models: trained on the published warehouse, registered in MLflow; dropout score drift and its check."""

import dagster as dg


def definitions() -> dg.Definitions:
    from pipelines.defs.models.assets import (
        dropout_model,
        dropout_score_drift,
        dropout_scores_have_not_drifted,
        knowledge_tracing_model,
        next_items_recommender,
        popularity_recommender,
    )

    return dg.Definitions(assets=[popularity_recommender, dropout_model, dropout_score_drift, knowledge_tracing_model,
                                  next_items_recommender],
                          asset_checks=[dropout_scores_have_not_drifted])
