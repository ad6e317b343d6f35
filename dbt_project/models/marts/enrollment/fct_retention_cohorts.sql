-- Weekly retention cohorts per course: learners who enrolled in a week (the cohort), and how
-- many of them were active in the course each week since (week 0 is the enrolment week).
with activity as (
    select distinct
        e.course_id,
        e.learner_id,
        date_trunc('week', e.enrolled_at)::date as cohort_week,
        -- a day counts when it holds an event at or after enrolling
        floor((epoch(greatest(d.first_at, e.enrolled_at)) - epoch(date_trunc('week', e.enrolled_at)))
              / (7 * 86400))::integer as weeks_since_enrollment
    from {{ ref('fct_enrollments') }} as e
    join {{ ref('int_learner_course_days') }} as d
        on d.learner_id = e.learner_id and d.course_id = e.course_id and d.last_at >= e.enrolled_at
),

cohorts as (
    select course_id, date_trunc('week', enrolled_at)::date as cohort_week, count(*) as cohort_learners
    from {{ ref('fct_enrollments') }}
    group by course_id, cohort_week
)

select
    a.course_id,
    a.cohort_week,
    a.weeks_since_enrollment,
    c.cohort_learners,
    count(*) as active_learners,
    count(*) / c.cohort_learners::double as retention_rate
from activity as a
join cohorts as c using (course_id, cohort_week)
group by a.course_id, a.cohort_week, a.weeks_since_enrollment, c.cohort_learners
