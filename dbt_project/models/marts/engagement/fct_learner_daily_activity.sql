-- What each learner did each day: events, courses, sessions started and study minutes.
with sessions as (
    select learner_id, activity_date, count(*) as sessions, sum(duration_s) / 60.0 as study_minutes
    from {{ ref('fct_learning_sessions') }}
    group by learner_id, activity_date
),

events as (
    select
        learner_id,
        activity_date,
        count(*) as events,
        count(distinct course_id) as active_courses,
        count(*) filter (where verb = 'completed') as completions,
        count(*) filter (where verb = 'answered') as answers
    from {{ ref('stg_lake__events') }}
    group by learner_id, activity_date
)

select
    e.learner_id,
    e.activity_date,
    e.events,
    e.active_courses,
    e.completions,
    e.answers,
    coalesce(s.sessions, 0) as sessions_started,
    coalesce(s.study_minutes, 0) as study_minutes
from events as e
left join sessions as s using (learner_id, activity_date)
