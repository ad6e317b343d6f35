"""Every message the API pushes to connected clients, defined once: its type, its version and the
schema of its payload. A message also carries an id (increasing across replicas: a reconnecting
client sends the last id it saw as ``since``), its room and the time it was published.

Rooms: ``user:<id>`` (that user only), ``course:<id>`` (the course's learners and staff) and
``course:<id>:instructors`` (its instructors and admins: other learners' progress, at-risk changes).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import orjson
from pydantic import BaseModel, ConfigDict


class MessageType(StrEnum):
    PROGRESS = "course.progress.updated"
    RECOMMENDATIONS = "recommendations.updated"
    AT_RISK = "atrisk.changed"
    NOTIFICATION = "notification.new"
    ANNOUNCEMENT = "course.announcement"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProgressUpdated(_Payload):
    course_id: str
    user_id: str
    item_id: str
    item_status: str
    progress_percent: float
    enrollment_status: str


class RecommendationsUpdated(_Payload):
    course_id: str
    reason: str  # "progress": the learner's own answer or completion changed what comes next


class AtRiskChanged(_Payload):
    course_id: str
    user_id: str
    name: str
    at_risk: bool  # crossed the threshold upwards (True) or back below it
    risk: float
    threshold: float
    reasons: list[str]
    model_version: str


class NotificationNew(_Payload):
    id: int
    kind: str
    title: str
    body: str
    data: dict


class CourseAnnouncement(_Payload):
    course_id: str
    title: str
    body: str
    author: str


PAYLOADS: dict[MessageType, type[_Payload]] = {
    MessageType.PROGRESS: ProgressUpdated,
    MessageType.RECOMMENDATIONS: RecommendationsUpdated,
    MessageType.AT_RISK: AtRiskChanged,
    MessageType.NOTIFICATION: NotificationNew,
    MessageType.ANNOUNCEMENT: CourseAnnouncement,
}
VERSIONS: dict[MessageType, int] = {kind: 1 for kind in MessageType}


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def course_room(course_id: str) -> str:
    return f"course:{course_id}"


def instructors_room(course_id: str) -> str:
    return f"course:{course_id}:instructors"


@dataclass(frozen=True)
class Message:
    id: int
    type: str
    version: int
    room: str
    at: str
    data: dict

    def to_json(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: bytes | str) -> "Message":
        return cls(**orjson.loads(raw))


def payload(kind: MessageType, data: _Payload) -> dict:
    """The payload of a ``kind`` message, checked against its schema (one shape per type, wherever sent)."""
    if not isinstance(data, PAYLOADS[kind]):
        raise TypeError(f"a {kind.value} message carries {PAYLOADS[kind].__name__}, not {type(data).__name__}")
    return data.model_dump(mode="json")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
