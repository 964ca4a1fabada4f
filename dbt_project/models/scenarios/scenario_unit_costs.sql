-- Every stored proposal's unit costs, as `vipwh scenario run` stored them
-- (raw.proposal_unit_costs), published beside the scenario's results. The rating and benefit models read the rule
-- rows through stg_rules__ instead.
select
    scenario_id,
    rulebook_id,
    service_code,
    variant,
    unit_cost,
    assumption
from {{ source('raw', 'proposal_unit_costs') }}
