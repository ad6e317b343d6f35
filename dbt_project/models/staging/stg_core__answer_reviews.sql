-- Instructors' grades of written answers (the core API's review queue), as the lake's snapshot holds them,
-- on the answer events' scale: a share of the points, right when full marks.
select
    answer_id,
    learner_id,
    course_id,
    item_id,
    reviewed_score / points as score,  -- a double in DuckDB
    reviewed_score = points as is_success,
    updated_at as reviewed_at
from {{ source('bronze', 'core_answer_reviews') }}
