-- Every stored proposal's rating coefficients, as `vipwh scenario run` stored them
-- (raw.proposal_rating_coefficients), published beside the scenario's results. The rating and benefit models read
-- the rule rows through stg_rules__ instead.
select
    scenario_id,
    rulebook_id,
    rule_no,
    policy_type_zh,
    coverage_kind,
    payment_modes,
    min_payment_years,
    max_payment_years,
    product_categories,
    slice_kind,
    base_zh,
    coefficient,
    coefficient_per_payment_year,
    window_anchor,
    window_basis,
    window_years,
    window_end_reason
from {{ source('raw', 'proposal_rating_coefficients') }}
