"""``POST /api/v1/courses/{course_id}/announcements``: an instructor's message to everyone in a course,
pushed live to the course's room (``course.announcement`` on ``/api/v1/ws``); nothing is stored."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from serving.api.auth import require
from serving.api.course_access import editable_course
from serving.api.deps import DatabaseDep, HubDep
from serving.api.responses import SIGNED_IN, documented
from serving.api.routes.courses import NOT_FOUND
from serving.core.permissions import Permission
from serving.core.tables import User
from serving.realtime.messages import CourseAnnouncement, MessageType, course_room

router = APIRouter(prefix="/api/v1/courses", tags=["courses"], responses=SIGNED_IN)


class AnnouncementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(max_length=5000)] = ""


@router.post("/{course_id}/announcements", status_code=202, responses={**NOT_FOUND, **documented(503)})
def announce_to_course(course_id: str, announcement: AnnouncementIn, database: DatabaseDep, hub: HubDep,
                       user: Annotated[User, Depends(require(Permission.EDIT_COURSE))]) -> dict:
    """Push an announcement to everyone connected to the course's room (its learners and staff)."""
    with database.read() as session:
        course = editable_course(session, user, course_id)
    message = hub.publish(course_room(course.id), MessageType.ANNOUNCEMENT,
                          CourseAnnouncement(course_id=course.id, author=user.name, **announcement.model_dump()))
    if message is None:
        raise HTTPException(503, "live updates are unavailable right now (their bus does not answer); try again")
    return {"id": message.id}
