-- One row per learner activity event, typed and renamed. Domain events of the core API
-- (source 'outbox': user.registered, enrollment.created...) are staged apart.
-- Incremental: a run adds only events whose id it has not staged yet (arrival times are not
-- a safe watermark: simulated and imported events carry times of their own).
{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='append') }}

select
    event_id,
    learner_id,
    verb,
    object_type,
    object_id,
    course_id,
    module_id,
    result_score as score,
    result_success as is_success,
    result_completion as is_completion,
    result_duration_s as duration_s,
    result_response as response,
    context_platform as platform,
    context_session_id as session_id,
    context_registration as enrollment_id,
    "timestamp" as occurred_at,
    received_at,
    event_date as activity_date,
    source,
    -- Datasets without content items name the practised skill in the payload (ASSISTments).
    json_extract_string(payload, '$.skill_id') as payload_skill_id
from {{ source('bronze', 'events') }}
where source <> 'outbox'
{% if is_incremental() %}
    and event_id not in (select event_id from {{ this }})
{% endif %}
