-- Content items of the core API, with the module order that gives them their place.
select
    item_id,
    module_id,
    course_id,
    position,
    content_type,
    title,
    -- The start of the item's text (a lesson's Markdown): what places an item no learner has
    -- opened yet. Not the whole body: an imported book section can run to tens of kilobytes.
    left(coalesce(body, ''), 1000) as text_excerpt,
    skills,
    difficulty,
    estimated_minutes,
    prerequisites
from {{ ref('stg_core__content_items') }}
