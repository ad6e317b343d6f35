"""The dbt warehouse, its checks and its published copy. The dbt assets need the manifest
(``project.prepare_manifest``, or ``dagster dev``'s own preparation): they are defined when loaded."""

import dagster as dg


def definitions() -> dg.Definitions:
    from pipelines.defs.transforms.assets import published_warehouse, warehouse_models
    from pipelines.defs.transforms.checks import fct_enrollments_quality, fct_graded_answers_quality
    from pipelines.defs.transforms.project import dbt_resource

    return dg.Definitions(assets=[warehouse_models, published_warehouse],
                          asset_checks=[fct_enrollments_quality, fct_graded_answers_quality],
                          resources={"dbt": dbt_resource()})
