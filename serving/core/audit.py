"""The access audit: every read of a learner's data by someone other than that learner is recorded."""

from collections.abc import Iterable

from sqlalchemy import insert, update

from serving.core.db import Database
from serving.core.tables import AccessRecord, User

ERASED = "erased"  # what a learner's id becomes in the log once they are erased


def record_access(database: Database, reader: User, action: str, resource: str, learner_ids: Iterable[str]) -> None:
    """Note that ``reader`` read these learners' data (nothing when the only learner is the reader)."""
    rows = [{"reader_id": reader.id, "reader_role": reader.role, "action": action, "resource": resource[:300],
             "learner_id": learner_id} for learner_id in dict.fromkeys(learner_ids) if learner_id != reader.id]
    if rows:
        with database.write() as session:
            session.execute(insert(AccessRecord), rows)


def forget_in_log(session, user_id: str) -> int:
    """An erased person's id out of the log (as reader or as learner), in the caller's transaction."""
    read = session.execute(update(AccessRecord).where(AccessRecord.learner_id == user_id)
                           .values(learner_id=ERASED)).rowcount
    return read + session.execute(update(AccessRecord).where(AccessRecord.reader_id == user_id)
                                  .values(reader_id=ERASED)).rowcount
