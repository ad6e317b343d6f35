"""The lake's dropout labels: one per enrolment and Monday, within the span its course is studied."""

from datetime import date

import duckdb

from feature_store.labels import dropout_weeks


def _warehouse(days: list[tuple[str, str, str]], enrolments: list[tuple[str, str, str]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("create schema intermediate; create schema marts")
    con.sql("create table intermediate.int_learner_course_days "
            "(learner_id varchar, course_id varchar, activity_date date, study_events integer)")
    con.executemany("insert into intermediate.int_learner_course_days values (?, ?, ?, 1)", days)
    con.sql("create table marts.fct_enrollments (enrollment_id varchar, learner_id varchar, course_id varchar, "
            "enrolled_at timestamptz, completed_at timestamptz)")
    con.executemany("insert into marts.fct_enrollments values (? || ':' || ?, ?, ?, cast(? as timestamptz), null)",
                    [(learner, course, learner, course, enrolled) for learner, course, enrolled in enrolments])
    return con


def test_weeks_stop_a_horizon_before_their_own_course_goes_quiet():
    # Course "long" is studied until 31 March, course "short" until 31 January (it ended, or its data did).
    con = _warehouse(
        days=[("a", "long", "2024-01-02"), ("a", "long", "2024-03-31"),
              ("b", "short", "2024-01-05"), ("b", "short", "2024-01-20"), ("b", "short", "2024-01-31")],
        enrolments=[("a", "long", "2024-01-01 09:00:00+00"), ("b", "short", "2024-01-01 09:00:00+00")])
    labels = dropout_weeks(con, horizon_days=14)
    weeks = {learner: [(row["event_timestamp"].date(), row["dropped"]) for row in group.iter_rows(named=True)]
             for (learner,), group in labels.group_by("learner_id")}
    # "short": Mondays up to 17 January (31 January less 14 days); b studies on the 20th: not gone.
    assert weeks["b"] == [(date(2024, 1, 8), 0), (date(2024, 1, 15), 0)]
    # "long": Mondays up to 17 March; a is away from 2 January to 31 March: gone every week.
    assert weeks["a"][0] == (date(2024, 1, 8), 1) and weeks["a"][-1] == (date(2024, 3, 11), 1)
    assert len(weeks["a"]) == 10
