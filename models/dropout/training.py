"""Train the platform's dropout model on the lake, through the feature store, and register it.

Labels come from what the platform itself observes: every Monday of an enrolment, a learner
who has not completed the course is *dropping out* when they do not study in that course in
the next ``horizon_days``. Features are the ``dropout_risk_v1`` service as of that Monday
(point in time). The split is by time: the model trains on the weeks before a cut-off and is
judged on the weeks after it, beside the at-risk rule of ``fct_at_risk_by_rule`` (enrolled,
not passed, no visit in 7 days) computed as of the same Mondays. Each run also scores the
learners the rule mart flags today and logs how many of them the model ranks among its riskiest.
"""

import logging
from datetime import timedelta

import mlflow
import numpy as np
import pandas as pd
import polars as pl

from feature_store.labels import at_risk_rule_now, dropout_weeks
from feature_store.offline import feature_columns, training_frame
from feature_store.repository import dropout_risk_v1
from lake.warehouse import published_warehouse
from learnlake.errors import DataQualityError
from learnlake.settings import Settings, get_settings
from models import names
from models.dropout.model import DropoutModel, scores
from models.dropout.reasons import reason_text
from models.registration import log_and_register
from models.tracking import TrainingResult, configure_mlflow

log = logging.getLogger(__name__)
MODEL_NAME = names.DROPOUT
HELD_OUT_METRIC = "test_auc"
SERVICE = dropout_risk_v1
# The served model's risk scores on its training weeks, binned: live scores are compared with it
# (population stability index, the ML engineers' dashboard).
SCORE_REFERENCE = "score_reference.json"
SCORE_BINS = 10


def score_histogram(scores: np.ndarray, bins: int = SCORE_BINS) -> dict:
    """Equal-width bins over [0, 1]: the edges, and the share of scores in each."""
    counts, edges = np.histogram(np.clip(scores, 0, 1), bins=bins, range=(0.0, 1.0))
    return {"edges": edges.round(6).tolist(), "shares": (counts / max(counts.sum(), 1)).tolist(),
            "rows": int(counts.sum())}


def rule_flag(frame: pl.DataFrame) -> np.ndarray:
    """The at-risk rule as of each row: no visit in the 7 days before it (or none at all)."""
    age = frame["learner_course_activity__age_days"].to_numpy()
    return np.where(np.isnan(age.astype(float)), 1.0, (age >= 7).astype(float))


class DropoutPyfunc(mlflow.pyfunc.PythonModel):
    """The served form: feature columns of ``dropout_risk_v1`` in, risk and three reasons out."""

    def __init__(self, model: DropoutModel):
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        features = model_input[self.model.feature_names].to_numpy(dtype=float)
        reasons = self.model.reasons(features)
        return pd.DataFrame({
            "risk": self.model.predict_proba(features),
            "reasons": ["; ".join(reason_text(r) for r in row)
                        for row in reasons],
        })


