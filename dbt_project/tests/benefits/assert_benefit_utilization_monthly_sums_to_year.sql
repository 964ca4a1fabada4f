-- The months of mart_benefit_utilization_monthly add up to the as-of year's row of mart_benefit_utilization:
-- counts and money exactly; member_years and entitled_units within the rounding of twelve 6-decimal terms,
-- for tiers entitled to the service (a row of a service the tier is not entitled to exists only in the
-- months it was used, so its exposure is not a sum of months).
with

monthly_totals as (
    select
        entitlement_year,
        service_code,
        tier_code,
        sum(uses) as uses,
        sum(consumed_units) as consumed_units,
        sum(non_compliant_uses) as non_compliant_uses,
        sum(cost_amount) as cost_amount,
        sum(member_years) as member_years,
        sum(entitled_units) as entitled_units
    from {{ ref('mart_benefit_utilization_monthly') }}
    group by
        entitlement_year,
        service_code,
        tier_code
),

current_year as (
    select distinct entitlement_year
    from monthly_totals
),

annual as (
    select annual_rows.*
    from {{ ref('mart_benefit_utilization') }} as annual_rows
    inner join current_year
        on annual_rows.entitlement_year = current_year.entitlement_year
)

select
    coalesce(annual.service_code, monthly_totals.service_code) as service_code,
    coalesce(annual.tier_code, monthly_totals.tier_code) as tier_code,
    annual.uses as annual_uses,
    monthly_totals.uses as monthly_uses,
    annual.member_years as annual_member_years,
    monthly_totals.member_years as monthly_member_years
from annual
full outer join monthly_totals
    on
        annual.entitlement_year = monthly_totals.entitlement_year
        and annual.service_code = monthly_totals.service_code
        and annual.tier_code = monthly_totals.tier_code
where
    coalesce(annual.uses, 0) <> coalesce(monthly_totals.uses, 0)
    or coalesce(annual.consumed_units, 0) <> coalesce(monthly_totals.consumed_units, 0)
    or coalesce(annual.non_compliant_uses, 0) <> coalesce(monthly_totals.non_compliant_uses, 0)
    or coalesce(annual.cost_amount, 0) <> coalesce(monthly_totals.cost_amount, 0)
    or (
        (annual.entitled_units is null or annual.entitled_units > 0)
        and (
            abs(coalesce(annual.member_years, 0) - coalesce(monthly_totals.member_years, 0)) > 0.00001
            or abs(coalesce(annual.entitled_units, 0) - coalesce(monthly_totals.entitled_units, 0)) > 0.0001
        )
    )
