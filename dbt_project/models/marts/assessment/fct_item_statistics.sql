-- Classical test statistics per question, from first attempts:
--   difficulty: the share answered wrongly (0 easy .. 1 hard);
--   discrimination: the point-biserial correlation between being right on this question and
--   the learner's accuracy on all their other first attempts (high: the question separates
--   strong from weak learners; near 0 or below: it does not, look at it).
with firsts as (
    select learner_id, course_id, question_id, is_correct::integer as correct
    from {{ ref('fct_graded_answers') }}
    where attempt_number = 1
),

learner_totals as (
    select learner_id, sum(correct) as correct_total, count(*) as answered_total
    from firsts
    group by learner_id
),

rest as (
    select
        f.question_id,
        any_value(f.course_id) over (partition by f.question_id) as course_id,
        f.correct,
        (t.correct_total - f.correct) / nullif(t.answered_total - 1, 0)::double as rest_accuracy
    from firsts as f
    join learner_totals as t using (learner_id)
)

select
    question_id,
    any_value(course_id) as course_id,
    count(*) as learners,
    avg(correct) as p_correct,
    1 - avg(correct) as difficulty,
    -- Undefined (null) when everyone got it right, or wrong, or all had the same other accuracy.
    case
        -- clamped: rounding can carry a perfect correlation a hair past 1
        when var_pop(correct) > 0 and var_pop(rest_accuracy) > 0
            then greatest(-1.0, least(1.0, corr(correct, rest_accuracy)))
    end as discrimination
from rest
group by question_id