def train(settings: Settings | None = None, *, horizon_days: int = 14, seed: int = 0) -> TrainingResult:
    settings = settings or get_settings()
    client = configure_mlflow(settings)
    with published_warehouse(settings) as con:
        frame = training_frame(con, dropout_weeks(con, horizon_days), SERVICE)
        # The at-risk rule mart as it stands, with each learner's features as of the mart's own moment.
        today = at_risk_rule_now(con)
        today = training_frame(con, today, SERVICE) if today.height else today
    columns = feature_columns(SERVICE)
    stamps = frame["event_timestamp"]
    cutoff = stamps.quantile(0.7, interpolation="nearest")
    # Training labels look ``horizon_days`` ahead: keep them clear of the test weeks.
    train_part = frame.filter(pl.col("event_timestamp") <= cutoff - timedelta(days=horizon_days))
    test_part = frame.filter(pl.col("event_timestamp") > cutoff)
    for name, part in (("training", train_part), ("test", test_part)):
        if part.height < 20 or part["dropped"].n_unique() < 2:
            raise DataQualityError(f"too few {name} weeks to train the dropout model ({part.height} rows, "
                                   f"outcomes {part['dropped'].unique().to_list()}); simulate or load more data")
    x_train = train_part.select(columns).cast(pl.Float64).to_numpy()
    x_test = test_part.select(columns).cast(pl.Float64).to_numpy()
    y_train, y_test = train_part["dropped"].to_numpy(), test_part["dropped"].to_numpy()
    candidate = DropoutModel(columns, seed=seed).fit(x_train, y_train)
    model_scores = scores(y_test, candidate.predict_proba(x_test))
    rule = rule_flag(test_part)
    rule_scores = scores(y_test, rule)
    flagged = int(rule.sum())
    top = np.argsort(-candidate.predict_proba(x_test))[:flagged]
    metrics = {
        **{f"test_{k}": v for k, v in model_scores.items()},
        **{f"rule_test_{k}": v for k, v in rule_scores.items()},
        # Precision when the model flags as many learners as the rule does.
        "test_precision_at_rule_count": float(y_test[top].mean()) if flagged else 0.0,
        "rule_test_precision": float(y_test[rule == 1].mean()) if flagged else 0.0,
        "train_rows": float(len(y_train)), "test_rows": float(len(y_test)),
        "test_dropout_rate": float(y_test.mean()),
    }
    # The served model learns from every labelled week; it is judged on the held-out figures above.
    x_all = frame.select(columns).cast(pl.Float64).to_numpy()
    served = DropoutModel(columns, seed=seed).fit(x_all, frame["dropped"].to_numpy())
    metrics |= _agreement_with_rule_mart(served, today, columns)
    return log_and_register(
        client, settings, model_name=MODEL_NAME, run_name="dropout", held_out_metric=HELD_OUT_METRIC,
        params={"model": "calibrated histogram gradient boosting", "feature_service": SERVICE.name,
                "horizon_days": horizon_days, "cutoff": str(cutoff), "seed": seed},
        metrics=metrics, model_card=_model_card(metrics, horizon_days), python_model=DropoutPyfunc(served),
        documents={SCORE_REFERENCE: score_histogram(served.predict_proba(x_all))},
        example=frame.select(columns).cast(pl.Float64).head(5).to_pandas(), packages=("scikit-learn",))


def _agreement_with_rule_mart(model: DropoutModel, today: pl.DataFrame, columns: list[str]) -> dict[str, float]:
    """How many learners ``fct_at_risk_by_rule`` flags now, and the share of them the model also puts
    among its riskiest (as many as the rule flags). Low overlap is not an error: it is where the
    model and the rule disagree, which is what an instructor should look at."""
    flagged = int(today["is_at_risk"].sum()) if today.height else 0
    if not flagged:
        return {"rule_mart_flagged": 0.0}
    risk = model.predict_proba(today.select(columns).cast(pl.Float64).to_numpy())
    top = set(np.argsort(-risk)[:flagged].tolist())
    rule = set(np.flatnonzero(today["is_at_risk"].to_numpy()).tolist())
    return {"rule_mart_flagged": float(flagged), "rule_mart_overlap_at_flag_count": len(top & rule) / flagged,
            "rule_mart_flagged_mean_risk": float(risk[sorted(rule)].mean())}


def _model_card(metrics: dict[str, float], horizon_days: int) -> str:
    return f"""# Dropout risk

**Predicts**: the probability that a learner who has not completed a course does not study
in it during the next {horizon_days} days, scored every Monday.

**Reads**: feature service `{SERVICE.name}` (activity in the course over 7 and 28 days and since
enrolment, graded answers in the course so far, activity across courses, how busy the course is,
and how long since each was last seen).

**Model**: histogram gradient boosting with isotonic calibration; reasons per learner by
occlusion (each feature set to a typical learner's value; the largest rises in risk).

**Held out**: the weeks after a time cut-off, with a gap of {horizon_days} days.
Test AUC {metrics['test_auc']:.3f}, Brier {metrics['test_brier']:.3f}; the at-risk rule (no visit in 7 days)
AUC {metrics['rule_test_auc']:.3f}. At the rule's flag count, precision {metrics['test_precision_at_rule_count']:.3f}
against the rule's {metrics['rule_test_precision']:.3f}. Of the {metrics['rule_mart_flagged']:.0f} learners
`fct_at_risk_by_rule` flags today, the model ranks {metrics.get('rule_mart_overlap_at_flag_count', 0):.0%}
among its riskiest as many.

**Limits**: the label is observed inactivity, not a declared withdrawal; scores are calibrated on
past cohorts of this platform and drift when the courses change.
"""
