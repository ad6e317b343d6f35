"""``learnlake eval atrisk``: OULAD, Fail or Withdrawn predicted from what is known by day 30, 60, 90.

At each cut-off a student is described only by what happened up to that day of the
presentation: when they registered, whether earlier attempts and their study load, and each
assessment due so far (submitted or missed, late or on time, its score, weighted by the
assessment's weight). Students who had already withdrawn by the cut-off are left out: their
outcome is known, not predicted. Demographic columns (gender, age, region, deprivation,
disability) are never read: a risk flag should not rest on who a student is. The module is
read (one column per module): modules differ in how many of their students fail.

When the directory holds OULAD's VLE clickstream (``studentVle.csv``, with ``vle.csv`` naming
each site's activity type), clicks up to the cut-off are read too: totals, active days, the
last two weeks, days since the last click, clicks before the start, clicks per activity type,
and clicks against the presentation's median. The file is scanned lazily (10 million rows in
the full dataset); clicks after the cut-off never reach a feature.

The split is by time: for each module, its latest presentation is the test set and the
earlier ones train; without any module presented twice, a seeded 80/20 split by student.
"""

import logging
from pathlib import Path

import numpy as np
import polars as pl

from lake.sources.datasets.common import DatasetError
from lake.sources.datasets.oulad import FILES, clickstream, clickstream_files, read_file
from models.dropout.model import BaselineModel, DropoutModel, scores
from models.headline import HEADLINE, comparison

log = logging.getLogger(__name__)
CUTOFFS = (30, 60, 90)
AT_RISK_RESULTS = ("Fail", "Withdrawn")
KEY = ["code_module", "code_presentation", "id_student"]
RECENT_DAYS = 14
ACTIVITY_TYPES = ("oucontent", "resource", "subpage", "url", "forumng", "quiz", "homepage")
CLICK_FEATURES = ["log_clicks", "click_days", "log_clicks_last_2_weeks", "days_since_last_click",
                  "log_clicks_before_start", "log_clicks_vs_course",
                  *[f"log_clicks_{activity}" for activity in ACTIVITY_TYPES]]


def input_files(data_dir: Path) -> list[Path]:
    """The files an evaluation reads (the clickstream and its sites when present), for its fingerprint."""
    found = [next(iter(sorted(data_dir.rglob(name))), data_dir / name) for name in FILES]
    return found + clickstream_files(data_dir)


def click_features(data_dir: Path, clicks_file: Path, cutoff: int) -> pl.DataFrame:
    """Per student and presentation, what their VLE clicks up to ``cutoff`` say (``CLICK_FEATURES``)."""
    sites = read_file(data_dir, "vle.csv").select("id_site", "code_module", "code_presentation", "activity_type")
    clicks = (pl.scan_csv(clicks_file, null_values=["", "?"])
              .filter(pl.col("date") <= cutoff)
              .join(sites.lazy(), on=["id_site", "code_module", "code_presentation"], how="left"))
    per_type = [pl.col("sum_click").filter(pl.col("activity_type") == activity).sum().log1p()
                .alias(f"log_clicks_{activity}") for activity in ACTIVITY_TYPES]
    return clicks.group_by(KEY).agg(
        pl.col("sum_click").sum().log1p().alias("log_clicks"),
        pl.col("date").filter(pl.col("date") >= 0).n_unique().alias("click_days"),
        pl.col("sum_click").filter(pl.col("date") > cutoff - RECENT_DAYS).sum().log1p()
        .alias("log_clicks_last_2_weeks"),
        (cutoff - pl.col("date").max()).alias("days_since_last_click"),
        pl.col("sum_click").filter(pl.col("date") < 0).sum().log1p().alias("log_clicks_before_start"),
        *per_type,
    ).collect()


def student_features(data_dir: Path, cutoff: int) -> pl.DataFrame:
    """One row per student and presentation still registered at ``cutoff``, with the label."""
    info = read_file(data_dir, "studentInfo.csv").select(*KEY, "num_of_prev_attempts", "studied_credits",
                                                          "final_result")
    registration = read_file(data_dir, "studentRegistration.csv").select(*KEY, "date_registration",
                                                                         "date_unregistration")
    assessments = read_file(data_dir, "assessments.csv").filter(pl.col("date").is_not_null()
                                                                & (pl.col("date") <= cutoff))
    results = read_file(data_dir, "studentAssessment.csv").filter(pl.col("date_submitted") <= cutoff)
    students = info.join(registration, on=KEY, how="left").filter(
        pl.col("date_unregistration").is_null() | (pl.col("date_unregistration") > cutoff))
    # Every assessment due by the cut-off, for every student of its presentation: submitted or not.
    due = students.select(KEY).join(assessments, on=["code_module", "code_presentation"], how="inner")
    due = due.join(results.select("id_assessment", "id_student", "date_submitted", "score"),
                   on=["id_assessment", "id_student"], how="left")
    per_student = due.group_by(KEY).agg(
        pl.len().alias("assessments_due"),
        pl.col("date_submitted").is_not_null().sum().alias("assessments_submitted"),
        (pl.col("date_submitted") > pl.col("date")).sum().alias("assessments_late"),
        (pl.col("date_submitted") - pl.col("date")).mean().alias("mean_days_late"),
        pl.col("score").mean().alias("mean_score"),
        pl.col("score").min().alias("lowest_score"),
        ((pl.col("score").fill_null(0) * pl.col("weight")).sum() / pl.col("weight").sum().clip(1))
        .alias("weighted_score_so_far"),
        (pl.col("score") < 40).sum().alias("assessments_failed"),
    )
    frame = students.join(per_student, on=KEY, how="left").with_columns(
        (pl.col("assessments_due") - pl.col("assessments_submitted")).alias("assessments_missed"),
        (pl.col("assessments_submitted") / pl.col("assessments_due")).alias("submission_rate"),
        pl.col("final_result").is_in(AT_RISK_RESULTS).cast(pl.Int8).alias("at_risk"),
    )
    frame = frame.with_columns(
        (pl.col("mean_score") - pl.col("mean_score").mean().over("code_module", "code_presentation"))
        .alias("mean_score_vs_course"))
    clicks_file = clickstream(data_dir)
    if clicks_file is None:
        return frame
    # A student without a click by the cut-off has clicked nothing: zeros, and no last click to date.
    counts = [c for c in CLICK_FEATURES if c not in ("days_since_last_click", "log_clicks_vs_course")]
    frame = frame.join(click_features(data_dir, clicks_file, cutoff), on=KEY, how="left").with_columns(
        pl.col(counts).fill_null(0))
    return frame.with_columns(
        (pl.col("log_clicks") - pl.col("log_clicks").median().over("code_module", "code_presentation"))
        .alias("log_clicks_vs_course"))


