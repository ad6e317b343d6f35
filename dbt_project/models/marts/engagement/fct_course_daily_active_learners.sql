-- Course daily engagement: learners active in each course on each day (anyone with at least
-- one event there), their events, and the minutes their timed events took.
select
    course_id,
    activity_date,
    count(*) as active_learners,
    sum(events) as events,
    sum(duration_s) / 60.0 as minutes
from {{ ref('int_learner_course_days') }}
group by course_id, activity_date
