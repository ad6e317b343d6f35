-- What learners did in each course each day, by content type (video, quiz, question, search...):
-- the analysts' "events over time by content type". Enrolments (verb 'registered') are not activity.
select
    e.course_id,
    e.activity_date,
    coalesce(i.content_type, e.object_type) as content_type,
    count(*) as events,
    count(distinct e.learner_id) as active_learners
from {{ ref('stg_lake__events') }} as e
left join {{ ref('stg_core__content_items') }} as i on e.object_id = i.item_id
where e.course_id is not null and e.verb <> 'registered'
group by all
