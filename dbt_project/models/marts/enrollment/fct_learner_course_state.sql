-- Where each learner stands in each course: status, progress, last visit, grade (the mean
-- scaled score of their graded work), items completed.
with grades as (
    select learner_id, course_id, avg(score) as grade, count(*) as graded_items
    from {{ ref('stg_lake__events') }}
    where score is not null and verb in ('completed', 'answered') and course_id is not null
    group by learner_id, course_id
),

completions as (
    select learner_id, course_id, count(distinct object_id) as items_completed
    from {{ ref('stg_lake__events') }}
    where verb = 'completed' and course_id is not null
    group by learner_id, course_id
)

select
    e.enrollment_id,
    e.learner_id,
    e.course_id,
    e.status,
    e.progress_percent,
    e.last_activity_at as last_visit_at,
    e.days_since_last_activity,
    e.unenrolled_at,
    g.grade,
    coalesce(g.graded_items, 0) as graded_items,
    coalesce(c.items_completed, 0) as items_completed
from {{ ref('fct_enrollments') }} as e
left join grades as g using (learner_id, course_id)
left join completions as c using (learner_id, course_id)
