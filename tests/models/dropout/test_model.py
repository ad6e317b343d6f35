"""The dropout model on columns a platform never fills, and the within-course AUC its evaluation reports."""

import numpy as np
from sklearn.metrics import roc_auc_score

from models.dropout.kddcup import within_course_auc
from models.dropout.model import DropoutModel


def _rows(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    activity = rng.poisson(5, n).astype(float)
    idle_days = rng.integers(0, 20, n).astype(float)
    idle_days[rng.random(n) < 0.1] = np.nan  # never active: no last visit to count from
    minutes = np.full(n, np.nan)  # the platform records no study time
    dropped = (rng.random(n) < 1 / (1 + np.exp(activity - 5 - 0.2 * np.nan_to_num(idle_days, nan=20)))).astype(int)
    return np.column_stack([activity, idle_days, minutes]), dropped


def test_a_column_no_row_fills_is_trained_and_served_as_empty():
    features, labels = _rows()
    model = DropoutModel(["activity", "idle_days", "study_minutes"]).fit(features, labels)
    risk = model.predict_proba(features)
    assert np.isfinite(risk).all() and 0 <= risk.min() <= risk.max() <= 1
    held_out, held_out_labels = _rows(seed=1)
    assert roc_auc_score(held_out_labels, model.predict_proba(held_out)) > 0.7
    # The typical learner is read from the values there are; the empty column is never a reason.
    assert np.isfinite(model.typical).all()
    reasons = model.reasons(held_out[:50])
    assert any(reasons) and all(r.feature != "study_minutes" for row in reasons for r in row)


def test_the_within_course_auc_ignores_how_the_courses_differ_in_dropout_rate():
    courses = np.array(["a"] * 4 + ["b"] * 4 + ["c"] * 2)
    labels = np.array([1, 1, 0, 0, 1, 1, 1, 0, 1, 1])
    # Perfect inside a and b, but b's learners all score below a's: pooled, the ranking is worse.
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.35, 0.3, 0.2, 0.5, 0.5])
    assert within_course_auc(labels, scores, courses) == 1.0  # c, with one outcome, is left out
    assert roc_auc_score(labels, scores) < 1.0
    assert within_course_auc(labels[courses == "c"], scores[courses == "c"], courses[courses == "c"]) is None


def test_learners_of_one_calibrated_risk_are_ranked_by_the_boosters_scores():
    features, labels = _rows(n=2000)
    model = DropoutModel(["activity", "idle_days", "study_minutes"]).fit(features, labels)
    held_out, _ = _rows(n=500, seed=2)
    risk = model.predict_proba(held_out)
    order = model.riskiest_first(held_out, risk)
    assert sorted(order.tolist()) == list(range(len(held_out)))
    assert (np.diff(risk[order]) <= 0).all(), "riskiest first"
    # Isotonic calibration ties learners; the order within a tie is the boosters' (here, inactivity and idleness).
    top = risk[order] == risk[order][0]
    assert top.sum() > 1, "the top calibrated step holds several learners"
    tied = model._readable(held_out[order][top])
    raw = np.mean([c.estimator.decision_function(tied) for c in model.classifier.calibrated_classifiers_], axis=0)
    assert (np.diff(raw) <= 0).all() and raw[0] > raw[-1]
