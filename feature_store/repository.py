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
item = Entity("item", ("item_id",), "A content item of a course: a lesson, video, quiz or assignment.")
learner_item = Entity("learner_item", ("learner_id", "item_id"), "One learner and one content item.")
skill_answer = Entity("skill_answer", ("learner_id", "answer_id", "skill_id"),
                      "One graded answer of a learner, on one of the skills its question practises.")

ENTITIES = (learner, course, learner_course, item, learner_item, skill_answer)

# A learner engaged with a content item (rather than searched for it, or enrolled in its course).
ENGAGEMENT_VERBS = ("viewed", "started", "played", "answered", "completed")
ANSWERS_KEPT_ONLINE = 200  # per learner: what mastery is computed from when serving

# Views every model's training history comes from (and the online sequences below are built on).
content_catalogue = FeatureView(
    name="content_catalogue",
    entity=item,
    ttl=timedelta(days=36_500),  # an item does not go stale; it changes (updated_at) or it goes
    tables=("marts.dim_content_items",),
    description="What a content item is and where it sits: course, module, place in the course, title, opening "
                "text, skills, difficulty and prerequisites.",
    features=("course_id", "module_id", "position_in_course", "content_type", "title", "text_excerpt", "skills",
              "difficulty", "prerequisites"),
    query="""
        select
            item_id, updated_at as feature_timestamp, course_id, module_id, position_in_course, content_type,
            coalesce(title, '') as title, coalesce(text_excerpt, '') as text_excerpt,
            coalesce(skills, []) as skills, coalesce(difficulty, 0) as difficulty,
            coalesce(prerequisites, []) as prerequisites
        from marts.dim_content_items
    """,
)

item_first_engagement = FeatureView(
    name="item_first_engagement",
    entity=learner_item,
    ttl=timedelta(days=365),
    tables=("intermediate.int_events__sessionized", "marts.dim_content_items"),
    description="When a learner first engaged with a content item (viewed, started, played, answered or "
                "completed it), and the item's course.",
    features=("course_id",),
    query=f"""
        select e.learner_id, i.item_id, min(e.occurred_at) as feature_timestamp, any_value(i.course_id) as course_id
        from intermediate.int_events__sessionized as e
        join marts.dim_content_items as i on i.item_id = split_part(e.object_id, '/', 1)
        where e.verb in ({", ".join(f"'{verb}'" for verb in ENGAGEMENT_VERBS)})
        group by e.learner_id, i.item_id
    """,
)

skill_answers = FeatureView(
    name="skill_answers",
    entity=skill_answer,
    ttl=timedelta(days=365),
    tables=("marts.fct_graded_answers",),
    description="Each graded answer once per skill its question practises: right (1) or not (0), its course and "
                "its question.",
    features=("course_id", "correct", "question_id"),
    query="""
        select learner_id, event_id as answer_id, unnest(skills) as skill_id, occurred_at as feature_timestamp,
               course_id, cast(is_correct as integer) as correct, question_id
        from marts.fct_graded_answers
        where len(skills) > 0
    """,
)

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

# The sequences serving needs (items opened, recent answers), as lists: one row per entity, stamped with
# its last event, built on the histories above (what the models train on) as of the moment ``materialize``
# is given (``$as_of``).
learner_course_history = FeatureView(
    name="learner_course_history",
    entity=learner_course,
    ttl=timedelta(days=365),
    tables=item_first_engagement.tables,
    description="The content items a learner has opened in a course, in the order first opened (recommendations).",
    features=("items_opened",),
    query=f"""
        select learner_id, course_id, max(feature_timestamp) as feature_timestamp,
               list(item_id order by feature_timestamp, item_id) as items_opened
        from ({item_first_engagement.query})
        where feature_timestamp <= $as_of
        group by learner_id, course_id
    """,
)

learner_recent_answers = FeatureView(
    name="learner_recent_answers",
    entity=learner,
    ttl=timedelta(days=365),
    tables=skill_answers.tables,
    description=f"A learner's last {ANSWERS_KEPT_ONLINE} graded answers per skill practised, oldest first, with "
                "when each was given (mastery from knowledge tracing, reviews from the forgetting model).",
    features=("answers",),
    query=f"""
        with recent as (
            select * from ({skill_answers.query})
            where feature_timestamp <= $as_of
            qualify row_number() over (partition by learner_id order by feature_timestamp desc, answer_id desc)
                    <= {ANSWERS_KEPT_ONLINE}
        )
        select learner_id, max(feature_timestamp) as feature_timestamp,
               list({{'skill_id': skill_id, 'correct': correct, 'answer_id': answer_id, 'answered_at': feature_timestamp,
                      'question_id': question_id}}
                    order by feature_timestamp, answer_id, skill_id) as answers
        from recent
        group by learner_id
    """,
)

# What the online store holds (``materialize``): the dropout service's views and the sequences serving reads.
VIEWS = (learner_course_activity, learner_course_assessment, learner_activity, course_activity,
         learner_course_history, learner_recent_answers)
# Event-level histories the models train from, taken as of a cut-off (``feature_store.offline.history``);
# the online sequences above are built on them, so serving reads what training read.
HISTORY_VIEWS = (content_catalogue, item_first_engagement, skill_answers)

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

SERVICES = (dropout_risk_v1,)


def service(name: str) -> FeatureService:
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown feature service {name!r}; known: {[s.name for s in SERVICES]}")
