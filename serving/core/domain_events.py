"""Every domain event the core API writes to its outbox, each type with its one payload schema.

The outbox refuses an event whose facts do not match its type's schema, so one event type has one
shape in ``bronze.events`` whoever emits it (a route, the seeder, the book importer). Facts carry
ids and figures, never e-mail or name: people appear by their pseudonymous learner id.
"""

from pydantic import BaseModel, ConfigDict, ValidationError

from learnlake.errors import LearnLakeError


class Facts(BaseModel):
    """What an event says beyond who (actor), what (entity) and when; nothing else may be added."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoFacts(Facts):
    """The event's type, entity and time say it all (a deletion, a course published)."""


class Changed(Facts):
    changed: list[str]  # the fields that changed, sorted


class UserRegistered(Facts):
    role: str


class UserUpdated(Changed):
    role: str  # as they are after the change (what an access review reads)
    is_active: bool


class CourseCreated(Facts):
    title: str
    instructor_learner_id: str


class ModuleCreated(Facts):
    position: int


class ContentItemCreated(Facts):
    module_id: str
    content_type: str
    skills: list[str] | None = None
    difficulty: float | None = None
    estimated_minutes: int | None = None


class EnrollmentChanged(Facts):
    status: str
    progress_percent: float | None = None


class ProgressUpdated(EnrollmentChanged):
    item_id: str
    item_status: str
    score: float | None = None
    time_spent_s: float | None = None


PAYLOADS: dict[str, type[Facts]] = {
    "user.registered": UserRegistered,
    "user.updated": UserUpdated,
    "course.created": CourseCreated,
    "course.updated": Changed,
    "course.deleted": NoFacts,
    "course.draft": NoFacts,
    "course.published": NoFacts,
    "course.archived": NoFacts,
    "module.created": ModuleCreated,
    "module.updated": Changed,
    "module.deleted": NoFacts,
    "content_item.created": ContentItemCreated,
    "content_item.updated": Changed,
    "content_item.deleted": NoFacts,
    "enrollment.created": EnrollmentChanged,
    "enrollment.reactivated": EnrollmentChanged,
    "enrollment.cancelled": EnrollmentChanged,
    "enrollment.completed": EnrollmentChanged,
    "enrollment.recomputed": EnrollmentChanged,
    "progress.updated": ProgressUpdated,
}


class UnknownDomainEvent(LearnLakeError):
    """A domain event of a type with no schema, or facts that do not match its type's schema."""


def payload_of(event_type: str, facts: dict) -> dict:
    """The facts as stored: checked against the type's schema, absent values left out."""
    schema = PAYLOADS.get(event_type)
    if schema is None:
        raise UnknownDomainEvent(f"no domain event type {event_type!r}; known: {sorted(PAYLOADS)}")
    try:
        checked = schema.model_validate(facts)
    except ValidationError as exc:
        raise UnknownDomainEvent(f"{event_type}: facts do not match its schema: "
                                 f"{exc.errors(include_url=False, include_input=False)}") from None
    return checked.model_dump(mode="json", exclude_none=True)
