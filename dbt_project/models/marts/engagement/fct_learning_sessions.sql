-- One row per learning session (30 minutes without an event ends one).
-- Incremental by learner, like the sessions it counts.
{{ config(materialized='incremental', unique_key='learner_id', incremental_strategy='delete+insert') }}

select
    learning_session_id,
    learner_id,
    min(occurred_at) as started_at,
    max(occurred_at) as ended_at,
    -- The last event's own duration counts too: a 20-minute video is 20 minutes of study.
    epoch(max(occurred_at)) - epoch(min(occurred_at)) + coalesce(arg_max(duration_s, occurred_at), 0) as duration_s,
    count(*) as events,
    count(distinct course_id) as courses,
    arg_min(course_id, occurred_at) as first_course_id,
    min(activity_date) as activity_date,
    max(staged_at) as staged_at
from {{ ref('int_events__sessionized') }}
{% if is_incremental() %}
where learner_id in ({{ learners_with_new_rows(ref('int_events__sessionized')) }})
{% endif %}
group by learning_session_id, learner_id
