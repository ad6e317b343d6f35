-- The course funnel: enrolled, started (any activity after enrolling), past 25/50/75 % of the
-- course, completed. Progress comes from the core API where it is known.
select
    course_id,
    count(*) as enrolled,
    count(*) filter (where last_activity_at is not null) as started,
    count(*) filter (where progress_percent >= 25 or status = 'completed') as reached_25_pct,
    count(*) filter (where progress_percent >= 50 or status = 'completed') as reached_50_pct,
    count(*) filter (where progress_percent >= 75 or status = 'completed') as reached_75_pct,
    count(*) filter (where status = 'completed') as completed
from {{ ref('fct_enrollments') }}
group by course_id
