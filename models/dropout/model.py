"""Dropout risk: calibrated gradient boosting over activity features, with readable reasons.

``DropoutModel`` is a scikit-learn histogram gradient-boosting classifier whose scores are
calibrated (isotonic, cross-validated) so that 0.8 means "8 in 10 such learners drop out".
``reasons`` explains one prediction by occlusion: each feature in turn is set to the value a
typical learner has (the training median) and the change in risk is that feature's share.
The features that raise the risk most are the learner's reasons.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from models.dropout.features import feature_label

# Shallow, strongly regularised trees: on KDD Cup 2015, trained on some courses and tested on
# others, deeper trees learn the training courses' habits and score lower on new courses.
# Leaves hold 1 % of the rows (20 to 200), so that small platforms still get splits.
BOOSTING_PARAMS = {"learning_rate": 0.03, "max_iter": 300, "max_depth": 3, "l2_regularization": 5.0,
                   "early_stopping": True, "validation_fraction": 0.1, "n_iter_no_change": 30}
# The simple baseline: recency and total activity only, in a logistic regression.
BASELINE_FEATURES = ("events_total", "days_since_last_visit", "active_days")


def scores(y_true: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """The held-out figures every dropout evaluation reports."""
    return {"auc": float(roc_auc_score(y_true, probability)),
            "pr_auc": float(average_precision_score(y_true, probability)),
            "brier": float(brier_score_loss(y_true, probability))}


@dataclass
class Reason:
    feature: str
    label: str
    value: float
    typical: float
    risk_change: float


class DropoutModel:
    """Calibrated gradient boosting on a named feature matrix."""

    # Columns no training row filled; a class default, so that models pickled before it still load.
    never_filled: np.ndarray | None = None

    def __init__(self, feature_names: list[str], *, seed: int = 0):
        self.feature_names = list(feature_names)
        self.seed = seed
        self.classifier: CalibratedClassifierCV | None = None
        self.typical: np.ndarray | None = None

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "DropoutModel":
        leaf = int(np.clip(len(labels) // 100, 20, 200))
        booster = HistGradientBoostingClassifier(random_state=self.seed, min_samples_leaf=leaf, **BOOSTING_PARAMS)
        self.never_filled = np.isnan(features).all(axis=0)
        features = self._readable(features)
        self.classifier = CalibratedClassifierCV(booster, method="isotonic", cv=3).fit(features, labels)
        # A typical learner: the median of the values there are (a missing value is not typical).
        self.typical = np.nanmedian(features, axis=0)
        return self

    def _readable(self, features: np.ndarray) -> np.ndarray:
        """Columns no training row filled (on a platform that records no study time, say) read as 0:
        the booster cannot bin a column without a value, and the column says nothing anyway."""
        if self.never_filled is None or not self.never_filled.any():
            return features
        readable = np.array(features, dtype=np.float64)
        readable[:, self.never_filled] = 0.0
        return readable

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        return self.classifier.predict_proba(self._readable(features))[:, 1]

    def riskiest_first(self, features: np.ndarray, risk: np.ndarray) -> np.ndarray:
        """Row indices by calibrated ``risk`` (``predict_proba(features)``), highest first. Isotonic calibration is
        a step function: learners long gone all calibrate to the top step (in the demo, 24 of a course's learners
        at exactly 1.0), so ties among equal risks go by the boosters' own scores, which still tell them apart."""
        readable = self._readable(features)
        raw = np.mean([c.estimator.decision_function(readable) for c in self.classifier.calibrated_classifiers_],
                      axis=0)
        return np.lexsort((-raw, -risk))

    def reasons(self, features: np.ndarray, *, top: int = 3) -> list[list[Reason]]:
        """For each row, the ``top`` features that raise its risk most above a typical learner's."""
        base = self.predict_proba(features)
        changes = np.zeros_like(features, dtype=np.float64)
        for j in range(features.shape[1]):
            typical = features.copy()
            typical[:, j] = self.typical[j]
            changes[:, j] = base - self.predict_proba(typical)
        explained = []
        for i in range(features.shape[0]):
            order = np.argsort(-changes[i])[:top]
            explained.append([Reason(self.feature_names[j], feature_label(self.feature_names[j]),
                                     float(features[i, j]), float(self.typical[j]), float(changes[i, j]))
                              for j in order if changes[i, j] > 0])
        return explained


class BaselineModel:
    """Logistic regression on two or three telling columns: what a careful analyst would try first."""

    def __init__(self, feature_names: list[str], columns: tuple[str, ...] | list[str] = BASELINE_FEATURES):
        self.columns = [feature_names.index(name) for name in columns]
        self.classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "BaselineModel":
        self.classifier.fit(features[:, self.columns], labels)
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        return self.classifier.predict_proba(features[:, self.columns])[:, 1]
