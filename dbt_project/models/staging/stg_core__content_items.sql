-- Content items of the core API, as the lake's snapshot holds them.
select
    item_id,
    module_id,
    course_id,
    position,
    content_type,
    title,
    body,
    skills,
    difficulty,
    estimated_minutes,
    prerequisites,
    updated_at
from {{ source('bronze', 'core_content_items') }}
