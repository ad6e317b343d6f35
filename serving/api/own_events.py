"""Events the API records itself (a question to the tutor, an answer to a practice question): checked as
native events and landed like any client's, so the committer and every model downstream read them alike."""

import orjson

from lake.events import check_batch
from lake.landing import LandingLog


def land_own_event(landing: LandingLog, event: dict, *, source: str) -> None:
    batch = orjson.dumps([event])
    checked = check_batch(batch, 1)  # the committer reads it as a native event: it must be one
    if checked.ids is None:
        raise RuntimeError(f"the {source} built an invalid event: {checked.detail}")
    landing.append(checked.ids, batch, source=source)
