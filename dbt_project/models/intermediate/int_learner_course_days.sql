-- Each learner's activity per course and day: the grain retention and course engagement
-- count from, far smaller than the events. Incremental by learner.
{{ config(materialized='incremental', unique_key='learner_id', incremental_strategy='delete+insert') }}

select
    learner_id,
    course_id,
    activity_date,
    count(*) as events,
    count(*) filter (where verb <> 'registered') as study_events,
    coalesce(sum(duration_s), 0) as duration_s,
    min(occurred_at) as first_at,
    max(occurred_at) as last_at,
    max(occurred_at) filter (where verb <> 'registered') as last_study_at,
    min(occurred_at) filter (where verb = 'registered') as registered_at,
    min(enrollment_id) as enrollment_id,
    max(staged_at) as staged_at
from {{ ref('stg_lake__events') }}
where course_id is not null
{% if is_incremental() %}
    and learner_id in ({{ learners_with_new_rows(ref('stg_lake__events')) }})
{% endif %}
group by learner_id, course_id, activity_date
