-- Content items of the core API, with the module order that gives them their place.
select
    item_id,
    module_id,
    course_id,
    position,
    content_type,
    title,
    skills,
    difficulty,
    estimated_minutes,
    prerequisites
from {{ ref('stg_core__content_items') }}
