-- Grades per course in bands of ten points (grade = the learner's mean scaled score x 100).
select
    course_id,
    least(floor(grade * 10)::integer, 9) * 10 as grade_band_start,
    count(*) as learners
from {{ ref('fct_learner_course_state') }}
where grade is not null
group by course_id, grade_band_start
