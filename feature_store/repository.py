"""LearnLake's entities, feature views and feature services (module-level, as in a Feast repo).

Every view reads the published warehouse (marts and intermediate models) and stamps each row
with the moment its values became known: a day's activity counts at the end of that day, an
answer's running accuracy at the answer's time. Windows (``_7d``, ``_28d``) count the days up
to and including that day.
"""

from datetime import timedelta

from feature_store.definitions import Entity, FeatureService, FeatureView

learner = Entity("learner", ("learner_id",), "A pseudonymous learner.")
course = Entity("course", ("course_id",), "A course.")
learner_course = Entity("learner_course", ("learner_id", "course_id"), "One learner in one course.")
content_item = Entity("content_item", ("question_id",), "A question or other gradable content item.")
skill = Entity("skill", ("skill_id",), "A skill content items practise.")
learner_skill = Entity("learner_skill", ("learner_id", "skill_id"), "One learner practising one skill.")

ENTITIES = (learner, course, learner_course, content_item, skill, learner_skill)

learner_course_activity = FeatureView(
    name="learner_course_activity",
    entity=learner_course,
    ttl=timedelta(days=365),
    tables=("intermediate.int_learner_course_days",),
    description="A learner's activity in one course over the last 7 and 28 days and since enrolment.",
    features=("events_7d", "events_28d", "active_days_7d", "active_days_28d", "study_minutes_7d",
              "events_total", "active_days_total", "days_since_first_activity"),
    query="""
        select
            learner_id, course_id,
            cast(activity_date + interval 1 day as timestamptz) as feature_timestamp,
            cast(sum(study_events) over last_7 as double) as events_7d,
            cast(sum(study_events) over last_28 as double) as events_28d,
            count(*) filter (where study_events > 0) over last_7 as active_days_7d,
            count(*) filter (where study_events > 0) over last_28 as active_days_28d,
            sum(duration_s) over last_7 / 60.0 as study_minutes_7d,
            cast(sum(study_events) over since_start as double) as events_total,
            count(*) filter (where study_events > 0) over since_start as active_days_total,
            date_diff('day', min(activity_date) over since_start, activity_date) as days_since_first_activity
        from intermediate.int_learner_course_days
        window
            since_start as (partition by learner_id, course_id order by activity_date
                            rows between unbounded preceding and current row),
            last_7 as (partition by learner_id, course_id order by activity_date
                       range between interval 6 days preceding and current row),
            last_28 as (partition by learner_id, course_id order by activity_date
                        range between interval 27 days preceding and current row)
    """,
)

learner_course_assessment = FeatureView(
    name="learner_course_assessment",
    entity=learner_course,
    ttl=timedelta(days=365),
    tables=("marts.fct_graded_answers",),
    description="A learner's graded answers in one course so far: how many, the share right, the recent share.",
    features=("graded_answers", "accuracy", "accuracy_last_10"),
    query="""
        select
            learner_id, course_id,
            occurred_at as feature_timestamp,
            count(*) over so_far as graded_answers,
            (count(*) filter (where is_correct) over so_far + 1.0) / (count(*) over so_far + 2.0) as accuracy,
            avg(cast(is_correct as double)) over (partition by learner_id, course_id order by occurred_at, event_id
                                                  rows between 9 preceding and current row) as accuracy_last_10
        from marts.fct_graded_answers
        where course_id is not null
        window so_far as (partition by learner_id, course_id order by occurred_at, event_id
                          rows between unbounded preceding and current row)
    """,
)

learner_activity = FeatureView(
    name="learner_activity",
    entity=learner,
    ttl=timedelta(days=28),
    tables=("marts.fct_learner_daily_activity",),
    description="A learner's activity across all courses over the last 7 days.",
    features=("sessions_7d", "study_minutes_7d", "answers_7d", "completions_7d", "active_courses_today"),
    query="""
        select
            learner_id,
            cast(activity_date + interval 1 day as timestamptz) as feature_timestamp,
            cast(sum(sessions_started) over last_7 as double) as sessions_7d,
            cast(sum(study_minutes) over last_7 as double) as study_minutes_7d,
            cast(sum(answers) over last_7 as double) as answers_7d,
            cast(sum(completions) over last_7 as double) as completions_7d,
            active_courses as active_courses_today
        from marts.fct_learner_daily_activity
        window last_7 as (partition by learner_id order by activity_date
                          range between interval 6 days preceding and current row)
    """,
)

course_activity = FeatureView(
    name="course_activity",
    entity=course,
    ttl=timedelta(days=28),
    tables=("marts.fct_course_daily_active_learners",),
    description="How busy a course is: active learners and events over the last 7 days.",
    features=("active_learners_today", "events_7d"),
    query="""
        select
            course_id,
            cast(activity_date + interval 1 day as timestamptz) as feature_timestamp,
            active_learners as active_learners_today,
            cast(sum(events) over (partition by course_id order by activity_date
                                   range between interval 6 days preceding and current row) as double) as events_7d
        from marts.fct_course_daily_active_learners
    """,
)

