-- Nothing is dropped: every current service use of staging is in fct_benefit_usage exactly once, and
-- fct_benefit_usage holds no other use. Returns the usage_ids that break this.
with

staged as (
    select usage_id
    from {{ ref('int_core__service_usage_resolved') }}
),

judged as (
    select
        usage_id,
        count(*) as judged_rows
    from {{ ref('fct_benefit_usage') }}
    group by usage_id
)

select
    coalesce(staged.usage_id, judged.usage_id) as usage_id,
    judged.judged_rows
from staged
full outer join judged
    on staged.usage_id = judged.usage_id
where
    staged.usage_id is null
    or judged.usage_id is null
    or judged.judged_rows <> 1
