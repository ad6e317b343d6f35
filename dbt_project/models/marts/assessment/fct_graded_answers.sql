-- Every answer that was marked right or wrong, numbered per learner and question (attempt 1
-- is the first try), with the skills it practises: those of its content item in the core API
-- (a question "<quiz id>/q2" belongs to its quiz), else the skill a dataset names. A written
-- answer an instructor graded (the review queue) counts with the instructor's grade, not the
-- automatic one its event carries.
-- Incremental by learner: attempt numbers of learners with new answers are recounted, and so are
-- the answers of learners given a grade this model does not hold yet.
{{ config(materialized='incremental', unique_key='learner_id', incremental_strategy='delete+insert') }}

with answers as (
    select
        event_id,
        learner_id,
        course_id,
        object_id as question_id,
        split_part(object_id, '/', 1) as item_id,
        is_success as is_correct,
        score,
        -- a written answer's event carries its answer's id as the session (serving/api/routes/answers.py)
        case when platform = 'learnlake-grading' then session_id end as written_answer_id,
        occurred_at,
        payload_skill_id,
        staged_at,
        row_number() over (partition by learner_id, object_id order by occurred_at, event_id) as attempt_number
    from {{ ref('stg_lake__events') }}
    where verb = 'answered' and is_success is not null
    {% if is_incremental() %}
        and (
            learner_id in ({{ learners_with_new_rows(ref('stg_lake__events')) }})
            or learner_id in (
                select r.learner_id from {{ ref('stg_core__answer_reviews') }} as r
                where not exists (
                    select 1 from {{ this }} as f
                    where f.reviewed_answer_id = r.answer_id and f.reviewed_at = r.reviewed_at
                )
            )
        )
    {% endif %}
)

select
    a.event_id,
    a.learner_id,
    a.course_id,
    a.question_id,
    a.item_id,
    coalesce(i.skills, case when a.payload_skill_id is not null then [a.payload_skill_id] end, []::varchar[])
        as skills,
    coalesce(r.is_success, a.is_correct) as is_correct,
    coalesce(r.score, a.score) as score,
    a.attempt_number,
    a.occurred_at,
    r.answer_id as reviewed_answer_id,
    r.reviewed_at,
    a.staged_at
from answers as a
left join {{ ref('stg_core__content_items') }} as i on a.item_id = i.item_id
left join {{ ref('stg_core__answer_reviews') }} as r on a.written_answer_id = r.answer_id
