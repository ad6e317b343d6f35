-- The tutor in each course, week by week: the questions asked and how many the course's material
-- answered, and the askers' ratings of the answers. An answer counts once, by its latest rating, in
-- the week that rating was given; a rating taken back (neither right nor wrong) counts as none.
with questions as (
    select
        course_id,
        date_trunc('week', occurred_at)::date as week_start,
        count(*) as questions,
        count(distinct learner_id) as askers,
        count(*) filter (where is_success) as answered_from_material
    from {{ ref('stg_lake__events') }}
    where verb = 'asked' and course_id is not null
    group by all
),

latest_ratings as (
    select course_id, occurred_at, is_success as helpful
    from {{ ref('stg_lake__events') }}
    where verb = 'rated' and object_type = 'tutor_answer' and course_id is not null
    qualify row_number() over (partition by object_id order by occurred_at desc, received_at desc, event_id desc) = 1
),

ratings as (
    select
        course_id,
        date_trunc('week', occurred_at)::date as week_start,
        count(helpful) as ratings,
        count(*) filter (where helpful) as rated_helpful
    from latest_ratings
    group by all
)

select
    course_id,
    week_start,
    coalesce(q.questions, 0) as questions,
    coalesce(q.askers, 0) as askers,
    coalesce(q.answered_from_material, 0) as answered_from_material,
    coalesce(r.ratings, 0) as ratings,
    coalesce(r.rated_helpful, 0) as rated_helpful,
    r.rated_helpful / nullif(r.ratings, 0)::double as helpful_share
from questions as q
full outer join ratings as r using (course_id, week_start)
