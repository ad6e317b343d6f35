-- Each learner's engagement with each content item: views, starts, completions, time spent
-- and time played. Incremental by learner; content engagement sums it per item.
-- "Is content" is tested inside each aggregate, not in WHERE: in WHERE, DuckDB tests it on
-- every row of the table before narrowing to the learners with new rows (1.1 s at 10 million
-- events, against 0.1 s this way); the result is the same.
{{ config(materialized='incremental', unique_key='learner_id', incremental_strategy='delete+insert') }}
{% set is_content = "object_type in ('lesson', 'video', 'quiz', 'assignment', 'page', 'problem', 'wiki', 'forum')" %}

select
    learner_id,
    object_id as item_id,
    any_value(course_id) filter (where {{ is_content }}) as course_id,
    any_value(object_type) filter (where {{ is_content }}) as object_type,
    count(*) filter (where verb = 'viewed' and {{ is_content }}) as views,
    count(*) filter (where verb = 'started' and {{ is_content }}) as starts,
    count(*) filter (where verb = 'completed' and {{ is_content }}) as completions,
    coalesce(sum(duration_s) filter (where verb = 'completed' and {{ is_content }}), 0) as time_spent_s,
    coalesce(sum(duration_s) filter (where verb in ('played', 'paused') and {{ is_content }}), 0) as played_s,
    max(staged_at) filter (where {{ is_content }}) as staged_at
from {{ ref('stg_lake__events') }}
{% if is_incremental() %}
where learner_id in ({{ learners_with_new_rows(ref('stg_lake__events')) }})
{% endif %}
group by learner_id, object_id
having count(*) filter (where {{ is_content }}) > 0
