"""Point-in-time frames and the online store, on a small DuckDB warehouse written here."""

from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
import pytest

from feature_store.offline import feature_columns, history, training_frame
from feature_store.online import RedisOnlineStore, SQLiteOnlineStore, materialize, online_features
from feature_store.repository import (
    SERVICES,
    VIEWS,
    dropout_risk_v1,
    item_first_engagement,
    learner_course_activity,
    skill_answers,
)

START = date(2026, 9, 1)
LEARNERS = [f"lrn_{i}" for i in range(6)]
COURSES = ["course-a", "course-b"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Daily activity of 6 learners in 2 courses over 60 days, and their answers, with a fixed seed."""
    rng = np.random.default_rng(7)
    days = []
    for learner in LEARNERS:
        for course in COURSES:
            for day in range(60):
                if rng.random() < 0.35:
                    events = int(rng.integers(1, 20))
                    days.append((learner, course, START + timedelta(days=day), events, events, 60.0 * events))
    answers = []
    for n in range(400):
        learner = LEARNERS[int(rng.integers(len(LEARNERS)))]
        at = datetime.combine(START, datetime.min.time(), UTC) + timedelta(minutes=int(rng.integers(0, 60 * 24 * 60)))
        answers.append((f"ev{n:04d}", learner, COURSES[n % 2], f"q{int(rng.integers(5))}",
                        [f"skill{int(rng.integers(3))}"], bool(rng.random() < 0.6), 1 + n % 2, at))
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema intermediate; create schema marts")
        con.execute("create table intermediate.int_learner_course_days (learner_id varchar, course_id varchar, "
                    "activity_date date, events bigint, study_events bigint, duration_s double)")
        con.executemany("insert into intermediate.int_learner_course_days values (?, ?, ?, ?, ?, ?)", days)
        con.execute("""create table marts.fct_learner_daily_activity as
            select learner_id, activity_date, sum(events) as events, count(*) as active_courses, 0 as completions,
                   0 as answers, 1 as sessions_started, sum(duration_s) / 60 as study_minutes
            from intermediate.int_learner_course_days group by all""")
        con.execute("""create table marts.fct_course_daily_active_learners as
            select course_id, activity_date, count(*) as active_learners, sum(events) as events
            from intermediate.int_learner_course_days group by all""")
        con.execute("create table marts.fct_graded_answers (event_id varchar, learner_id varchar, course_id varchar, "
                    "question_id varchar, skills varchar[], is_correct boolean, attempt_number bigint, "
                    "occurred_at timestamptz)")
        con.executemany("insert into marts.fct_graded_answers values (?, ?, ?, ?, ?, ?, ?, ?)", answers)
        con.execute("create table marts.dim_content_items as select question_id as item_id, "
                    "min(course_id) as course_id from marts.fct_graded_answers group by all")
        con.execute("create table intermediate.int_events__sessionized as select learner_id, 'answered' as verb, "
                    "question_id as object_id, occurred_at from marts.fct_graded_answers")
        # A search names an item before anyone opened it: it is not an engagement.
        con.execute("insert into intermediate.int_events__sessionized values "
                    "('lrn_0', 'searched', 'q1', timestamptz '2026-08-01 00:00:00+00')")
    return path, pl.DataFrame(days, schema=["learner_id", "course_id", "activity_date", "events", "study_events",
                                            "duration_s"], orient="row")


def _labels(count: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        "learner_id": [LEARNERS[int(rng.integers(len(LEARNERS)))] for _ in range(count)],
        "course_id": [COURSES[int(rng.integers(len(COURSES)))] for _ in range(count)],
        "event_timestamp": [datetime.combine(START, datetime.min.time(), UTC)
                            + timedelta(hours=int(rng.integers(0, 24 * 75))) for _ in range(count)],
        "label": rng.integers(0, 2, count),
    })


def test_no_feature_in_a_training_frame_is_stamped_after_its_label(warehouse):
    path, days = warehouse
    labels = _labels(300, seed=1)
    with duckdb.connect(str(path), read_only=True) as con:
        frame = training_frame(con, labels, dropout_risk_v1)
    assert frame.height == labels.height
    assert frame.select("learner_id", "course_id", "event_timestamp", "label").equals(labels)
    for view, _ in dropout_risk_v1.views:
        ages = frame[f"{view.name}__age_days"].drop_nulls()
        assert ages.len() > 0
        assert (ages >= 0).all(), f"{view.name}: a value stamped after its label"
        assert (ages <= view.ttl.total_seconds() / 86400).all(), f"{view.name}: a value older than its TTL"

    # Independently: the 7-day event count as of each label, from the raw days with polars.
    for row in frame.head(60).iter_rows(named=True):
        known_by = row["event_timestamp"]
        mine = days.filter((pl.col("learner_id") == row["learner_id"]) & (pl.col("course_id") == row["course_id"])
                           & (pl.col("activity_date") < known_by.date()))  # a day counts once it has ended
        if mine.is_empty():
            assert row["learner_course_activity__events_7d"] is None
            continue
        last = mine["activity_date"].max()
        window = mine.filter(pl.col("activity_date") > last - timedelta(days=7))
        assert row["learner_course_activity__events_7d"] == window["study_events"].sum()
        assert row["learner_course_activity__events_total"] == mine["study_events"].sum()
        age = (known_by - datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC)).total_seconds()
        assert row["learner_course_activity__age_days"] == pytest.approx(age / 86400)


def test_a_label_before_any_activity_gets_no_features(warehouse):
    path, _ = warehouse
    early = pl.DataFrame({"learner_id": [LEARNERS[0]], "course_id": [COURSES[0]],
                          "event_timestamp": [datetime(2026, 8, 1, tzinfo=UTC)]})
    with duckdb.connect(str(path), read_only=True) as con:
        frame = training_frame(con, early, dropout_risk_v1)
    assert all(frame[c][0] is None for c in feature_columns(dropout_risk_v1))


def test_an_entity_frame_without_the_join_keys_is_refused(warehouse):
    path, _ = warehouse
    with duckdb.connect(str(path), read_only=True) as con, pytest.raises(ValueError, match="lacks"):
        training_frame(con, pl.DataFrame({"learner_id": ["x"]}), dropout_risk_v1)


def test_services_name_known_features():
    assert {s.name for s in SERVICES} == {"dropout_risk_v1"}
    for service in SERVICES:
        assert len(set(service.columns)) == len(service.columns)
    with pytest.raises(KeyError, match="no feature"):
        learner_course_activity.column("nope")


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return SQLiteOnlineStore(tmp_path / "online.db")
    return RedisOnlineStore(request.getfixturevalue("redis_url"))


def test_the_online_store_serves_what_a_training_frame_would_see(warehouse, store):
    path, days = warehouse
    as_of = datetime(2026, 10, 15, 12, tzinfo=UTC)
    with duckdb.connect(str(path), read_only=True) as con:
        written = materialize(con, store, as_of=as_of)
        assert set(written) == {v.name for v in VIEWS} and all(n > 0 for n in written.values())
        assert len(set(store.keys("learner_course_activity"))) == written["learner_course_activity"]
        for learner in LEARNERS[:3]:
            entity = {"learner_id": learner, "course_id": COURSES[1], "skill_id": "skill1"}
            offline = training_frame(con, pl.DataFrame({**{k: [v] for k, v in entity.items()},
                                                        "event_timestamp": [as_of]}), dropout_risk_v1)
            online = online_features(store, dropout_risk_v1, entity, now=as_of)
            for column in feature_columns(dropout_risk_v1):
                assert online[column] == pytest.approx(offline[column][0]), column

    # Values older than the view's TTL are not served; rematerialising replaces, never duplicates.
    stale = online_features(store, dropout_risk_v1, {"learner_id": LEARNERS[0], "course_id": COURSES[0]},
                            now=as_of + timedelta(days=400))
    assert stale["learner_course_activity__events_7d"] is None
    with duckdb.connect(str(path), read_only=True) as con:
        assert materialize(con, store, as_of=as_of) == written
        # Materialised again as of the first evening, entities that only appear later are gone.
        late = days.group_by("learner_id", "course_id").agg(pl.col("activity_date").min()).filter(
            pl.col("activity_date") > START).row(0, named=True)
        first_evening = datetime.combine(START + timedelta(days=1), datetime.min.time(), UTC)
        assert materialize(con, store, as_of=first_evening)["learner_course_activity"] < written[
            "learner_course_activity"]
    gone = online_features(store, dropout_risk_v1, late, now=first_evening)
    assert gone["learner_course_activity__events_total"] is None


def test_the_online_sequences_hold_only_what_happened_by_the_moment_materialised(warehouse, store):
    path, _ = warehouse
    as_of = datetime(2026, 10, 1, tzinfo=UTC)
    with duckdb.connect(str(path), read_only=True) as con:
        materialize(con, store, as_of=as_of)
        learner = LEARNERS[0]
        expected = con.sql("select unnest(skills) as skill_id, cast(is_correct as integer) as correct, event_id "
                           "from marts.fct_graded_answers where learner_id = $l and occurred_at <= $t "
                           "order by occurred_at, event_id", params={"l": learner, "t": as_of}).fetchall()
        first_opened = con.sql("select question_id from marts.fct_graded_answers as a join marts.dim_content_items "
                               "as i on i.item_id = a.question_id where learner_id = $l and i.course_id = $c "
                               "and occurred_at <= $t group by question_id order by min(occurred_at), question_id",
                               params={"l": learner, "c": COURSES[0], "t": as_of}).fetchall()
    answers = store.read("learner_recent_answers", learner)
    assert [(a["skill_id"], a["correct"], a["answer_id"]) for a in answers["answers"]] == expected[-200:]
    assert datetime.fromisoformat(answers["feature_timestamp"]) <= as_of
    history = store.read("learner_course_history", f"{learner}|{COURSES[0]}")
    assert history["items_opened"] == [q for (q,) in first_opened] and first_opened


def test_training_rows_equal_online_rows_for_sampled_learners_and_moments(warehouse, store):
    """Parity: what a model trains on as of a moment (a point-in-time frame, the histories before it) is what
    the online store serves once materialised at that moment, for learners and moments drawn at random."""
    path, _ = warehouse
    rng = np.random.default_rng(11)
    moments = sorted(datetime.combine(START, datetime.min.time(), UTC) + timedelta(hours=int(h))
                     for h in rng.integers(24 * 5, 24 * 70, size=4))
    compared = {"features": 0, "answers": 0, "items": 0}
    with duckdb.connect(str(path), read_only=True) as con:
        for as_of in moments:
            materialize(con, store, as_of=as_of)
            answers = history(con, skill_answers, before=as_of + timedelta(microseconds=1))
            opened = history(con, item_first_engagement, before=as_of + timedelta(microseconds=1))
            for learner in rng.choice(LEARNERS, size=3, replace=False).tolist():
                course = COURSES[int(rng.integers(len(COURSES)))]
                entity = {"learner_id": learner, "course_id": course}
                frame = training_frame(con, pl.DataFrame({"learner_id": [learner], "course_id": [course],
                                                          "event_timestamp": [as_of]}), dropout_risk_v1)
                online = online_features(store, dropout_risk_v1, entity, now=as_of)
                for column in feature_columns(dropout_risk_v1):
                    assert online[column] == pytest.approx(frame[column][0], nan_ok=True), (as_of, learner, column)
                    compared["features"] += online[column] is not None
                mine = answers.filter(pl.col("learner_id") == learner).tail(200)
                served = store.read("learner_recent_answers", learner)
                assert [(a["skill_id"], a["correct"], a["answer_id"]) for a in (served or {}).get("answers", [])] \
                    == list(mine.select("skill_id", "correct", "answer_id").iter_rows())
                compared["answers"] += mine.height
                items = opened.filter((pl.col("learner_id") == learner) & (pl.col("course_id") == course)) \
                    .sort("feature_timestamp", "item_id")["item_id"].to_list()
                sequence = store.read("learner_course_history", f"{learner}|{course}")
                assert (sequence or {}).get("items_opened", []) == items
                compared["items"] += len(items)
    assert all(count > 0 for count in compared.values()), compared  # the draws compared real rows, not empties


def test_a_first_engagement_is_the_first_time_a_learner_opened_an_item_not_a_search(warehouse):
    path, _ = warehouse
    with duckdb.connect(str(path), read_only=True) as con:
        first = history(con, item_first_engagement)
        expected = con.sql("select learner_id, question_id as item_id, min(occurred_at) as at "
                           "from marts.fct_graded_answers group by all").pl()
    assert first.height == expected.height
    joined = first.join(expected, on=["learner_id", "item_id"])
    assert joined.height == first.height and (joined["feature_timestamp"] == joined["at"]).all()
    assert first.filter((pl.col("learner_id") == "lrn_0") & (pl.col("item_id") == "q1"))["feature_timestamp"] \
        .min() > datetime(2026, 8, 2, tzinfo=UTC)
