"""The pseudonymous learner id of an account: the one place serving turns a user id into it.

The lake, the warehouse, the feature stores and the models know learners only by this keyed hash
(``lake.privacy.learner_id_for``); the outbox stamps domain events with it, and read-only routes
use it to find a learner's rows. Kept per process: a keyed hash on every request cost 4 % of a
recommendation's time.
"""

from lake.privacy import learner_id_for
from learnlake.caches import LRU
from learnlake.settings import Settings

PSEUDONYMS_KEPT = 100_000  # user ids; about 150 bytes each


class Pseudonyms:
    def __init__(self, key: str) -> None:
        self.key = key
        self._kept = LRU(PSEUDONYMS_KEPT)

    @classmethod
    def for_settings(cls, settings: Settings) -> "Pseudonyms":
        return cls(settings.pseudonym_key.get_secret_value())

    def learner_id(self, user_id: str) -> str:
        pseudonym = self._kept.get(user_id)
        if pseudonym is None:
            pseudonym = learner_id_for(user_id, self.key)
            self._kept.put(user_id, pseudonym)
        return pseudonym
