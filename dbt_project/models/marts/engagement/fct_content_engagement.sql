-- Per content item: views, starts, completions, learners, time spent and, for videos, the
-- share of the video learners watched (time played over its length, capped at 1 per learner).
with item_events as (
    select
        coalesce(i.item_id, e.object_id) as item_id,
        e.course_id,
        coalesce(i.content_type, e.object_type) as content_type,
        i.estimated_minutes,
        e.learner_id,
        e.verb,
        e.duration_s
    from {{ ref('stg_lake__events') }} as e
    left join {{ ref('stg_core__content_items') }} as i on e.object_id = i.item_id
    where e.object_type in ('lesson', 'video', 'quiz', 'assignment', 'page', 'problem', 'wiki', 'forum')
),

per_learner as (
    select
        item_id,
        learner_id,
        any_value(course_id) as course_id,
        any_value(content_type) as content_type,
        any_value(estimated_minutes) as estimated_minutes,
        count(*) filter (where verb = 'viewed') as views,
        count(*) filter (where verb = 'started') as starts,
        count(*) filter (where verb = 'completed') as completions,
        coalesce(sum(duration_s) filter (where verb = 'completed'), 0) as time_spent_s,
        coalesce(sum(duration_s) filter (where verb in ('played', 'paused')), 0) as played_s
    from item_events
    group by item_id, learner_id
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
