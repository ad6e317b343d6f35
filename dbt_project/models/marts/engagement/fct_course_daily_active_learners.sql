-- Course daily engagement: learners active in each course on each day (anyone with at least
-- one event there), their events, and the minutes their timed events took.
select
    course_id,
    activity_date,
    count(distinct learner_id) as active_learners,
    count(*) as events,
    coalesce(sum(duration_s), 0) / 60.0 as minutes
from {{ ref('stg_lake__events') }}
where course_id is not null
group by course_id, activity_date
