-- Member exposure per entitlement year × month × tier, for trends: member_years = days at the tier in the
-- month (through the as-of date) ÷ days in the year, so a year's months add up to mart_member_exposure;
-- members = distinct holders at the tier some day of the month. In a build by holder only the months from the
-- first one that can have changed are computed; the earlier months' rows are this table's own, as the last build
-- left them (macros/changed_from.sql).
{%- set far_future = "cast('9999-12-31' as date)" %}
{%- set month_from = changed_from('month') %}
with

-- each tier interval with the end of the holder's previous interval at the same tier: a holder counts once per
-- month and tier, at the first of its intervals there (members, below, without a distinct count over every
-- segment of the book)
tier_history as (
    select
        holder_id,
        tier_code,
        tier_rank,
        valid_from,
        valid_to,
        lag(valid_to) over (partition by holder_id, tier_code order by valid_from) as previous_at_tier_until
    from {{ ref('fct_member_tier_history') }}
),

valuation as (
    select {{ as_of_date() }} as as_of_date
),

history_start as (
    select
        cast({{ dbt.date_trunc('year', 'min(valid_from)') }} as date) as first_year_start
    from tier_history
),

month_offsets as (
    {{ dbt.generate_series(2400) }}
),

month_bounds as (
    select
        cast({{ dbt.dateadd('month', 'month_offsets.generated_number - 1', 'history_start.first_year_start') }} as date)
            as month_start,
        cast({{ dbt.dateadd('month', 'month_offsets.generated_number', 'history_start.first_year_start') }} as date)
            as next_month_start
    from month_offsets
    cross join history_start
    where history_start.first_year_start is not null
),

periods as (
    select
        cast(extract(year from month_bounds.month_start) as integer) as entitlement_year,
        month_bounds.month_start,
        least(
            month_bounds.next_month_start,
            cast({{ dbt.dateadd('day', 1, 'valuation.as_of_date') }} as date)
        ) as exposure_end,
        {{ dbt.datediff(
            dbt.date_trunc('year', 'month_bounds.month_start'),
            dbt.dateadd('year', 1, dbt.date_trunc('year', 'month_bounds.month_start')),
            'day'
        ) }} as days_in_year,
        case
            when month_bounds.next_month_start > cast({{ dbt.dateadd('day', 1, 'valuation.as_of_date') }} as date)
                then true
            else false
        end as is_partial_month
    from month_bounds
    cross join valuation
    where month_bounds.month_start <= valuation.as_of_date
    {%- if month_from %}
        and month_bounds.month_start >= {{ month_from }}
    {%- endif %}
),

exposure_segments as (
    select
        periods.entitlement_year,
        periods.month_start,
        periods.days_in_year,
        periods.is_partial_month,
        tier_history.holder_id,
        tier_history.tier_code,
        tier_history.tier_rank,
        -- 0 when an earlier interval of the holder at this tier reaches into the month (counted there already)
        case when tier_history.previous_at_tier_until > periods.month_start then 0 else 1 end as first_at_tier,
        {{ dbt.datediff(
            'greatest(tier_history.valid_from, periods.month_start)',
            'least(coalesce(tier_history.valid_to, ' ~ far_future ~ '), periods.exposure_end)',
            'day'
        ) }} as exposure_days
    from tier_history
    inner join periods
        on
            tier_history.valid_from < periods.exposure_end
            and coalesce(tier_history.valid_to, {{ far_future }}) > periods.month_start
),

final as (
    select
        {{ dbt.concat(["cast(month_start as " ~ dbt.type_string() ~ ")", "'/'", "tier_code"]) }}
            as exposure_month_id,
        entitlement_year,
        month_start,
        tier_code,
        tier_rank,
        cast(cast(sum(exposure_days) as double) / max(days_in_year) as decimal(18, 6)) as member_years,
        cast(sum(first_at_tier) as bigint) as members,
        cast(sum(exposure_days) as bigint) as exposure_days,  -- bigint on both engines (DuckDB sums to hugeint)
        is_partial_month
    from exposure_segments
    group by
        entitlement_year,
        month_start,
        tier_code,
        tier_rank,
        is_partial_month
)

select * from final
{%- if month_from %}
union all
select * from {{ this }}
where month_start < {{ month_from }}
{%- endif %}
