"""Recommendations from the champion models."""

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from serving.api.deps import PopularityDep
from serving.api.responses import documented

router = APIRouter(prefix="/api/v1", tags=["recommendations"], responses=documented(503))


class RecommendedItem(BaseModel):
    item_id: str
    score: float
    rank: int


class PopularItems(BaseModel):
    course_id: str
    model_name: str
    model_version: str
    items: list[RecommendedItem]


@router.get("/courses/{course_id}/popular-items")
def popular_items(course_id: str, popularity: PopularityDep, k: int = Query(10, ge=1, le=100)) -> PopularItems:
    """The course's items most learners engage with, from the champion popularity model."""
    loaded = popularity.get()
    ranked = loaded.model.recommend(course_id, k)
    if not ranked:
        raise HTTPException(404, f"the model knows no activity in course {course_id!r}")
    return PopularItems(
        course_id=course_id,
        model_name=loaded.name,
        model_version=loaded.version,
        items=[RecommendedItem(item_id=i, score=s, rank=r) for r, (i, s) in enumerate(ranked, start=1)],
    )
