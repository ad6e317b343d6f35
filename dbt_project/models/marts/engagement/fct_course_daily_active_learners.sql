-- Learners active in each course on each day: anyone with at least one event there.
select
    course_id,
    activity_date,
    count(distinct learner_id) as active_learners,
    count(*) as events
from {{ ref('stg_lake__events') }}
where course_id is not null
group by course_id, activity_date
