"""The tutor's passage index, kept in step with the course content in the lake."""

import dagster as dg

from pipelines.defs.resources import LearnLake


@dg.asset(
    deps=[dg.AssetKey(["bronze", "core_content_items"])],
    group_name="tutor",
    kinds={"qdrant"},
    description="Course content (core lessons, imported OpenStax books) as heading-aware passages with MiniLM "
                "vectors in Qdrant; only new or edited content is embedded.",
)
def tutor_index(context: dg.AssetExecutionContext, learnlake: LearnLake) -> dg.MaterializeResult:
    from models.tutor.indexing import index_lake_content  # imports the embedding model's libraries

    reports = index_lake_content(learnlake.settings())
    totals = {name: sum(getattr(r, name) for r in reports.values()) for name in ("added", "updated", "removed",
                                                                                 "unchanged")}
    context.log.info(f"tutor index: {len(reports)} courses, {totals}")
    return dg.MaterializeResult(metadata={"courses": len(reports), **totals})
