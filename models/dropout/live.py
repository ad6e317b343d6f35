"""The dropout model's features for enrolments now, from the online store: what serving scores and what
the drift check compares with the training scores (one definition for both)."""

import math
from datetime import datetime

import numpy as np

from feature_store.online import OnlineStore, online_features
from feature_store.repository import dropout_risk_v1


def live_features(store: OnlineStore, feature_names: list[str], enrolments: list[tuple[str, str]],
                  as_of: datetime) -> tuple[list[dict], np.ndarray]:
    """Each (learner, course)'s feature row as read, and the matrix the model takes (missing: NaN)."""
    rows = [online_features(store, dropout_risk_v1, {"learner_id": learner, "course_id": course}, now=as_of)
            for learner, course in enrolments]
    return rows, np.array([[_number(row.get(name)) for name in feature_names] for row in rows])


def _number(value) -> float:
    return float(value) if value is not None and not (isinstance(value, float) and math.isnan(value)) else math.nan
