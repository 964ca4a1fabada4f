-- Every stored proposal's entitlements, as `vipwh scenario run` stored them
-- (raw.proposal_entitlements), published beside the scenario's results. The rating and benefit models read the rule
-- rows through stg_rules__ instead.
select
    scenario_id,
    rulebook_id,
    service_code,
    tier_code,
    variant,
    quota_kind,
    quota,
    quota_group
from {{ source('raw', 'proposal_entitlements') }}