FEATURES = ["num_of_prev_attempts", "studied_credits", "date_registration", "assessments_due",
            "assessments_submitted", "assessments_missed", "submission_rate", "assessments_late", "mean_days_late",
            "mean_score", "lowest_score", "weighted_score_so_far", "assessments_failed", "mean_score_vs_course"]
BASELINE_FEATURES = ["weighted_score_so_far", "assessments_missed"]


def _split(frame: pl.DataFrame, seed: int) -> tuple[np.ndarray, str]:
    latest = frame.group_by("code_module").agg(pl.col("code_presentation").max().alias("latest"),
                                               pl.col("code_presentation").n_unique().alias("presentations"))
    marked = frame.join(latest, on="code_module").with_columns(
        ((pl.col("code_presentation") == pl.col("latest")) & (pl.col("presentations") > 1)).alias("is_test"))
    is_test = marked["is_test"].to_numpy()
    if is_test.any() and (~is_test).any():
        return is_test, "latest presentation of each module"
    students = frame["id_student"].unique().sort().to_numpy()
    chosen = np.random.default_rng(seed).permutation(students)[: len(students) // 5]
    return frame["id_student"].is_in(chosen.tolist()).to_numpy(), f"80/20 by student, seed {seed}"


def evaluate(data_dir: Path, *, seed: int = 0, cutoffs: tuple[int, ...] = CUTOFFS) -> dict:
    result = {"dataset": "oulad", "cutoffs": {}}
    for cutoff in cutoffs:
        frame = student_features(data_dir, cutoff)
        if frame.is_empty():
            raise DatasetError(f"no student of {data_dir} is still registered on day {cutoff}")
        is_test, split = _split(frame, seed)
        # The module itself, as one column per module trained on: modules differ in how many fail or
        # withdraw, and a later presentation of a module tends to repeat its earlier ones.
        modules = sorted(frame.filter(pl.Series(~is_test))["code_module"].unique().to_list())
        frame = frame.with_columns([(pl.col("code_module") == m).cast(pl.Int8).alias(f"module_{m}") for m in modules])
        features = (FEATURES + (CLICK_FEATURES if "log_clicks" in frame.columns else [])
                    + [f"module_{m}" for m in modules])
        x = frame.select(features).cast(pl.Float64).fill_null(np.nan).to_numpy()
        y = frame["at_risk"].to_numpy()
        if len(set(y[is_test].tolist())) < 2 or len(set(y[~is_test].tolist())) < 2:
            raise DatasetError(f"day {cutoff}: the train or test students are all of one outcome")
        model = DropoutModel(features, seed=seed).fit(x[~is_test], y[~is_test])
        baseline = BaselineModel(FEATURES, columns=BASELINE_FEATURES).fit(np.nan_to_num(x[~is_test]), y[~is_test])
        result["cutoffs"][f"day_{cutoff}"] = {
            "train_students": int((~is_test).sum()), "test_students": int(is_test.sum()),
            "at_risk_rate_test": float(y[is_test].mean()),
            **scores(y[is_test], model.predict_proba(x[is_test])),
            "baseline_score_and_missed": scores(y[is_test], baseline.predict_proba(np.nan_to_num(x[is_test]))),
        }
        result["split"] = split
        result["vle_clicks"] = len(features) > len(FEATURES)
        log.info("at-risk day %d: AUC %.4f", cutoff, result["cutoffs"][f"day_{cutoff}"]["auc"])
    for name, figures in result["cutoffs"].items():
        result[f"auc_{name}"] = figures["auc"]
    result[HEADLINE] = {f"auc_{name}": comparison(f"AUC of Fail or Withdrawn by {name.replace('_', ' ')}",
                                                  "gradient boosting", figures["auc"], "submitted scores, logistic",
                                                  figures["baseline_score_and_missed"]["auc"])
                        for name, figures in result["cutoffs"].items()}
    return result
