"""``/api/v1/courses``: courses, their modules and content items, publishing."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from serving.api.auth import require, require_on
from serving.api.course_access import editable_course, item_of, visible_course
from serving.api.deps import DatabaseDep, OutboxDep
from serving.api.pagination import Limit, Offset, page, sort_options
from serving.api.responses import SIGNED_IN
from serving.api.schemas import (
    ContentItemCreate,
    ContentItemOut,
    ContentItemUpdate,
    CourseCreate,
    CourseOut,
    CourseUpdate,
    ModuleCreate,
    ModuleOut,
    ModuleUpdate,
    Page,
)
from serving.core import courses
from serving.core.enums import CourseStatus, Role
from serving.core.outbox import Outbox
from serving.core.permissions import Permission, Scope, scope_of
from serving.core.tables import ContentItem, Course, Module, User

router = APIRouter(prefix="/api/v1/courses", tags=["courses"], responses=SIGNED_IN)

COURSE_SORTS = sort_options("created_at", "published_at", "title")
COURSE_COLUMNS = {"id": Course.id, "created_at": Course.created_at, "published_at": Course.published_at,
                  "title": Course.title}
NOT_FOUND = {404: {"description": "No such course, or not one you may see"}}
Browser = Annotated[User, Depends(require(Permission.BROWSE_COURSES))]
Editor = Annotated[User, Depends(require(Permission.EDIT_COURSE))]


def course_out(course: Course) -> CourseOut:
    return CourseOut(id=course.id, title=course.title, description=course.description,
                     instructor_id=course.instructor_id, status=course.status, metadata=course.meta,
                     published_at=course.published_at, created_at=course.created_at, updated_at=course.updated_at)


@router.get("", response_model=Page[CourseOut])
def list_courses(
    user: Browser,
    database: DatabaseDep,
    q: Annotated[str | None, Query(max_length=200, description="Words of the title or description")] = None,
    status: CourseStatus | None = None,
    instructor_id: Annotated[str | None, Query(max_length=64)] = None,
    sort: Literal[COURSE_SORTS] = "-created_at",  # type: ignore[valid-type]
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CourseOut]:
    """Published and archived courses for everyone; drafts only for whoever may edit them."""
    query = select(Course)
    if scope_of(user.role, Permission.EDIT_COURSE) is not Scope.ANY:
        query = query.where(or_(Course.status != CourseStatus.DRAFT, Course.instructor_id == user.id))
    if q:
        for word in q.lower().split()[:10]:
            query = query.where(or_(func.lower(Course.title).contains(word, autoescape=True),
                                    func.lower(Course.description).contains(word, autoescape=True)))
    if status is not None:
        query = query.where(Course.status == status)
    if instructor_id is not None:
        query = query.where(Course.instructor_id == instructor_id)
    with database.read() as session:
        courses, total = page(session, query, sort=sort, columns=COURSE_COLUMNS, limit=limit, offset=offset)
    return Page(items=[course_out(c) for c in courses], total=total, limit=limit, offset=offset)


@router.post("", status_code=201, response_model=CourseOut)
def create_course(body: CourseCreate, user: Annotated[User, Depends(require(Permission.CREATE_COURSE))],
                  database: DatabaseDep, outbox: OutboxDep) -> CourseOut:
    """A new draft, taught by its creator (or, for admins, by ``instructor_id``)."""
    instructor_id = body.instructor_id or user.id
    require_on(user, Permission.CREATE_COURSE, instructor_id)
    with database.write() as session:
        instructor = session.get(User, instructor_id)
        if instructor is None or instructor.role not in (Role.INSTRUCTOR, Role.ADMIN):
            raise _unprocessable("instructor_id", f"{instructor_id} is not an instructor")
        course = courses.create_course(session, outbox, actor_id=user.id, title=body.title,
                                       instructor_id=instructor_id, description=body.description, meta=body.metadata)
    return course_out(course)


@router.get("/{course_id}", response_model=CourseOut, responses=NOT_FOUND)
def read_course(course_id: str, user: Browser, database: DatabaseDep) -> CourseOut:
    with database.read() as session:
        return course_out(visible_course(session, user, course_id))


@router.patch("/{course_id}", response_model=CourseOut, responses=NOT_FOUND)
def update_course(course_id: str, body: CourseUpdate, user: Editor, database: DatabaseDep,
                  outbox: OutboxDep) -> CourseOut:
    with database.write() as session:
        course = editable_course(session, user, course_id, lock=True)
        courses.update_course(session, outbox, course, body.model_dump(exclude_none=True), actor_id=user.id)
    return course_out(course)


@router.delete("/{course_id}", status_code=204, response_class=Response,
               responses={**NOT_FOUND, 409: {"description": "Learners are enrolled: archive it instead"}})
def delete_course(course_id: str, user: Editor, database: DatabaseDep, outbox: OutboxDep) -> Response:
    with database.write() as session:
        course = editable_course(session, user, course_id, lock=True)
        try:
            courses.delete_course(session, outbox, course, actor_id=user.id)
        except courses.CourseHasLearners as exc:
            raise HTTPException(409, str(exc)) from None
    return Response(status_code=204)


@router.post("/{course_id}/publish", response_model=CourseOut, responses=NOT_FOUND)
def publish_course(course_id: str, user: Editor, database: DatabaseDep, outbox: OutboxDep) -> CourseOut:
    """Make a draft (or an archived course) visible and open for enrolment."""
    return _set_status(course_id, CourseStatus.PUBLISHED, user, database, outbox)


@router.post("/{course_id}/archive", response_model=CourseOut, responses=NOT_FOUND)
def archive_course(course_id: str, user: Editor, database: DatabaseDep, outbox: OutboxDep) -> CourseOut:
    """Close a course to new enrolments; its learners keep their records."""
    return _set_status(course_id, CourseStatus.ARCHIVED, user, database, outbox)


def _set_status(course_id: str, status: CourseStatus, user: User, database, outbox: Outbox) -> CourseOut:
    with database.write() as session:
        course = editable_course(session, user, course_id, lock=True)
        courses.set_course_status(session, outbox, course, status, actor_id=user.id)
    return course_out(course)


# --- modules ------------------------------------------------------------------------------


@router.get("/{course_id}/modules", response_model=list[ModuleOut], responses=NOT_FOUND)
def list_modules(course_id: str, user: Browser, database: DatabaseDep) -> list[ModuleOut]:
    """The course's modules in order, each with its content items in order."""
    with database.read() as session:
        course = visible_course(session, user, course_id)
        return [ModuleOut.model_validate(m) for m in course.modules]


