-- mart_benefit_utilization adds back up to fct_benefit_usage: per entitlement year × service × tier, the
-- uses, consumed units, non-compliant uses, cost and usage rows agree. Returns the rows that do not.
with

usage_totals as (
    select
        entitlement_year,
        service_code,
        coalesce(tier_code_at_service, 'none') as tier_code,
        sum(case when consumed_quantity > 0 then 1 else 0 end) as uses,
        sum(consumed_quantity) as consumed_units,
        sum(case when consumed_quantity > 0 and not is_compliant then 1 else 0 end) as non_compliant_uses,
        sum(cost_amount) as cost_amount,
        count(*) as recorded_uses
    from {{ ref('fct_benefit_usage') }}
    group by
        entitlement_year,
        service_code,
        coalesce(tier_code_at_service, 'none')
),

mart_totals as (
    select
        entitlement_year,
        service_code,
        tier_code,
        uses,
        consumed_units,
        non_compliant_uses,
        cost_amount,
        recorded_uses
    from {{ ref('mart_benefit_utilization') }}
),

compared as (
    select
        coalesce(usage_totals.entitlement_year, mart_totals.entitlement_year) as entitlement_year,
        coalesce(usage_totals.service_code, mart_totals.service_code) as service_code,
        coalesce(usage_totals.tier_code, mart_totals.tier_code) as tier_code,
        coalesce(usage_totals.uses, 0) as usage_uses,
        coalesce(mart_totals.uses, 0) as mart_uses,
        coalesce(usage_totals.consumed_units, 0) as usage_consumed_units,
        coalesce(mart_totals.consumed_units, 0) as mart_consumed_units,
        coalesce(usage_totals.non_compliant_uses, 0) as usage_non_compliant_uses,
        coalesce(mart_totals.non_compliant_uses, 0) as mart_non_compliant_uses,
        coalesce(usage_totals.cost_amount, 0) as usage_cost_amount,
        coalesce(mart_totals.cost_amount, 0) as mart_cost_amount,
        coalesce(usage_totals.recorded_uses, 0) as usage_recorded_uses,
        coalesce(mart_totals.recorded_uses, 0) as mart_recorded_uses
    from usage_totals
    full outer join mart_totals
        on
            usage_totals.entitlement_year = mart_totals.entitlement_year
            and usage_totals.service_code = mart_totals.service_code
            and usage_totals.tier_code = mart_totals.tier_code
)

select *
from compared
where
    usage_uses <> mart_uses
    or usage_consumed_units <> mart_consumed_units
    or usage_non_compliant_uses <> mart_non_compliant_uses
    or usage_cost_amount <> mart_cost_amount
    or usage_recorded_uses <> mart_recorded_uses
