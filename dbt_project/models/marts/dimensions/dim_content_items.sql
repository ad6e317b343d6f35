-- Content items of the core API, with the module order that gives them their place.
select
    i.item_id,
    i.module_id,
    i.course_id,
    i.position,
    -- The item's place in its course: modules in order, then items in order within each.
    coalesce(m.position, 0) * 1000 + i.position as position_in_course,
    i.content_type,
    i.title,
    -- The start of the item's text (a lesson's Markdown): what places an item no learner has
    -- opened yet. Not the whole body: an imported book section can run to tens of kilobytes.
    left(coalesce(i.body, ''), 1000) as text_excerpt,
    i.skills,
    i.difficulty,
    i.estimated_minutes,
    i.prerequisites,
    i.updated_at
from {{ ref('stg_core__content_items') }} as i
left join {{ ref('stg_core__modules') }} as m using (module_id)
