-- Users of the core API: pseudonymous id and role only (no e-mail or name reaches the lake).
select
    learner_id,
    role,
    is_active,
    created_at
from {{ source('bronze', 'core_users') }}
