-- Benefit utilization per entitlement year × service × tier, exposure-weighted: member_years are the days
-- holders spent at the tier in the year (through the as-of date) ÷ days in the year; entitled_units are
-- quota × member_years. Uses are attributed to the tier on their service date ('none' = out of the
-- programme). Rows: every tier × service entitled in a year with exposure, and every tier × service used.
with

benefit_usage as (
    select * from {{ ref('fct_benefit_usage') }}
),

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
),

entitlements as (
    select * from {{ ref('stg_rules__entitlements') }}
),

services as (
    select * from {{ ref('stg_rules__services') }}
),

valuation as (
    select {{ as_of_date() }} as as_of_date
),

history_start as (
    select
        cast({{ dbt.date_trunc('year', 'min(valid_from)') }} as date) as first_year_start
    from {{ ref('fct_member_tier_history') }}
),

year_offsets as (
    {{ dbt.generate_series(200) }}
),

periods as (
    select
        cast(extract(year from period_bounds.period_start) as integer) as entitlement_year,
        period_bounds.period_start,
        period_bounds.period_end,
        {{ dbt.datediff(
            'period_bounds.period_start', 'period_bounds.period_end', 'day'
        ) }} as days_in_year
    from (
        select
            cast({{ dbt.dateadd(
                'year', 'year_offsets.generated_number - 1', 'history_start.first_year_start'
            ) }} as date)
                as period_start,
            cast({{ dbt.dateadd('year', 'year_offsets.generated_number', 'history_start.first_year_start') }} as date)
                as period_end
        from year_offsets
        cross join history_start
    ) as period_bounds
    cross join valuation
    where period_bounds.period_start <= valuation.as_of_date
),

{{ benefit_utilization_ctes('year') }},

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
)

select * from final
