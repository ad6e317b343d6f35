"""A dropout reason as an instructor reads it: "days since last active in this course: 40 (typical 6)".

One wording for the at-risk list, its notifications and the served MLflow model. A missing value of a
view's age column means the view's last values are older than its TTL, so it reads "over 28" (days), not
"none"; a missing count reads "none"; shares read as percentages; other values are whole numbers from 10
up, and keep one decimal below.
"""

import math

from feature_store.repository import dropout_risk_v1
from models.dropout.model import Reason

STALE_AFTER_DAYS = {view.age_column: view.ttl.days for view, _ in dropout_risk_v1.views}


def shown(feature: str, value: float) -> str:
    if math.isnan(value):
        days = STALE_AFTER_DAYS.get(feature)
        return f"over {days}" if days else "none"
    if "accuracy" in feature or "share" in feature:
        return f"{value:.0%}"
    return f"{value:.0f}" if abs(value) >= 10 or value.is_integer() else f"{value:.1f}"


def reason_text(reason: Reason) -> str:
    return f"{reason.label}: {shown(reason.feature, reason.value)} (typical {shown(reason.feature, reason.typical)})"
