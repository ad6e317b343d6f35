"""The forgetting model behind the reviews: it learns forgetting where answers show it, schedules
due dates on its own curve, explains itself in words, and on simulated learners targets their truly
weak skills better than chance."""

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from models.recommender.review_evaluation import evaluate_simulator
from models.recommender.reviews import REVIEW_BELOW, Answer, ForgettingModel, Review, ability

START = datetime(2026, 9, 1, tzinfo=UTC)


def _forgetting_learners(n: int, seed: int = 0) -> list[list[Answer]]:
    """Learners whose chance on a skill (their own ability on it) grows with practice and falls with the days
    since the last one."""
    rng = np.random.default_rng(seed)
    learners = []
    for _ in range(n):
        at, answers, practice = START, [], {}
        ability = {f"s{i}": float(rng.normal(0, 1.5)) for i in range(4)}
        for _ in range(40):
            skill = f"s{rng.integers(4)}"
            at += timedelta(days=float(rng.exponential(3.0)))
            count, last = practice.get(skill, (0, None))
            days = (at - last).days if last else 0
            chance = 1 / (1 + math.exp(-(ability[skill] + 0.5 * math.log1p(count) + 1.0 - 0.8 * math.log1p(days))))
            answers.append(Answer(skill, bool(rng.random() < chance), at))
            practice[skill] = (count + 1, at)
        learners.append(answers)
    return learners


def test_it_learns_forgetting_and_schedules_reviews_on_its_own_curve():
    model = ForgettingModel().fit(_forgetting_learners(300))
    assert model.forgetting_per_log_day < -0.3, "the answers fall with the days since the last practice"
    answers = [Answer("loops", True, START), Answer("loops", True, START + timedelta(hours=1)),
               Answer("loops", True, START + timedelta(hours=2))]
    answers += [Answer("sets", False, START + timedelta(days=1, minutes=m)) for m in range(3)]
    now = START + timedelta(days=1, hours=1)
    reviews = {r.skill_id: r for r in model.reviews(answers, now)}
    assert reviews["sets"].due(now) and not reviews["loops"].due(now)
    assert [r.skill_id for r in model.reviews(answers, now)] == ["sets", "loops"], "due first"
    loops = reviews["loops"]
    assert loops.due_at is not None and loops.due_at > now
    # On the due date the model's own chance stands at the review line.
    at_due = {r.skill_id: r for r in model.reviews(answers, loops.due_at)}["loops"]
    assert at_due.chance == pytest.approx(REVIEW_BELOW, abs=0.01)
    later = {r.skill_id: r for r in model.reviews(answers, now + timedelta(days=60))}["loops"]
    assert later.chance < loops.chance, "waiting lowers the chance"
    assert model.reviews(answers, now, {"loops"})[0].skill_id == "loops" and len(model.reviews(answers, now, {"x"})) == 0


def test_a_review_explains_itself_in_words():
    now = START + timedelta(days=12, hours=3)
    review = Review("c1s3", 0.41, now, answers=7, right=2, last_practised_at=START)
    assert review.reason(now) == "you answered 2 of 7 right; last practised 12 days ago"
    ahead = Review("c1s3", 0.8, now + timedelta(days=3), answers=1, right=1, last_practised_at=now)
    assert ahead.reason(now).endswith("last practised today; due in 3 days")


def test_ability_weighs_each_answer_by_how_hard_its_question_was():
    right, wrong = np.ones(4), np.zeros(4)
    assert ability(np.zeros(0), np.zeros(0)) == 0.0, "no answers: the average learner"
    assert ability(np.zeros(4), right) > 0 > ability(np.zeros(4), wrong)
    assert abs(ability(np.zeros(4), right)) < abs(ability(np.zeros(40), np.ones(40))), "more answers, surer"
    # Missing questions most learners miss says less than missing easy ones.
    assert ability(np.full(4, -2.0), wrong) > ability(np.full(4, 2.0), wrong)
    assert ability(np.full(4, -2.0), right) > ability(np.full(4, 2.0), right)


def test_a_skill_with_hard_questions_is_not_taken_for_a_weak_one():
    """Two skills answered 2 of 4 right: the one whose questions everybody misses is the learner's strength."""
    rng = np.random.default_rng(1)
    learners = []
    for _ in range(300):  # each with an ability of their own on each skill; the same questions for all
        theta, answers = {"easy": rng.normal(0, 1), "hard": rng.normal(0, 1)}, []
        for q in range(8):
            for skill, ease in (("easy", 1.5), ("hard", -1.5)):
                chance = 1 / (1 + math.exp(-(theta[skill] + ease)))
                answers.append(Answer(skill, bool(rng.random() < chance), None, f"{skill}/q{q}"))
        learners.append(answers)
    model = ForgettingModel().fit(learners)
    assert model.question_ease["easy/q0"] > 0.5 > -0.5 > model.question_ease["hard/q0"]
    mine = [Answer(skill, right, None, f"{skill}/q{q}") for skill in ("easy", "hard")
            for q, right in enumerate((True, False, True, False))]
    reviews = model.reviews(mine, START)
    assert [r.skill_id for r in reviews] == ["easy", "hard"], "weaker where the questions are easy"
    assert reviews[0].chance < reviews[1].chance and reviews[0].right == reviews[1].right == 2


def test_without_times_or_without_forgetting_a_skill_is_due_only_when_weak_now():
    learners = [[Answer(f"s{i % 3}", bool((i * 7 + j) % 3), None) for i in range(30)] for j in range(50)]
    model = ForgettingModel().fit(learners)
    reviews = model.reviews(learners[0], START)
    assert all((r.due_at is not None) == (r.chance < REVIEW_BELOW) for r in reviews)
    with pytest.raises(ValueError, match="too few"):
        ForgettingModel().fit([[Answer("s", True, START), Answer("s", True, START)]])


def test_on_simulated_learners_the_review_list_finds_truly_weak_skills_better_than_chance():
    result = evaluate_simulator(learners=200, seed=3)
    share = result["share_of_truly_weakest"]
    assert result["test_learner_courses"] > 30
    assert share["forgetting_model"] > share["random"] + 0.1
    assert result["mean_true_mastery_of_picks"]["forgetting_model"] < result["mean_true_mastery_of_picks"]["random"]
