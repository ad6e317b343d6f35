"""Entity frames with labels: the rows a model is trained to predict, each stamped with the moment it is
predicted at (``event_timestamp``), ready for ``training_frame``. They read the published warehouse, as
the feature views do: models name views and frames, never tables.
"""

import duckdb
import polars as pl


def dropout_weeks(con: duckdb.DuckDBPyConnection, horizon_days: int) -> pl.DataFrame:
    """One row per enrolment and Monday: learner_id, course_id, event_timestamp, dropped (0/1).

    Mondays run from the week after enrolling to ``horizon_days`` before the course's last active
    day: after it nobody studies the course (it has ended, or the data has), and a week there
    would be a dropout no model needs to predict."""
    return con.sql(f"""
        with days as (
            select learner_id, course_id, activity_date, study_events
            from intermediate.int_learner_course_days
        ),
        span as (
            select e.learner_id, e.course_id, e.enrolled_at, e.completed_at,
                   max(d.activity_date) over (partition by e.course_id) as last_day
            from marts.fct_enrollments as e
            left join days as d using (learner_id, course_id)
            qualify row_number() over (partition by e.enrollment_id order by d.activity_date) = 1
        ),
        mondays as (
            select s.learner_id, s.course_id, s.completed_at,
                   unnest(generate_series(date_trunc('week', s.enrolled_at) + interval 7 day,
                                          cast(s.last_day as timestamptz) - interval {horizon_days} day,
                                          interval 7 day)) as event_timestamp
            from span as s
        )
        select m.learner_id, m.course_id, m.event_timestamp,
               cast(coalesce(sum(d.study_events), 0) = 0 as integer) as dropped
        from mondays as m
        left join days as d
          on d.learner_id = m.learner_id and d.course_id = m.course_id
         and d.activity_date >= cast(m.event_timestamp as date)
         and d.activity_date < cast(m.event_timestamp as date) + {horizon_days}
        where m.completed_at is null or m.completed_at > m.event_timestamp
        group by all
        order by m.event_timestamp, m.learner_id, m.course_id
    """).pl()


def at_risk_rule_now(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The enrolments the at-risk rule mart judges now (not completed): learner_id, course_id, is_at_risk,
    event_timestamp (the mart's own moment)."""
    return con.sql("""
        select r.learner_id, r.course_id, r.is_at_risk, e.as_of_at as event_timestamp
        from marts.fct_at_risk_by_rule as r join marts.fct_enrollments as e using (enrollment_id)
        where r.status <> 'completed'
    """).pl()


def open_enrolments(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Enrolments neither completed nor left: learner_id, course_id, event_timestamp (the mart's moment)."""
    return con.sql("""
        select learner_id, course_id, as_of_at as event_timestamp
        from marts.fct_enrollments
        where completed_at is null and unenrolled_at is null
    """).pl()
