"""The tutor's passage index."""

import dagster as dg


def definitions() -> dg.Definitions:
    from pipelines.defs.tutor.assets import tutor_index

    return dg.Definitions(assets=[tutor_index])
