-- Member exposure per entitlement year × tier: the one definition of member_years and members. member_years
-- = days holders spent at the tier in the year (through the as-of date) ÷ days in the year, read off the
-- tier-history intervals (never one row per holder per day); members = distinct holders at the tier some day.
{%- set far_future = "cast('9999-12-31' as date)" %}
with

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

valuation as (
    select {{ as_of_date() }} as as_of_date
),

history_start as (
    select
        cast({{ dbt.date_trunc('year', 'min(valid_from)') }} as date) as first_year_start
    from tier_history
),

year_offsets as (
    {{ dbt.generate_series(200) }}
),

year_bounds as (
    select
        cast({{ dbt.dateadd('year', 'year_offsets.generated_number - 1', 'history_start.first_year_start') }} as date)
            as period_start,
        cast({{ dbt.dateadd('year', 'year_offsets.generated_number', 'history_start.first_year_start') }} as date)
            as period_end
    from year_offsets
    cross join history_start
    where history_start.first_year_start is not null
),

periods as (
    select
        cast(extract(year from year_bounds.period_start) as integer) as entitlement_year,
        year_bounds.period_start,
        least(
            year_bounds.period_end,
            cast({{ dbt.dateadd('day', 1, 'valuation.as_of_date') }} as date)
        ) as exposure_end,
        {{ dbt.datediff(
            'year_bounds.period_start', 'year_bounds.period_end', 'day'
        ) }} as days_in_year
    from year_bounds
    cross join valuation
    where year_bounds.period_start <= valuation.as_of_date
),

exposure_segments as (
    select
        periods.entitlement_year,
        periods.days_in_year,
        tier_history.holder_id,
        tier_history.tier_code,
        tier_history.tier_rank,
        {{ dbt.datediff(
            'greatest(tier_history.valid_from, periods.period_start)',
            'least(coalesce(tier_history.valid_to, ' ~ far_future ~ '), periods.exposure_end)',
            'day'
        ) }} as exposure_days
    from tier_history
    inner join periods
        on
            tier_history.valid_from < periods.exposure_end
            and coalesce(tier_history.valid_to, {{ far_future }}) > periods.period_start
),

final as (
    select
        {{ dbt.concat(["cast(entitlement_year as " ~ dbt.type_string() ~ ")", "'/'", "tier_code"]) }}
            as exposure_id,
        entitlement_year,
        tier_code,
        tier_rank,
        cast(cast(sum(exposure_days) as double) / max(days_in_year) as decimal(18, 6)) as member_years,
        count(distinct holder_id) as members,
        cast(sum(exposure_days) as bigint) as exposure_days,  -- bigint on both engines (DuckDB sums to hugeint)
        cast(max(days_in_year) as integer) as days_in_year  -- integer on both engines (DuckDB's datediff is bigint)
    from exposure_segments
    group by
        entitlement_year,
        tier_code,
        tier_rank
)

select * from final
