-- Every stored proposal's services, as `vipwh scenario run` stored them
-- (raw.proposal_services), published beside the scenario's results. The rating and benefit models read the rule
-- rows through stg_rules__ instead.
select
    scenario_id,
    service_code,
    service_group,
    name_zh,
    name_en,
    unit,
    like_service_code,
    take_up,
    units_per_member_year
from {{ source('raw', 'proposal_services') }}
