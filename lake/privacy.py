"""Pseudonymous learner ids (ARCHITECTURE.md decision 6): the lake never sees who a learner is."""

import hashlib
import hmac


def learner_id_for(user_id: str, key: str) -> str:
    """The keyed hash of a core user id, stable for one key and not reversible without it."""
    digest = hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"lrn_{digest[:32]}"
