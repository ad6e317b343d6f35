{#- Incremental uniqueness: every value staged by the latest run appears once in the whole model.
    Each run checks its own new rows against all the rows before them, so the column stays
    unique without grouping the whole table on every run (seconds at 10 million rows); a full
    build stages every row at once and so checks them all. `staged_at` is one value per run. -#}
{% test unique_in_latest_run(model, column_name, staged_at='staged_at') %}
with latest as (
    select {{ column_name }} as value from {{ model }}
    where {{ staged_at }} = (select max({{ staged_at }}) from {{ model }})
)
select {{ column_name }}, count(*) as n
from {{ model }}
where {{ column_name }} in (select value from latest)
group by {{ column_name }}
having count(*) > 1
{% endtest %}
