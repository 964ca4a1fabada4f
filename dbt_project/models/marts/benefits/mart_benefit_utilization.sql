-- Benefit utilization per entitlement year × service × tier, exposure-weighted: member_years are the days
-- holders spent at the tier in the year (through the as-of date) ÷ days in the year; entitled_units are
-- quota × member_years. Uses are attributed to the tier on their service date ('none' = out of the
-- programme). Rows: every tier × service entitled in a year with exposure, and every tier × service used.
-- Computed in int_benefit__utilization (its 'year' grain).
with

utilization as (
    select * from {{ ref('int_benefit__utilization') }}
),

final as (
    select
        entitlement_year,
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
    where period_grain = 'year'
)

select * from final
