-- Enrollments of the core API, as the lake's snapshot holds them.
select
    enrollment_id,
    learner_id,
    course_id,
    status,
    progress_percent,
    enrolled_at,
    completed_at,
    unenrolled_at
from {{ source('bronze', 'core_enrollments') }}
