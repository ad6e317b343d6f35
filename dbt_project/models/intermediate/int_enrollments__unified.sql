-- One row per learner and course, wherever the enrolment is known from: the core API's
-- enrollments (the system of record), or, for imported datasets without one, the learner's
-- first event in the course (a 'registered' event when there is one).
with from_events as (
    select
        learner_id,
        course_id,
        coalesce(min(registered_at), min(first_at)) as first_seen_at,
        max(last_study_at) as last_activity_at,
        min(enrollment_id) as enrollment_id_in_events
    from {{ ref('int_learner_course_days') }}
    group by learner_id, course_id
),

from_core as (
    select * from {{ ref('stg_core__enrollments') }}
)

select
    coalesce(c.enrollment_id, e.enrollment_id_in_events, coalesce(c.learner_id, e.learner_id) || ':'
             || coalesce(c.course_id, e.course_id)) as enrollment_id,
    coalesce(c.learner_id, e.learner_id) as learner_id,
    coalesce(c.course_id, e.course_id) as course_id,
    coalesce(c.enrolled_at, e.first_seen_at) as enrolled_at,
    e.last_activity_at,
    c.progress_percent,
    c.status as core_status,
    c.completed_at,
    c.unenrolled_at,
    c.enrollment_id is not null as is_from_core
from from_core as c
full outer join from_events as e
    on c.learner_id = e.learner_id and c.course_id = e.course_id
