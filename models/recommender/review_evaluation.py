"""``learnlake eval reviews``: does the forgetting model pick what a learner should review?

Two measures, each beside the baselines a teacher would use:

- **ASSISTments 2009** (real answers, no times): fitted on the training learners, it predicts
  each test learner's next answer on a skill practised before, over all such answers and over
  those after a gap (at least ``GAP`` answers on other skills since the last on this one).
  Baselines: the share right on the skill so far (smoothed), and over the last three answers.
  Reported: AUC and log loss.
- **The simulator** (true mastery known): fitted on half of the simulated learners, it ranks each
  other learner's practised skills in a course at the end of the simulation; the first ``PICKS``
  are the review list. Reported: the share of them among the learner's ``PICKS`` truly weakest
  practised skills, and their mean true mastery (lower: better targeted), beside the lowest
  observed share right and a random pick (its expectation). The simulator has no forgetting, so
  this measures targeting, not timing.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import log_loss, roc_auc_score

from lake.sources.datasets.assistments import read_sequences
from lake.sources.simulator import SimulationConfig, simulate
from models.headline import HEADLINE, against_strongest
from models.knowledge_tracing.data import split_files
from models.recommender.reviews import FEATURES, Answer, ForgettingModel, records

GAP = 10
PICKS = 2
LEARNERS = 2000  # half judged: about 700 learners' courses, enough to tell rankings 3 points apart
MIN_SKILLS = 3  # a learner's course with fewer practised skills has nothing to choose from


def _answers(skills: list[int], correct: list[int]) -> list[Answer]:
    return [Answer(str(s), bool(c)) for s, c in zip(skills, correct, strict=True)]


def _scores(labels: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    return {"auc": float(roc_auc_score(labels, probability)),
            "log_loss": float(log_loss(labels, np.clip(probability, 1e-4, 1 - 1e-4)))}


def evaluate_assistments(data_dir: Path) -> dict:
    files = split_files(data_dir)
    train = [_answers(*student) for student in read_sequences(files.train)]
    test = [_answers(*student) for student in read_sequences(files.test)]
    model = ForgettingModel().fit(train)
    found = {"train_learners": len(train), "test_learners": len(test),
             "weights": dict(zip(FEATURES, map(float, model.model.coef_[0]), strict=True))}
    share, recent = FEATURES.index("share_right"), FEATURES.index("recent_share_right")
    for name, gap in (("repeat_answers", 0), ("after_gap", GAP)):
        rows, labels = model.cases(test, min_answers_since=gap)
        table, labels = np.array(rows), np.array(labels)
        sigmoid = lambda x: 1 / (1 + np.exp(-x))
        found[name] = {"cases": len(labels), "forgetting_model": _scores(labels, model.predict(rows)),
                       "share_right_so_far": _scores(labels, sigmoid(table[:, share])),
                       "share_right_last_3": _scores(labels, sigmoid(table[:, recent]))}
    found["after_gap"]["min_answers_between"] = GAP
    return found


def _simulated_answers(sim) -> pl.DataFrame:
    """learner_id, course_id, question_id, skill_id, correct, at: every simulated graded answer, oldest first."""
    answered = sim.events.filter(pl.col("verb") == "answered").select(
        "event_id", "learner_id", "course_id", pl.col("object_id").alias("question_id"),
        pl.col("result_success").alias("correct"), pl.col("timestamp").alias("at"))
    return answered.join(sim.truth_answers.select("event_id", "skill_id"), on="event_id").sort("at", "event_id")


def evaluate_simulator(*, learners: int = LEARNERS, seed: int = 7) -> dict:
    sim = simulate(SimulationConfig(learners=learners, seed=seed))
    answers = _simulated_answers(sim)
    by_learner = {learner: [Answer(s, bool(c), at, q)
                            for s, c, at, q in part.select("skill_id", "correct", "at", "question_id").iter_rows()]
                  for (learner,), part in answers.group_by(["learner_id"], maintain_order=True)}
    rng = np.random.default_rng(seed)
    ids = sorted(by_learner)
    test_ids = set(rng.permutation(ids)[: len(ids) // 2].tolist())
    model = ForgettingModel().fit([by_learner[i] for i in ids if i not in test_ids])
    now = datetime.combine(sim.config.start, datetime.min.time(), UTC) + timedelta(days=sim.config.days)
    final = sim.truth_mastery.sort("week").group_by("learner_id", "skill_id").last()
    truth = {(learner, skill): m for learner, skill, m in final.select("learner_id", "skill_id", "mastery").iter_rows()}
    course_of = dict(zip(sim.skills["skill_id"], sim.skills["course_id"], strict=True))
    hits = {"forgetting_model": [], "lowest_share_right": [], "random": []}
    mastery = {name: [] for name in hits}
    for learner in sorted(test_ids):
        history = by_learner[learner]
        for course in sorted({course_of[a.skill_id] for a in history}):
            skills = {a.skill_id for a in history if course_of[a.skill_id] == course}
            if len(skills) < MIN_SKILLS:
                continue
            weakest = set(sorted(skills, key=lambda s: truth[(learner, s)])[:PICKS])
            kept = records(history)
            picks = {"forgetting_model": [r.skill_id for r in model.reviews(history, now, skills)[:PICKS]],
                     "lowest_share_right": sorted(skills, key=lambda s: ((kept[s].right + 1) / (kept[s].answers + 2),
                                                                         s))[:PICKS]}
            for name, picked in picks.items():
                hits[name].append(len(weakest & set(picked)) / PICKS)
                mastery[name].append(float(np.mean([truth[(learner, s)] for s in picked])))
            hits["random"].append(PICKS / len(skills))  # the expected share of a random pick
            mastery["random"].append(float(np.mean([truth[(learner, s)] for s in skills])))
    gain = np.array(hits["forgetting_model"]) - np.array(hits["lowest_share_right"])
    return {"learners": learners, "seed": seed, "test_learner_courses": len(hits["random"]), "picks": PICKS,
            "forgetting_per_log_day": model.forgetting_per_log_day,
            "share_of_truly_weakest": {name: float(np.mean(v)) for name, v in hits.items()},
            "forgetting_model_minus_lowest_share_right": {"mean": float(gain.mean()), "ci95": _bootstrap_ci(gain, seed)},
            "mean_true_mastery_of_picks": {name: float(np.mean(v)) for name, v in mastery.items()}}


def _bootstrap_ci(values: np.ndarray, seed: int, resamples: int = 2000) -> list[float]:
    """The 95 % interval of the mean, by resampling the learners' courses."""
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    return [float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))]


def evaluate(data_dir: Path | None, *, learners: int = LEARNERS, seed: int = 7) -> dict:
    found = {"simulator": evaluate_simulator(learners=learners, seed=seed)}
    if data_dir is not None:
        found["assistments"] = evaluate_assistments(data_dir)
    found[HEADLINE] = _headline(found)
    return found


def _headline(found: dict) -> dict:
    """The review list beside the strongest simple pick on the simulator, and the forgetting model beside the shares
    right on ASSISTments when it was read."""
    picked = dict(found["simulator"]["share_of_truly_weakest"])
    headline = {"truly_weakest": against_strongest(
        f"share of the first {PICKS} reviews among the {PICKS} truly weakest skills (simulator)", "forgetting model",
        picked.pop("forgetting_model"), picked)}
    if "assistments" in found:
        gap = dict(found["assistments"]["after_gap"])
        model = gap.pop("forgetting_model")["auc"]
        headline["after_gap_auc"] = against_strongest(
            f"next-answer AUC after {gap['min_answers_between']}+ answers on other skills (real answers)",
            "forgetting model", model,
            {name: figures["auc"] for name, figures in gap.items() if isinstance(figures, dict)})
    return headline
