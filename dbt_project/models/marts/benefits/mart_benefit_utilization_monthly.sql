-- The current year's benefit utilization per month × service × tier (current year = the as-of date's year).
-- Same measures as mart_benefit_utilization; member_years and entitled_units are the month's share of the
-- year (days at tier in the month ÷ days in the year), so twelve months add up to the year. Computed in
-- int_benefit__utilization (its 'month' grain).
with

utilization as (
    select * from {{ ref('int_benefit__utilization') }}
),

final as (
    select
        entitlement_year,
        period_start as month_start,
        service_code,
        tier_code,
        member_years,
        members,
        users,
        uses,
        consumed_units,
        entitled_units,
        utilization_rate,
        non_compliant_uses,
        cost_amount,
        recorded_uses,
        uses_per_member_year
    from utilization
    where period_grain = 'month'
)

select * from final
