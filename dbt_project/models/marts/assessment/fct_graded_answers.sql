-- Every answer that was marked right or wrong, numbered per learner and question (attempt 1
-- is the first try), with the skills it practises: those of its content item in the core API
-- (a question "<quiz id>/q2" belongs to its quiz), else the skill a dataset names.
-- Incremental by learner: attempt numbers of learners with new answers are recounted.
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
        occurred_at,
        payload_skill_id,
        staged_at,
        row_number() over (partition by learner_id, object_id order by occurred_at, event_id) as attempt_number
    from {{ ref('stg_lake__events') }}
    where verb = 'answered' and is_success is not null
    {% if is_incremental() %}
        and learner_id in ({{ learners_with_new_rows(ref('stg_lake__events')) }})
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
    a.is_correct,
    a.score,
    a.attempt_number,
    a.occurred_at,
    a.staged_at
from answers as a
left join {{ ref('stg_core__content_items') }} as i on a.item_id = i.item_id
