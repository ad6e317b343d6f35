"""The core API's closed vocabularies: roles, statuses, content types, notification kinds."""

from enum import StrEnum


class Role(StrEnum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    ANALYST = "analyst"
    ML_ENGINEER = "ml_engineer"
    ADMIN = "admin"


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ContentType(StrEnum):
    LESSON = "lesson"
    VIDEO = "video"
    QUIZ = "quiz"
    ASSIGNMENT = "assignment"


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    UNENROLLED = "unenrolled"


class ProgressStatus(StrEnum):
    STARTED = "started"
    COMPLETED = "completed"


class NotificationKind(StrEnum):
    AT_RISK = "at_risk"  # to a course's instructors: a learner crossed the at-risk threshold
    INACTIVE = "inactive"  # to a learner: no activity for LEARNLAKE_INACTIVE_DAYS
