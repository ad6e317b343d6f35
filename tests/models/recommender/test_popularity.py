from datetime import UTC, datetime

import pandas as pd
import polars as pl
import pytest

from models.recommender.popularity import PopularityRecommender, evaluate

T0 = datetime(2026, 9, 7, tzinfo=UTC)
T1 = datetime(2026, 9, 14, tzinfo=UTC)


def _interactions(rows):
    return pl.DataFrame(rows, schema=["learner_id", "course_id", "item_id", "first_at"], orient="row")


def test_items_are_ranked_by_distinct_learners_within_their_course():
    data = _interactions([
        ("a", "c1", "x", T0), ("b", "c1", "x", T0), ("c", "c1", "x", T0),
        ("a", "c1", "y", T0), ("b", "c1", "y", T0),
        ("a", "c1", "z", T0),
        ("a", "c2", "w", T0),
    ])
    model = PopularityRecommender.fit(data)
    assert model.recommend("c1", 2) == [("x", 3.0), ("y", 2.0)]
    assert model.recommend("c1", 5, exclude=frozenset({"x"})) == [("y", 2.0), ("z", 1.0)]
    assert model.recommend("unknown") == []
    out = model.predict(None, pd.DataFrame({"course_id": ["c2", "c1"], "k": [1, 1]}))
    assert out.to_dict("records") == [
        {"course_id": "c2", "item_id": "w", "score": 1.0, "rank": 1},
        {"course_id": "c1", "item_id": "x", "score": 3.0, "rank": 1},
    ]


def test_hold_out_scores_only_what_came_after_the_cutoff():
    data = _interactions([
        ("a", "c", "x", T0), ("a", "c", "y", T1), ("a", "c", "z", T1),  # a: 2 new items after the cutoff
        ("b", "c", "x", T1),  # b: 1 new item
    ])
    catalog = {"c": ["x", "y", "z", "q"]}

    def recommend(learner, course, seen):
        return [i for i in ["y", "q", "x"] if i not in seen][:2]

    scores = evaluate(recommend, data, T1, catalog, k=2)
    # a: ranked [y, q] (x is seen), hits y -> recall 1/2; b: ranked [y, q], misses x -> recall 0.
    assert scores.learners == 2
    assert scores.recall == pytest.approx(0.25)
    assert scores.coverage == pytest.approx(2 / 4)
