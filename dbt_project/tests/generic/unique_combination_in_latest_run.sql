{#- `unique_combination` for models rebuilt learner by learner (incremental, delete+insert on
    learner_id): checks the learners the latest run rebuilt, those with rows staged by the latest
    run of stg_lake__events. Other learners' rows have not changed since the run that checked
    them, so the model stays checked without grouping millions of rows on every run; a full build
    stages every row at once and so checks every learner. On a column, `columns` defaults to it. -#}
{% test unique_combination_in_latest_run(model, columns=none, column_name=none) %}
{%- set columns = columns or [column_name] -%}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
where learner_id in (
    select learner_id from {{ ref('stg_lake__events') }}
    where staged_at = (select max(staged_at) from {{ ref('stg_lake__events') }})
)
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
