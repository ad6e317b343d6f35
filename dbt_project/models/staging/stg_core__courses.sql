-- Courses of the core API, as the lake's snapshot holds them.
select
    course_id,
    title,
    instructor_learner_id,
    status,
    published_at,
    created_at,
    metadata
from {{ source('bronze', 'core_courses') }}
