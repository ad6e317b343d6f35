"""``learnlake eval dropout``: KDD Cup 2015 dropout, trained on some course files, tested on others.

Each enrolment's 30 days of daily counts become activity features (``features.py``), over a
window aligned on each course's last day and as long as the training courses' longest; the
calibrated boosting model and the recency/activity baseline are fitted on the training
directory and scored on the test directory, or, without one, on a seeded 80/20 split by
enrolment. A test directory may hold course files alone: their labels are then read from the
training directory's ``truth_train.csv`` (the KDD Cup's file labels every training enrolment).
Beside the pooled figures, ``auc_within_course`` averages the AUC inside each test course: how
well the model tells one course's learners apart, whatever the courses' dropout rates.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from lake.sources.datasets.common import DatasetError
from lake.sources.datasets.kddcup2015 import EVENT_TYPES, course_files, read_course, read_truth
from models.dropout.features import activity_cube, activity_features
from models.dropout.model import BaselineModel, DropoutModel, scores
from models.headline import HEADLINE, comparison

log = logging.getLogger(__name__)
TYPES = [f"event_{t}" for t in EVENT_TYPES]


@dataclass
class Labelled:
    """Every labelled enrolment of a directory: its features, label and course, row by row."""

    features: np.ndarray
    labels: np.ndarray
    courses: np.ndarray
    names: list[str]
    days: int  # the window's length

    def rows(self, which: np.ndarray) -> "Labelled":
        return Labelled(self.features[which], self.labels[which], self.courses[which], self.names, self.days)


def labelled_features(data_dir: Path, *, more_truth: pl.DataFrame | None = None, days: int | None = None
                      ) -> Labelled:
    """Features and dropout labels of every labelled enrolment under ``data_dir``; an enrolment the
    directory's own truth files do not label takes its label from ``more_truth``. ``days`` sets the
    window (the test directory takes the training one's)."""
    daily = pl.concat([read_course(path) for path in course_files(data_dir)])
    truth = read_truth(data_dir)
    if more_truth is not None:
        truth = more_truth if truth is None else pl.concat([truth, more_truth]).unique("enrollment_id", keep="first")
    if truth is None:
        raise DatasetError(f"no truth_train.csv under {data_dir}: the labels are needed to train and to test")
    # Windows are aligned on their last day, what the label follows: a course's last logged day is
    # day ``days - 1``, and the window is the longest course's (or the one given). A shorter course
    # starts later in it; a longer one is cut to the window's last days.
    before_end = (pl.col("time").max().over("course_id") - pl.col("time")).dt.total_days().cast(pl.Int64)
    days = days or int(daily.select(before_end.max()).item()) + 1
    daily = daily.with_columns((days - 1 - before_end).alias("day"))
    daily = daily.join(truth, on="enrollment_id", how="inner")
    if daily.is_empty():
        raise DatasetError(f"no enrolment under {data_dir} has a label in truth_train.csv")
    cube = activity_cube(daily, key="enrollment_id", course="course_id", day="day", types=TYPES, days=days)
    features, names = activity_features(cube)
    labels = truth.filter(pl.col("enrollment_id").is_in(cube.keys)).sort("enrollment_id")
    labels = dict(zip(labels["enrollment_id"], labels["label"], strict=True))
    return Labelled(features, np.array([labels[k] for k in cube.keys], dtype=np.int8), np.asarray(cube.courses),
                    names, days)


def within_course_auc(labels: np.ndarray, probability: np.ndarray, courses: np.ndarray) -> float | None:
    """The AUC within each course (with both outcomes), averaged: how well learners of one course are
    told apart, whatever the courses' dropout rates. None when no course has both outcomes."""
    aucs = [roc_auc_score(labels[courses == c], probability[courses == c]) for c in np.unique(courses)
            if len(np.unique(labels[courses == c])) == 2]
    return float(np.mean(aucs)) if aucs else None


def evaluate(train_dir: Path, test_dir: Path | None = None, *, seed: int = 0) -> dict:
    """Train on ``train_dir``; the test figures of the model and of the baseline."""
    train = labelled_features(train_dir)
    if test_dir is None:
        order = np.random.default_rng(seed).permutation(len(train.labels))
        cut = int(0.8 * len(order))
        train, test = train.rows(order[:cut]), train.rows(order[cut:])
    else:
        # KDD Cup's truth_train.csv labels more enrolments than its course files hold: a test
        # directory without its own truth file is labelled from the training directory's.
        test = labelled_features(test_dir, more_truth=read_truth(train_dir), days=train.days)
    log.info("dropout: %d training and %d test enrolments, %d features", len(train.labels), len(test.labels),
             len(train.names))
    model = DropoutModel(train.names, seed=seed).fit(train.features, train.labels)
    baseline = BaselineModel(train.names).fit(train.features, train.labels)
    probability = model.predict_proba(test.features)
    figures, baseline_figures = scores(test.labels, probability), scores(test.labels, baseline.predict_proba(test.features))
    return {
        "dataset": "kddcup2015",
        "train_enrollments": len(train.labels),
        "test_enrollments": len(test.labels),
        "split": "directories" if test_dir is not None else f"80/20 by enrollment, seed {seed}",
        "dropout_rate_test": float(test.labels.mean()),
        **figures,
        "test_courses": len(np.unique(test.courses)),
        "auc_within_course": within_course_auc(test.labels, probability, test.courses),
        "baselines": {"recency_activity_logistic": baseline_figures},
        "features": len(train.names),
        HEADLINE: {"test_auc": comparison("test AUC", "gradient boosting", figures["auc"],
                                          "recency and activity, logistic", baseline_figures["auc"])},
    }
