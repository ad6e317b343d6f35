"""``GET /api/v1/search``: content search over the courses the user may see.

Hybrid keyword (BM25, stemmed) and semantic (MiniLM) search over content items, with filters, facets
and snippets (``models/search/content_search.py``). A draft course's content is searched only for
whoever may edit the course: the courses a user may see are read from the core database on every
request, so a course moved back to draft disappears from the next answer.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select

from models.search.content_search import DIFFICULTY_BANDS, MODES, Filters, Hit
from serving.api.auth import require
from serving.api.course_access import CourseRef, can_edit, visible_course
from serving.api.deps import DatabaseDep, StateDep
from serving.api.responses import SIGNED_IN, documented
from serving.core.enums import ContentType, CourseStatus
from serving.core.permissions import Permission
from serving.core.tables import Course, User

router = APIRouter(prefix="/api/v1", tags=["search"], responses={**SIGNED_IN, **documented(404, 422)})
Browser = Annotated[User, Depends(require(Permission.BROWSE_COURSES))]
MAX_TAGS = 20


class SearchResultOut(BaseModel):
    item_id: str
    course_id: str
    course_title: str
    module_id: str
    module_title: str
    content_type: str
    title: str
    difficulty: float | None
    tags: list[str]  # the skills it practises, by name
    score: float  # fused reciprocal rank: higher is better
    matched_by: list[str]  # "keyword", "semantic"
    snippet: str
    highlights: list[tuple[int, int]]  # [start, end) character ranges of the snippet that match the query


class FacetValueOut(BaseModel):
    value: str  # what the filter of the same name takes
    label: str
    count: int


class SearchOut(BaseModel):
    query: str
    mode: str  # what ran: "keyword" alone while the tutor's passages are not indexed yet
    total: int  # matching items the filters admit
    results: list[SearchResultOut]
    facets: dict[str, list[FacetValueOut]]  # course, module, type, difficulty, tags: counts over all matches


def _result(hit: Hit) -> SearchResultOut:
    """The hit's document as the API shows it (its whole text stays out: the snippet stands for it)."""
    return SearchResultOut(**vars(hit.document), score=round(hit.score, 6), matched_by=list(hit.matched_by),
                           snippet=hit.snippet, highlights=hit.highlights)


@router.get("/search")
def search(
    user: Browser,
    database: DatabaseDep,
    state: StateDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words, a question, or code")],
    course_id: Annotated[str | None, Query(max_length=36)] = None,
    module_id: Annotated[str | None, Query(max_length=36)] = None,
    type: ContentType | None = None,
    difficulty: Literal[tuple(DIFFICULTY_BANDS)] | None = None,  # type: ignore[valid-type]
    tags: Annotated[str | None, Query(max_length=2000, description="Comma-separated skill names (any of them)")] = None,
    mode: Literal[MODES] = "hybrid",  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchOut:
    """Course content for a query, best first, with snippets to highlight and facets to narrow it by."""
    query = q.strip()
    if not query:
        raise HTTPException(422, "q: say what to search for")
    wanted = [t.strip().lower() for t in (tags or "").split(",") if t.strip()]
    if len(wanted) > MAX_TAGS:
        raise HTTPException(422, f"tags: at most {MAX_TAGS}")
    with database.read() as session:
        if course_id is not None:
            visible_course(session, user, course_id)  # 404 for a course this user may not see
        courses = [CourseRef(*row) for row in session.execute(select(Course.id, Course.status, Course.instructor_id))]
    visible = {c.id for c in courses if c.status != CourseStatus.DRAFT or can_edit(user, c)}
    filters = Filters(courses=frozenset(visible & {course_id} if course_id else visible), module_id=module_id,
                      content_type=type.value if type else None, difficulty=difficulty, tags=frozenset(wanted))
    index = state.content_search.current()
    ran = mode if index.semantic or mode == "keyword" else "keyword"
    found = index.search(query, filters, k=limit, mode=ran)
    return SearchOut(query=query, mode=ran, total=found.total, results=[_result(h) for h in found.hits],
                     facets={name: [FacetValueOut(value=v, label=label, count=n) for v, label, n in values]
                             for name, values in found.facets.items()})
