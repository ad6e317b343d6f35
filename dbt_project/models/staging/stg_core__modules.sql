-- Course modules of the core API, as the lake's snapshot holds them.
select
    module_id,
    course_id,
    position,
    title,
    updated_at
from {{ source('bronze', 'core_modules') }}
