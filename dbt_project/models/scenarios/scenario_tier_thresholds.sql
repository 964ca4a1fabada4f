-- Every stored proposal's tier thresholds, as `vipwh scenario run` stored them
-- (raw.proposal_tier_thresholds), published beside the scenario's results. The rating and benefit models read the rule
-- rows through stg_rules__ instead.
select
    scenario_id,
    rulebook_id,
    tier_code,
    tier_rank,
    tier_name_zh,
    lower_bound,
    upper_bound
from {{ source('raw', 'proposal_tier_thresholds') }}