@router.post("/{course_id}/modules", status_code=201, response_model=ModuleOut, responses=NOT_FOUND)
def create_module(course_id: str, body: ModuleCreate, user: Editor, database: DatabaseDep,
                  outbox: OutboxDep) -> ModuleOut:
    with database.write() as session:
        course = editable_course(session, user, course_id, lock=True)
        module = courses.create_module(session, outbox, course.id, actor_id=user.id, title=body.title,
                                       position=body.position)
        return ModuleOut(id=module.id, course_id=course.id, position=module.position, title=module.title, items=[],
                         updated_at=module.updated_at)


@router.patch("/{course_id}/modules/{module_id}", response_model=ModuleOut, responses=NOT_FOUND)
def update_module(course_id: str, module_id: str, body: ModuleUpdate, user: Editor, database: DatabaseDep,
                  outbox: OutboxDep) -> ModuleOut:
    with database.write() as session:
        module = _module_of(session, editable_course(session, user, course_id, lock=True), module_id)
        courses.update_module(session, outbox, module, body.model_dump(exclude_none=True), actor_id=user.id)
        return ModuleOut.model_validate(module)


@router.delete("/{course_id}/modules/{module_id}", status_code=204, response_class=Response, responses=NOT_FOUND)
def delete_module(course_id: str, module_id: str, user: Editor, database: DatabaseDep,
                  outbox: OutboxDep) -> Response:
    with database.write() as session:
        module = _module_of(session, editable_course(session, user, course_id, lock=True), module_id)
        courses.delete_module(session, outbox, module, actor_id=user.id)
    return Response(status_code=204)


# --- content items ------------------------------------------------------------------------


@router.post("/{course_id}/modules/{module_id}/items", status_code=201, response_model=ContentItemOut,
             responses=NOT_FOUND)
def create_item(course_id: str, module_id: str, body: ContentItemCreate, user: Editor, database: DatabaseDep,
                outbox: OutboxDep) -> ContentItem:
    with database.write() as session:
        module = _module_of(session, editable_course(session, user, course_id, lock=True), module_id)
        _check_prerequisites(session, course_id, body.prerequisites)
        return courses.create_item(session, outbox, module, body.model_dump(exclude={"position"}, mode="json"),
                                   actor_id=user.id, position=body.position)


@router.get("/{course_id}/items/{item_id}", response_model=ContentItemOut, responses=NOT_FOUND)
def read_item(course_id: str, item_id: str, user: Browser, database: DatabaseDep) -> ContentItem:
    with database.read() as session:
        return item_of(session, visible_course(session, user, course_id), item_id)


@router.patch("/{course_id}/items/{item_id}", response_model=ContentItemOut, responses=NOT_FOUND)
def update_item(course_id: str, item_id: str, body: ContentItemUpdate, user: Editor, database: DatabaseDep,
                outbox: OutboxDep) -> ContentItem:
    with database.write() as session:
        item = item_of(session, editable_course(session, user, course_id, lock=True), item_id)
        if body.prerequisites is not None:
            if item.id in body.prerequisites:
                raise _unprocessable("prerequisites", "an item cannot be its own prerequisite")
            _check_prerequisites(session, course_id, body.prerequisites)
        courses.update_item(session, outbox, item, body.model_dump(exclude_none=True, mode="json"), actor_id=user.id)
        return item


@router.delete("/{course_id}/items/{item_id}", status_code=204, response_class=Response, responses=NOT_FOUND)
def delete_item(course_id: str, item_id: str, user: Editor, database: DatabaseDep, outbox: OutboxDep) -> Response:
    with database.write() as session:
        item = item_of(session, editable_course(session, user, course_id, lock=True), item_id)
        courses.delete_item(session, outbox, item, actor_id=user.id)
    return Response(status_code=204)


def _module_of(session: Session, course: Course, module_id: str) -> Module:
    module = session.get(Module, module_id)
    if module is None or module.course_id != course.id:
        raise HTTPException(404, f"no module {module_id} in course {course.id}")
    return module


def _check_prerequisites(session: Session, course_id: str, prerequisites: list[str]) -> None:
    if not prerequisites:
        return
    found = set(session.scalars(select(ContentItem.id).where(ContentItem.id.in_(prerequisites),
                                                             ContentItem.course_id == course_id)))
    if missing := sorted(set(prerequisites) - found):
        raise _unprocessable("prerequisites", f"prerequisites must be content items of this course; unknown: {missing}")


def _unprocessable(field: str, message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own, so every 422 of the API has the one documented schema."""
    return HTTPException(422, [{"loc": ["body", field], "msg": message, "type": "value_error"}])
