-- Every stored proposal's rulebooks, as `vipwh scenario run` stored them
-- (raw.proposal_rulebooks), published beside the scenario's results. The rating and benefit models read the rule
-- rows through stg_rules__ instead.
select
    scenario_id,
    rulebook_id,
    effective_from,
    effective_until,
    description
from {{ source('raw', 'proposal_rulebooks') }}
