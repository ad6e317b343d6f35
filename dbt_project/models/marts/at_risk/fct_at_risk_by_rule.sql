-- The rule Open edX Aspects uses for at-risk learners, as the baseline models must beat:
-- enrolled, not passed (not completed, grade below the pass mark) and no visit in 7 days.
select
    enrollment_id,
    learner_id,
    course_id,
    status,
    grade,
    days_since_last_activity,
    status <> 'completed' and coalesce(grade, 0) < {{ var('pass_mark', 0.6) }} as is_not_passed,
    status <> 'completed'
        and coalesce(grade, 0) < {{ var('pass_mark', 0.6) }}
        and days_since_last_activity >= 7 as is_at_risk
from {{ ref('fct_learner_course_state') }}
where unenrolled_at is null
