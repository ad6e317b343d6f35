-- Activity events numbered into learning sessions: a learner's session ends after 30 minutes
-- without an event (the inactivity gap Open edX and most web analytics use).
-- Incremental by learner: a run renumbers only the learners who have new events (new events
-- can fall between old ones), and leaves everyone else's sessions as they were.
{{ config(materialized='incremental', unique_key='learner_id', incremental_strategy='delete+insert') }}

with ordered as (
    select
        *,
        lag(occurred_at) over (partition by learner_id order by occurred_at, event_id) as previous_at
    from {{ ref('stg_lake__events') }}
    {% if is_incremental() %}
    where learner_id in ({{ learners_with_new_rows(ref('stg_lake__events')) }})
    {% endif %}
),

flagged as (
    select
        *,
        case
            when previous_at is null or epoch(occurred_at) - epoch(previous_at) > {{ var('session_gap_s', 1800) }}
                then 1
            else 0
        end as starts_session
    from ordered
)

select
    * exclude (previous_at, starts_session),
    learner_id || ':' || sum(starts_session) over (
        partition by learner_id order by occurred_at, event_id rows unbounded preceding
    ) as learning_session_id
from flagged
