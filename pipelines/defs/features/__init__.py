"""The online feature store, materialised after each build."""

import dagster as dg


def definitions() -> dg.Definitions:
    from pipelines.defs.features.assets import online_features

    return dg.Definitions(assets=[online_features])
