-- The core API's domain events (user.registered, course.published, enrollment.created,
-- progress.updated...), relayed from its outbox into bronze.events. Few next to activity:
-- rebuilt whole on each run.
select
    event_id,
    learner_id as actor_learner_id,
    verb as event_type,
    object_type as entity_type,
    object_id as entity_id,
    course_id,
    "timestamp" as occurred_at,
    received_at,
    json_extract(payload, '$.outbox_id')::bigint as outbox_id,
    payload
from {{ source('bronze', 'events') }}
where source = 'outbox'
