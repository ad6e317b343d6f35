"""The next-item recommender's re-ranking on a small catalogue, with the packaged MiniLM model:
course structure for new learners, new content by its text, prerequisites, the mastery zone."""

import pytest

from models.recommender.next_items import Item, NextItemRecommender
from models.recommender.training import item_embeddings


def _item(item_id: str, order: int, title: str, skills=("s1",), difficulty=0.0, prerequisites=(), text="") -> Item:
    return Item(item_id, "course", order, title, tuple(skills), difficulty, tuple(prerequisites), text)


CATALOGUE = [
    _item("variables", 1, "Python variables and assignment"),
    _item("loops", 2, "Python for loops"),
    _item("functions", 3, "Python functions and return values"),
    # Untouched by any learner, and titled alike: only what they teach can place them.
    _item("while", 10, "Extra lesson", text="A while loop repeats its block as long as its condition stays true."),
    _item("bread", 10, "Extra lesson", text="Sourdough bread needs a starter, flour, water and salt."),
    _item("projects", 4, "A Python project", prerequisites=("functions",)),
    _item("set_a", 20, "Practice set A", skills=("s2",), difficulty=0.0),
    _item("set_b", 20, "Practice set B", skills=("s3",), difficulty=0.0),
]
PATH = ["variables", "loops", "functions", "projects"]
SEQUENCES = [PATH + ["set_b"]] * 3 + [PATH + ["set_a"]] * 2


@pytest.fixture(scope="module")
def recommender() -> NextItemRecommender:
    return NextItemRecommender(CATALOGUE, SEQUENCES, item_embeddings(CATALOGUE))


def _ranked(recommender, history, **kwargs) -> list[str]:
    return [r.item_id for r in recommender.recommend("course", history, k=len(CATALOGUE), **kwargs)]


def test_a_new_learner_starts_at_the_beginning_of_the_course(recommender):
    first = recommender.recommend("course", [], k=3)[0]
    assert first.item_id == "variables" and "next in the course" in first.reason


def test_new_content_is_placed_by_how_close_its_content_is_to_what_the_learner_studied(recommender):
    found = {r.item_id: r for r in recommender.recommend("course", ["variables", "loops"], k=len(CATALOGUE))}
    ranked = _ranked(recommender, ["variables", "loops"])
    assert ranked.index("while") < ranked.index("bread"), "a lesson on loops beside Python lessons, not bread"
    assert "new content close to what you studied" in found["while"].reason
    assert found["while"].score > found["bread"].score


def test_an_item_whose_prerequisite_is_not_met_goes_down_and_says_why(recommender):
    before = {r.item_id: r for r in recommender.recommend("course", ["variables", "loops"], k=len(CATALOGUE))}
    after = {r.item_id: r for r in recommender.recommend("course", ["variables", "loops", "functions"],
                                                         k=len(CATALOGUE))}
    assert "after Python functions and return values" in before["projects"].reason
    assert before["projects"].score < 0.1 * after["projects"].score


def test_mastery_puts_items_in_the_learning_zone_first_and_names_the_skill(recommender):
    history = PATH
    # More learners went on to set B than to set A: without mastery B comes first.
    plain = _ranked(recommender, history)
    assert plain.index("set_b") < plain.index("set_a")
    # This learner would succeed on A's skill 7 times in 10 (the zone) and on B's skill 15 in 100.
    ranked = recommender.recommend("course", history, mastery={"s1": 0.9, "s2": 0.7, "s3": 0.15}, k=len(CATALOGUE))
    order = [r.item_id for r in ranked]
    assert order.index("set_a") < order.index("set_b")
    reason = next(r.reason for r in ranked if r.item_id == "set_a")
    assert reason.startswith("practise s2: mastery 0.70, expected success 0.70")


LADDER = [_item("easy", 1, "Easy one", difficulty=-2.0), _item("middle", 2, "Middle one", difficulty=-0.8),
          _item("other", 3, "Other skill", skills=("s2",), difficulty=-0.8),
          _item("hard", 4, "Hard one", difficulty=1.0), _item("harder", 5, "Harder one", difficulty=1.5)]


def test_a_review_comes_first_when_the_best_new_item_looks_too_hard():
    recommender = NextItemRecommender(LADDER, [[i.item_id for i in LADDER]] * 3)
    ranked = recommender.recommend("course", ["easy", "middle", "other"], mastery={"s1": 0.5, "s2": 0.5}, k=3)
    # Expected success on s1: easy 0.88, middle 0.69, hard 0.27; "other" is on another skill.
    assert [(r.item_id, r.review) for r in ranked] == [("middle", True), ("hard", False), ("harder", False)]
    assert ranked[0].reason == "review Middle one first: expected success 0.69, against 0.27 on Hard one"
    # Ready for it, or no mastery known: the new items alone.
    for mastery in ({"s1": 0.9, "s2": 0.5}, None):
        ready = recommender.recommend("course", ["easy", "middle", "other"], mastery=mastery, k=3)
        assert [r.item_id for r in ready] == ["hard", "harder"] and not any(r.review for r in ready)


def test_no_review_when_nothing_opened_is_easier_than_what_comes_next(recommender):
    # Every s1 item has the same difficulty: what was opened is as hard as what comes next.
    assert not any(r.review for r in recommender.recommend("course", ["variables", "loops"], mastery={"s1": 0.3},
                                                           k=5))
    assert not any(r.review for r in recommender.recommend("course", [], mastery={"s1": 0.1}, k=5))
