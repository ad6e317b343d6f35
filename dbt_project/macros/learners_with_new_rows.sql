{#- In an incremental model keyed by learner: the learners with rows staged since this model's
    last run (their history changed, so the model recomputes them whole). -#}
{% macro learners_with_new_rows(relation) -%}
    select distinct learner_id from {{ relation }}
    where staged_at > (select coalesce(max(staged_at), '1970-01-01'::timestamptz) from {{ this }})
{%- endmacro %}
