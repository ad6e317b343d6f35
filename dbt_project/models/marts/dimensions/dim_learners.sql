-- Learners, pseudonymous: role where the core API knows them, and their activity span.
with activity as (
    select learner_id, min(occurred_at) as first_seen_at, max(occurred_at) as last_seen_at, count(*) as events,
        count(distinct course_id) as courses, any_value(source) as source
    from {{ ref('stg_lake__events') }}
    group by learner_id
)

select
    coalesce(u.learner_id, a.learner_id) as learner_id,
    coalesce(u.role, 'learner') as role,
    coalesce(a.source, 'core-api') as first_source,
    u.created_at as registered_at,
    a.first_seen_at,
    a.last_seen_at,
    coalesce(a.events, 0) as events,
    coalesce(a.courses, 0) as courses
from {{ ref('stg_core__users') }} as u
full outer join activity as a on u.learner_id = a.learner_id