learner_skill_practice = FeatureView(
    name="learner_skill_practice",
    entity=learner_skill,
    ttl=timedelta(days=365),
    tables=("marts.fct_graded_answers",),
    description="A learner's answers on one skill so far: how many, how many right, the last outcome.",
    features=("answers", "correct_answers", "accuracy", "last_correct"),
    query="""
        with per_skill as (
            select learner_id, unnest(skills) as skill_id, occurred_at, is_correct, event_id
            from marts.fct_graded_answers
        )
        select
            learner_id, skill_id,
            occurred_at as feature_timestamp,
            count(*) over so_far as answers,
            count(*) filter (where is_correct) over so_far as correct_answers,
            (count(*) filter (where is_correct) over so_far + 1.0) / (count(*) over so_far + 2.0) as accuracy,
            cast(is_correct as integer) as last_correct
        from per_skill
        window so_far as (partition by learner_id, skill_id order by occurred_at, event_id
                          rows between unbounded preceding and current row)
    """,
)

question_statistics = FeatureView(
    name="question_statistics",
    entity=content_item,
    ttl=timedelta(days=365),
    tables=("marts.fct_graded_answers",),
    description="A question's first-attempt record so far: how many learners tried it, the share who got it right.",
    features=("first_attempts", "first_attempt_accuracy"),
    query="""
        select
            question_id,
            occurred_at as feature_timestamp,
            count(*) over so_far as first_attempts,
            (count(*) filter (where is_correct) over so_far + 1.0) / (count(*) over so_far + 2.0)
                as first_attempt_accuracy
        from marts.fct_graded_answers
        where attempt_number = 1
        window so_far as (partition by question_id order by occurred_at, event_id
                          rows between unbounded preceding and current row)
    """,
)

# Online-only views: the sequences serving needs (items opened, recent answers), as lists.
# They are not training features: each entity has one row, stamped with its last event, built from
# what happened up to the moment ``materialize`` is given (``$as_of``).
learner_course_history = FeatureView(
    name="learner_course_history",
    entity=learner_course,
    ttl=timedelta(days=365),
    tables=("intermediate.int_events__sessionized", "marts.dim_content_items"),
    description="The content items a learner has opened in a course, in the order first opened (recommendations).",
    features=("items_opened",),
    query="""
        with first_opened as (
            select e.learner_id, i.course_id, i.item_id, min(e.occurred_at) as first_at
            from intermediate.int_events__sessionized as e
            join marts.dim_content_items as i on i.item_id = split_part(e.object_id, '/', 1)
            where e.verb in ('viewed', 'started', 'played', 'answered', 'completed') and e.occurred_at <= $as_of
            group by all
        )
        select learner_id, course_id, max(first_at) as feature_timestamp,
               list(item_id order by first_at, item_id) as items_opened
        from first_opened
        group by learner_id, course_id
    """,
)

learner_recent_answers = FeatureView(
    name="learner_recent_answers",
    entity=learner,
    ttl=timedelta(days=365),
    tables=("marts.fct_graded_answers",),
    description="A learner's last 200 graded answers per skill practised, oldest first (mastery from knowledge tracing).",
    features=("answers",),
    query="""
        with recent as (
            select learner_id, event_id, occurred_at, unnest(skills) as skill_id,
                   cast(is_correct as integer) as correct
            from marts.fct_graded_answers
            where len(skills) > 0 and occurred_at <= $as_of
            qualify row_number() over (partition by learner_id order by occurred_at desc, event_id desc) <= 200
        )
        select learner_id, max(occurred_at) as feature_timestamp,
               list({'skill_id': skill_id, 'correct': correct, 'answer_id': event_id}
                    order by occurred_at, event_id, skill_id) as answers
        from recent
        group by learner_id
    """,
)

VIEWS = (learner_course_activity, learner_course_assessment, learner_activity, course_activity,
         learner_skill_practice, question_statistics, learner_course_history, learner_recent_answers)

dropout_risk_v1 = FeatureService(
    name="dropout_risk_v1",
    description="What the dropout model reads for a learner in a course.",
    views=(
        (learner_course_activity, learner_course_activity.features),
        (learner_course_assessment, learner_course_assessment.features),
        (learner_activity, ("sessions_7d", "study_minutes_7d", "answers_7d")),
        (course_activity, ("active_learners_today",)),
    ),
)

recommender_v1 = FeatureService(
    name="recommender_v1",
    description="What the recommender's re-ranking reads for a learner and a skill.",
    views=((learner_skill_practice, learner_skill_practice.features),),
)

SERVICES = (dropout_risk_v1, recommender_v1)


def service(name: str) -> FeatureService:
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown feature service {name!r}; known: {[s.name for s in SERVICES]}")
