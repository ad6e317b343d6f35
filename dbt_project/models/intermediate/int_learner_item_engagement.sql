-- Each learner's engagement with each content item: views, starts, completions, time spent
-- and time played. Incremental by learner; content engagement sums it per item.
{{ config(materialized='incremental', unique_key='learner_id', incremental_strategy='delete+insert') }}

select
    learner_id,
    object_id as item_id,
    any_value(course_id) as course_id,
    any_value(object_type) as object_type,
    count(*) filter (where verb = 'viewed') as views,
    count(*) filter (where verb = 'started') as starts,
    count(*) filter (where verb = 'completed') as completions,
    coalesce(sum(duration_s) filter (where verb = 'completed'), 0) as time_spent_s,
    coalesce(sum(duration_s) filter (where verb in ('played', 'paused')), 0) as played_s,
    max(staged_at) as staged_at
from {{ ref('stg_lake__events') }}
where object_type in ('lesson', 'video', 'quiz', 'assignment', 'page', 'problem', 'wiki', 'forum')
{% if is_incremental() %}
    and learner_id in ({{ learners_with_new_rows(ref('stg_lake__events')) }})
{% endif %}
group by learner_id, object_id
