import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lake.privacy import learner_id_for
from lake.schemas import CONTENT_TYPES, VERBS
from lake.sources.simulator import SimulationConfig, simulate

CFG = SimulationConfig(learners=80, courses=3, days=28, seed=7)


@pytest.fixture(scope="module")
def sim():
    return simulate(CFG)


def test_same_config_gives_identical_output(sim):
    again = simulate(CFG)
    for name in ("users", "courses", "content_items", "enrollments", "events", "truth_enrollments",
                 "truth_mastery", "truth_answers"):
        assert_frame_equal(getattr(sim, name), getattr(again, name))


def test_lessons_have_text_to_teach_from_and_every_part_of_a_skill_is_taught(sim):
    from lake.sources.simulator_lessons import LESSONS

    items = sim.content_items
    lessons = items.filter(pl.col("content_type") == "lesson")
    for title, body in lessons.select("title", "body").iter_rows():
        assert body.startswith(f"# {title}\n") and len(body.split()) > 30
    names = dict(zip(sim.skills["skill_id"], sim.skills["name"], strict=True))
    for (course, skill), part in lessons.group_by("course_id", pl.col("skills").list.first()):
        taught = "\n".join(part["body"])
        assert all(text in taught for text in LESSONS[names[skill]]), (course, skill)
        if part.height <= len(LESSONS[names[skill]]):
            assert part["body"].n_unique() == part.height, "a skill's lessons teach different parts"
    # Videos, quizzes and assignments have no text to read (the tutor has nothing to cite there).
    assert items.filter(pl.col("content_type") != "lesson")["body"].is_null().all()


def test_another_seed_gives_other_output(sim):
    other = simulate(SimulationConfig(learners=80, courses=3, days=28, seed=8))
    assert set(other.events["event_id"]).isdisjoint(sim.events["event_id"])
    assert other.events.height != sim.events.height


def test_entities_are_consistent(sim):
    assert sim.users.filter(pl.col("role") == "learner").height == CFG.learners
    assert sim.courses.height == CFG.courses
    assert set(sim.content_items["content_type"]) <= set(CONTENT_TYPES)
    assert set(sim.content_items["content_type"]) == set(CONTENT_TYPES)
    assert set(sim.courses["instructor_id"]) <= set(sim.users.filter(pl.col("role") == "instructor")["user_id"])
    skills = set(sim.skills["skill_id"])
    assert all(set(item_skills) <= skills for item_skills in sim.content_items["skills"])
    assert sim.enrollments.select("user_id", "course_id").is_unique().all()
    # Pseudonymous ids: the keyed hash of the user id, and never an e-mail in the events.
    row = sim.enrollments.row(0, named=True)
    assert row["learner_id"] == learner_id_for(row["user_id"], CFG.pseudonym_key)
    assert not sim.events["learner_id"].str.contains("@").any()


def test_events_are_well_formed(sim):
    events = sim.events
    assert events["event_id"].is_unique().all()
    # "other" is for xAPI verbs only; "asked" and "rated" come from the tutor endpoints, which the simulator does not play
    assert set(events["verb"]) == set(VERBS) - {"other", "asked", "rated"}
    start = pl.datetime(CFG.start.year, CFG.start.month, CFG.start.day, time_zone="UTC")
    assert events.filter(pl.col("timestamp") < start).is_empty()
    assert events.filter(pl.col("timestamp") >= start + pl.duration(days=CFG.days)).is_empty()
    assert (events["event_date"] == events["timestamp"].dt.date()).all()
    assert (events["received_at"] >= events["timestamp"]).all()
    answers = events.filter(pl.col("verb") == "answered")
    assert answers["result_success"].null_count() == 0
    assert ((answers["result_score"] == 1.0) == answers["result_success"]).all()
    scored = events.drop_nulls("result_score")["result_score"]
    assert scored.min() >= 0 and scored.max() <= 1
    # Every event of a learner in a course belongs to one of their enrollments.
    enrolled = sim.enrollments.select("learner_id", "course_id")
    orphans = events.join(enrolled, on=["learner_id", "course_id"], how="anti")
    assert orphans.is_empty()


def test_no_activity_after_dropout_or_before_enrolment(sim):
    start = pl.lit(CFG.start)
    by_enrollment = sim.events.group_by("context_registration").agg(
        first_day=(pl.col("event_date").min() - start).dt.total_days(),
        last_day=(pl.col("event_date").max() - start).dt.total_days(),
    )
    truth = sim.truth_enrollments.join(by_enrollment, left_on="enrollment_id", right_on="context_registration")
    assert truth.height == sim.enrollments.height
    assert (truth["first_day"] >= truth["enrolled_day"]).all()
    dropped = truth.drop_nulls("dropout_day")
    assert dropped.height > 0
    assert (dropped["last_day"] <= dropped["dropout_day"]).all()
    assert truth.filter(pl.col("dropout_day").is_not_null() & pl.col("completed_day").is_not_null()).is_empty()


def test_ground_truth_explains_the_answers(sim):
    answers = sim.events.filter(pl.col("verb") == "answered").join(sim.truth_answers, on="event_id")
    assert answers.height == sim.truth_answers.height > 0
    # Answers drawn with a high true probability are right far more often than the others.
    high = answers.filter(pl.col("p_correct") > 0.7)["result_success"].mean()
    low = answers.filter(pl.col("p_correct") < 0.3)["result_success"].mean()
    assert high > 0.7
    assert low < 0.3
    # Calibration of the simulator itself: mean outcome matches mean true probability.
    assert abs(answers["result_success"].mean() - answers["p_correct"].mean()) < 0.03


def test_mastery_grows_with_practice(sim):
    weekly = sim.truth_mastery.group_by("week").agg(pl.col("mastery").mean()).sort("week")
    assert weekly["week"].to_list() == [1, 2, 3, 4]
    assert weekly["mastery"].is_sorted()
    assert weekly["mastery"][-1] > weekly["mastery"][0]
    first, last = (sim.truth_mastery.filter(pl.col("week") == w) for w in (1, 4))
    paired = first.join(last, on=["learner_id", "skill_id"], suffix="_end")
    assert (paired["mastery_end"] >= paired["mastery"]).all()


def test_rejects_impossible_configs():
    with pytest.raises(ValueError, match="learners"):
        SimulationConfig(learners=0)
