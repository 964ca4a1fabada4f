-- The current year's benefit utilization per month × service × tier (current year = the as-of date's year).
-- Same measures as mart_benefit_utilization; member_years and entitled_units are the month's share of the
-- year (days at tier in the month ÷ days in the year), so twelve months add up to the year.
with

valuation as (
    select {{ as_of_date() }} as as_of_date
),

benefit_usage as (
    select benefit_usage_rows.*
    from {{ ref('fct_benefit_usage') }} as benefit_usage_rows
    cross join valuation
    where benefit_usage_rows.entitlement_year = cast(extract(year from valuation.as_of_date) as integer)
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

month_offsets as (
    {{ dbt.generate_series(12) }}
),

current_year as (
    select
        cast({{ dbt.date_trunc('year', 'valuation.as_of_date') }} as date) as year_start,
        cast({{ dbt.dateadd('year', 1, dbt.date_trunc('year', 'valuation.as_of_date')) }} as date) as next_year_start
    from valuation
),

periods as (
    select
        cast(extract(year from current_year.year_start) as integer) as entitlement_year,
        cast({{ dbt.dateadd('month', 'month_offsets.generated_number - 1', 'current_year.year_start') }} as date)
            as period_start,
        cast({{ dbt.dateadd('month', 'month_offsets.generated_number', 'current_year.year_start') }} as date)
            as period_end,
        {{ dbt.datediff(
            'current_year.year_start', 'current_year.next_year_start', 'day'
        ) }} as days_in_year
    from month_offsets
    cross join current_year
),

{{ benefit_utilization_ctes('month') }},

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
)

select * from final
