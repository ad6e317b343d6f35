"""Request and response bodies of the core course/user API."""

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from serving.core.enums import ContentType, CourseStatus, EnrollmentStatus, ProgressStatus, Role
from serving.core.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH
from serving.core.passwords import MIN_LENGTH as PASSWORD_MIN_LENGTH
from serving.core.passwords import password_problem

T = TypeVar("T")

Name = Annotated[str, Field(min_length=1, max_length=200)]
Title = Annotated[str, Field(min_length=1, max_length=300)]
Password = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


def _email(value: str) -> str:
    # Syntax only (no DNS at run time); `.test` addresses are allowed, for test and demo accounts.
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


Email = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"}), AfterValidator(_email)]


class Body(BaseModel):
    """Bodies refuse keys they do not know (a typo must not pass silently) and NUL characters
    anywhere, which PostgreSQL cannot store in text."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        if _holds_nul(value):
            raise ValueError("NUL characters (\\u0000) are not allowed")
        return value


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# --- auth and users -------------------------------------------------------------------


class RegisterBody(Body):
    email: Email
    name: Name
    password: Password

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("password")
    @classmethod
    def _hard_to_guess(cls, value: str, info: ValidationInfo) -> str:
        if problem := password_problem(value, email=info.data.get("email"), name=info.data.get("name")):
            raise ValueError(problem)
        return value


class RegisterAck(BaseModel):
    """The same answer whether or not the e-mail was registered before: it tells no one who has an account."""

    detail: str


class LoginBody(Body):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=256)]


class RefreshBody(Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=256)]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UpdateMeBody(Body):
    """My name, or my e-mail and password; changing either of those needs the current password."""

    name: Name | None = None
    email: Email | None = None
    password: Password | None = None
    current_password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)] | None = None

    @model_validator(mode="after")
    def _current_password_for_credentials(self) -> "UpdateMeBody":
        if (self.password is not None or self.email is not None) and self.current_password is None:
            raise ValueError("current_password is required to change the password or the e-mail")
        return self


class UpdateUserBody(Body):
    name: Name | None = None
    role: Role | None = None
    is_active: bool | None = None


# --- courses, modules, content ----------------------------------------------------------


class CourseCreate(Body):
    title: Title
    description: Annotated[str, Field(max_length=20_000)] = ""
    metadata: dict = Field(default_factory=dict)
    instructor_id: Id | None = Field(None, description="Admins only: whom the course belongs to")


class CourseUpdate(Body):
    title: Title | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    metadata: dict | None = None


class CourseOut(BaseModel):
    id: str
    title: str
    description: str
    instructor_id: str
    status: CourseStatus
    metadata: dict
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ModuleCreate(Body):
    title: Title
    position: Annotated[int, Field(ge=1, le=10_000)] | None = Field(None, description="Default: after the last")


class ModuleUpdate(Body):
    title: Title | None = None
    position: Annotated[int, Field(ge=1, le=10_000)] | None = None


class ContentItemCreate(Body):
    content_type: ContentType
    title: Title
    body: Annotated[str, Field(max_length=200_000)] | None = None
    url: HttpUrl | None = None
    skills: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)
    difficulty: Annotated[float, Field(ge=-10, le=10)] | None = None
    estimated_minutes: Annotated[int, Field(ge=0, le=10_000)] | None = None
    prerequisites: list[Id] = Field(default_factory=list, max_length=100)
    position: Annotated[int, Field(ge=1, le=10_000)] | None = None


class ContentItemUpdate(Body):
    title: Title | None = None
    body: Annotated[str, Field(max_length=200_000)] | None = None
    url: HttpUrl | None = None
    skills: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(None, max_length=50)
    difficulty: Annotated[float, Field(ge=-10, le=10)] | None = None
    estimated_minutes: Annotated[int, Field(ge=0, le=10_000)] | None = None
    prerequisites: list[Id] | None = Field(None, max_length=100)
    position: Annotated[int, Field(ge=1, le=10_000)] | None = None


class ContentItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    module_id: str
    course_id: str
    position: int
    content_type: ContentType
    title: str
    body: str | None
    url: str | None
    skills: list[str]
    difficulty: float | None
    estimated_minutes: int | None
    prerequisites: list[str]
    source: dict | None = Field(None, description="Where imported content came from (book, section, file)")
    updated_at: datetime


class ModuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    course_id: str
    position: int
    title: str
    items: list[ContentItemOut]
    updated_at: datetime


# --- enrollments and progress -----------------------------------------------------------


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    course_id: str
    status: EnrollmentStatus
    progress_percent: float
    enrolled_at: datetime
    completed_at: datetime | None
    unenrolled_at: datetime | None


class CourseLearnerOut(EnrollmentOut):
    """An enrollment as the course's instructor sees it: with who the learner is."""

    name: str
    email: str


class ProgressBody(Body):
    item_id: Id
    status: ProgressStatus
    score: Annotated[float, Field(ge=0, le=1)] | None = None
    time_spent_s: Annotated[float, Field(ge=0, le=86_400)] = 0.0


class ItemProgressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: str
    status: ProgressStatus
    score: float | None
    time_spent_s: float
    completed_at: datetime | None
    updated_at: datetime


class ProgressOut(BaseModel):
    enrollment: EnrollmentOut
    items: list[ItemProgressOut]


class CourseStats(BaseModel):
    """Aggregates an analyst may read: counts and averages, no one's identity."""

    course_id: str
    enrollments: int
    active: int
    completed: int
    unenrolled: int
    mean_progress_percent: float | None
    items: int
