-- Courses: those of the core API with their title and status, and those only seen in events
-- (imported datasets), named by their id.
with seen as (
    select course_id, any_value(source) as source, min(occurred_at) as first_activity_at,
        count(distinct learner_id) as learners
    from {{ ref('stg_lake__events') }}
    where course_id is not null
    group by course_id
)

select
    coalesce(c.course_id, s.course_id) as course_id,
    coalesce(c.title, s.course_id) as title,
    coalesce(c.status, 'external') as status,
    c.instructor_learner_id,
    coalesce(s.source, 'core-api') as source,
    c.published_at,
    s.first_activity_at,
    coalesce(s.learners, 0) as learners_seen
from {{ ref('stg_core__courses') }} as c
full outer join seen as s on c.course_id = s.course_id
