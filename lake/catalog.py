"""The table catalog: each lake table's name, location, schema and partitioning."""

from dataclasses import dataclass

import pyarrow as pa

from lake import schemas
from learnlake.errors import TableNotFoundError
from learnlake.settings import Settings, get_settings


@dataclass(frozen=True)
class TableSpec:
    """One lake table: ``name`` is ``<layer>.<table>``."""

    name: str
    schema: pa.Schema
    partition_by: tuple[str, ...] = ()
    description: str = ""
    primary_key: tuple[str, ...] = ()  # for merges; empty for append-only tables
    # Privacy: a row whose person column holds a learner's pseudonym is that learner's, and goes with
    # them; a mention column is free text (JSON, a response) where another's pseudonym may appear.
    person_columns: tuple[str, ...] = ()
    mention_columns: tuple[str, ...] = ()


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "bronze.events",
            schemas.EVENTS,
            partition_by=("event_date",),
            description="Every learner action and domain event, as received.",
            person_columns=("learner_id",),
            mention_columns=("object_id", "result_response", "payload"),  # a user entity, a statement's people
        ),
        TableSpec(
            "bronze.dead_letters",
            schemas.DEAD_LETTERS,
            description="Rows that could not be committed to their table, with the reason.",
            mention_columns=("payload", "reason"),
        ),
        TableSpec(
            "ground_truth.enrollments",
            schemas.ENROLLMENT_TRUTH,
            description="Simulator only: when each enrollment really dropped out or completed.",
            person_columns=("learner_id",),
        ),
        TableSpec(
            "labels.dropout",
            schemas.DROPOUT_LABELS,
            description="Real datasets' dropout outcomes per enrollment (KDD Cup 2015...), by source.",
            person_columns=("learner_id",),
        ),
        TableSpec(
            "ground_truth.mastery",
            schemas.MASTERY_TRUTH,
            description="Simulator only: each learner's latent skill mastery at the end of each week.",
            person_columns=("learner_id",),
        ),
        TableSpec(
            "published.tutor_passages",
            schemas.TUTOR_PASSAGES,
            description="The tutor's passages with their vectors: each version a whole snapshot of the index, "
                        "which every API replica loads.",
        ),
    )
}

CORE_SNAPSHOTS = {
    # table -> (schema, key, description, person columns)
    "bronze.core_users": (schemas.CORE_USERS, "learner_id", "Core API users, pseudonymous: role and status",
                          ("learner_id",)),
    "bronze.core_courses": (schemas.CORE_COURSES, "course_id", "Core API courses", ()),
    "bronze.core_modules": (schemas.CORE_MODULES, "module_id", "Core API course modules", ()),
    "bronze.core_content_items": (schemas.CORE_CONTENT_ITEMS, "item_id", "Core API content items", ()),
    "bronze.core_enrollments": (schemas.CORE_ENROLLMENTS, "enrollment_id", "Core API enrollments", ("learner_id",)),
    "bronze.core_item_progress": (schemas.CORE_ITEM_PROGRESS, "progress_id", "Progress per content item",
                                  ("learner_id",)),
    "bronze.core_answer_reviews": (schemas.CORE_ANSWER_REVIEWS, "answer_id",
                                   "Instructors' grades of written answers", ("learner_id",)),
}
TABLES.update({
    name: TableSpec(name, schema, primary_key=(key,), description=f"{description} (snapshot, merged on {key}).",
                    person_columns=person_columns)
    for name, (schema, key, description, person_columns) in CORE_SNAPSHOTS.items()
})


def get_spec(name: str) -> TableSpec:
    """The spec of a catalogued table, or a clear error naming the known ones."""
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(sorted(TABLES))
        msg = f"unknown table {name!r}; known: {known}"
        raise TableNotFoundError(msg) from None


def table_uri(name: str, settings: Settings | None = None) -> str:
    """Where a table lives: ``<lake_uri>/<layer>/<table>``."""
    get_spec(name)
    settings = settings or get_settings()
    layer, table = name.split(".", 1)
    return f"{settings.lake_uri.rstrip('/')}/{layer}/{table}"
