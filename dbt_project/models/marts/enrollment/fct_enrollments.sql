-- Every enrollment with its status as of the newest event in the lake (data time, so a
-- rebuild of the same data gives the same answer):
--   completed: the core API says so, or progress reached 100 %;
--   dropped: unenrolled, or no activity for 14 days or more;
--   inactive: no activity for 7 to 13 days;
--   active: otherwise.
with as_of as (
    select max(occurred_at) as as_of_at from {{ ref('stg_lake__events') }}
)

select
    u.enrollment_id,
    u.learner_id,
    u.course_id,
    u.enrolled_at,
    u.last_activity_at,
    u.progress_percent,
    u.completed_at,
    u.unenrolled_at,
    u.is_from_core,
    a.as_of_at,
    floor((epoch(a.as_of_at) - epoch(coalesce(u.last_activity_at, u.enrolled_at))) / 86400)::integer
        as days_since_last_activity,
    case
        when u.core_status = 'completed' or u.progress_percent >= 100 then 'completed'
        when u.core_status = 'unenrolled' then 'dropped'
        when epoch(a.as_of_at) - epoch(coalesce(u.last_activity_at, u.enrolled_at)) >= 14 * 86400 then 'dropped'
        when epoch(a.as_of_at) - epoch(coalesce(u.last_activity_at, u.enrolled_at)) >= 7 * 86400 then 'inactive'
        else 'active'
    end as status
from {{ ref('int_enrollments__unified') }} as u
cross join as_of as a
