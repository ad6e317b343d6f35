-- Skills: those content items are tagged with, and those datasets name in their answers, with the name
-- people read: the course's own (its metadata's skill_names), else the id.
with tagged as (
    select distinct skill_id, course_id
    from {{ ref('stg_core__content_items') }}, unnest(skills) as s(skill_id)
),

answered as (
    select distinct payload_skill_id as skill_id, course_id
    from {{ ref('stg_lake__events') }}
    where payload_skill_id is not null
),

skills as (
    select skill_id, any_value(course_id) as course_id, count(distinct course_id) as courses
    from (select * from tagged union all select * from answered)
    group by skill_id
)

select
    s.skill_id,
    s.course_id,
    s.courses,
    coalesce((try_cast(c.metadata as json) -> 'skill_names') ->> s.skill_id, s.skill_id) as skill_name
from skills as s
left join {{ ref('stg_core__courses') }} as c using (course_id)
