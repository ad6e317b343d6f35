"""Who may do what: the one place that defines the role x permission matrix.

Each route of the core API requires exactly one permission (``serving.api.auth.require``).
A role holds a permission on ``ANY`` resource, on its ``OWN`` resources only (courses it
teaches, its own account and enrollments), or not at all. Analysts hold aggregates only:
no permission of theirs returns a name, an e-mail or one learner's records; nor does any of ML
engineers, who watch the models through aggregates and score distributions.
"""

from enum import StrEnum

from serving.core.enums import Role


class Permission(StrEnum):
    READ_SELF = "self:read"  # my account, my enrollments, my progress
    UPDATE_SELF = "self:update"
    STUDY = "self:study"  # enrol, unenrol, report progress
    LIST_USERS = "users:list"
    MANAGE_USERS = "users:manage"  # change a user's role, name or whether they may sign in
    BROWSE_COURSES = "courses:browse"  # published courses, and drafts one may edit
    CREATE_COURSE = "courses:create"
    EDIT_COURSE = "courses:edit"  # course, modules, content items, publish, archive, delete
    VIEW_COURSE_LEARNERS = "courses:learners"  # who is enrolled, with names (PII)
    VIEW_COURSE_STATS = "courses:stats"  # aggregates only
    VIEW_LEARNER_MODELS = "learners:models"  # a learner's mastery and recommendations: their own, or a taught course's
    ASK_TUTOR = "tutor:ask"  # in courses one studies or teaches
    VIEW_PLATFORM_STATS = "platform:stats"  # platform-wide aggregates, no one's identity
    MONITOR_MODELS = "models:monitor"  # the live models' score distributions, no one's identity
    MONITOR_INGESTION = "ingestion:monitor"  # landing backlog and the committer's health
    MANAGE_SOURCES = "sources:manage"  # make, list and revoke the keys of event sources


class Scope(StrEnum):
    ANY = "any"
    OWN = "own"


ALL_ROLES = tuple(Role)

MATRIX: dict[Permission, dict[Role, Scope]] = {
    Permission.READ_SELF: {role: Scope.OWN for role in ALL_ROLES},
    Permission.UPDATE_SELF: {role: Scope.OWN for role in ALL_ROLES},
    Permission.STUDY: {Role.LEARNER: Scope.OWN, Role.INSTRUCTOR: Scope.OWN, Role.ADMIN: Scope.OWN},
    Permission.LIST_USERS: {Role.ADMIN: Scope.ANY},
    Permission.MANAGE_USERS: {Role.ADMIN: Scope.ANY},
    Permission.BROWSE_COURSES: {role: Scope.ANY for role in ALL_ROLES},
    Permission.CREATE_COURSE: {Role.INSTRUCTOR: Scope.OWN, Role.ADMIN: Scope.ANY},
    Permission.EDIT_COURSE: {Role.INSTRUCTOR: Scope.OWN, Role.ADMIN: Scope.ANY},
    Permission.VIEW_COURSE_LEARNERS: {Role.INSTRUCTOR: Scope.OWN, Role.ADMIN: Scope.ANY},
    Permission.VIEW_COURSE_STATS: {Role.ANALYST: Scope.ANY, Role.INSTRUCTOR: Scope.OWN, Role.ADMIN: Scope.ANY},
    Permission.VIEW_LEARNER_MODELS: {Role.LEARNER: Scope.OWN, Role.INSTRUCTOR: Scope.OWN, Role.ADMIN: Scope.ANY},
    Permission.ASK_TUTOR: {Role.LEARNER: Scope.OWN, Role.INSTRUCTOR: Scope.OWN, Role.ADMIN: Scope.ANY},
    Permission.VIEW_PLATFORM_STATS: {Role.ANALYST: Scope.ANY, Role.ML_ENGINEER: Scope.ANY, Role.ADMIN: Scope.ANY},
    Permission.MONITOR_MODELS: {Role.ML_ENGINEER: Scope.ANY, Role.ADMIN: Scope.ANY},
    Permission.MONITOR_INGESTION: {Role.ADMIN: Scope.ANY},
    Permission.MANAGE_SOURCES: {Role.ADMIN: Scope.ANY},
}


def scope_of(role: str, permission: Permission) -> Scope | None:
    """What ``role`` may do under ``permission``: on any resource, its own, or nothing (None)."""
    try:
        return MATRIX[permission].get(Role(role))
    except ValueError:  # a role this version does not know holds nothing
        return None


def allows(role: str, user_id: str, permission: Permission, owner_id: str | None) -> bool:
    """Whether a user may act under ``permission`` on a resource owned by ``owner_id``."""
    scope = scope_of(role, permission)
    if scope is Scope.ANY:
        return True
    return scope is Scope.OWN and (owner_id is None or owner_id == user_id)
