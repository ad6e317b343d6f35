-- Per content item: views, starts, completions, learners, time spent and, for videos, the
-- share of the video learners watched (time played over its length, capped at 1 per learner).
with per_learner as (
    select
        e.*,
        coalesce(i.content_type, e.object_type) as content_type,
        i.estimated_minutes
    from {{ ref('int_learner_item_engagement') }} as e
    left join {{ ref('stg_core__content_items') }} as i on e.item_id = i.item_id
)

select
    item_id,
    any_value(course_id) as course_id,
    any_value(content_type) as content_type,
    sum(views) as views,
    sum(starts) as starts,
    sum(completions) as completions,
    count(*) as learners,
    count(*) filter (where completions > 0) as learners_completed,
    sum(time_spent_s) as time_spent_s,
    avg(case
        when content_type = 'video' and estimated_minutes > 0 then least(1.0, played_s / (estimated_minutes * 60.0))
    end) as video_watch_share
from per_learner
group by item_id
