-- Every calendar day from the first to the last day with activity, with its week and month.
with bounds as (
    select min(activity_date) as first_day, max(activity_date) as last_day from {{ ref('stg_lake__events') }}
)

select
    d::date as date_day,
    date_trunc('week', d)::date as week_start,
    date_trunc('month', d)::date as month_start,
    isodow(d) as iso_day_of_week,
    isodow(d) >= 6 as is_weekend
from bounds, generate_series(first_day::timestamp, last_day::timestamp, interval 1 day) as t(d)
where first_day is not null
