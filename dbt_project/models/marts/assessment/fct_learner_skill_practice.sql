-- How much each learner practised each skill, and how well: answers, correct answers,
-- accuracy, and when they last practised it.
select
    a.learner_id,
    skill_id,
    count(*) as answers,
    count(*) filter (where a.is_correct) as correct_answers,
    avg(a.is_correct::integer) as accuracy,
    max(a.occurred_at) as last_practised_at
from {{ ref('fct_graded_answers') }} as a,
    unnest(a.skills) as s(skill_id)
group by a.learner_id, skill_id
