-- What each learner did each day: events, courses, sessions started and study minutes.
-- Incremental by learner: only learners with new events are recounted.
{{ config(materialized='incremental', unique_key='learner_id', incremental_strategy='delete+insert') }}

with sessions as (
    select learner_id, activity_date, count(*) as sessions, sum(duration_s) / 60.0 as study_minutes
    from {{ ref('fct_learning_sessions') }}
    {% if is_incremental() %}
    where learner_id in ({{ learners_with_new_rows(ref('stg_lake__events')) }})
    {% endif %}
    group by learner_id, activity_date
),

events as (
    select
        learner_id,
        activity_date,
        count(*) as events,
        count(distinct course_id) as active_courses,
        count(*) filter (where verb = 'completed') as completions,
        count(*) filter (where verb = 'answered') as answers,
        max(staged_at) as staged_at
    from {{ ref('stg_lake__events') }}
    {% if is_incremental() %}
    where learner_id in ({{ learners_with_new_rows(ref('stg_lake__events')) }})
    {% endif %}
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
    coalesce(s.study_minutes, 0) as study_minutes,
    e.staged_at
from events as e
left join sessions as s using (learner_id, activity_date)
