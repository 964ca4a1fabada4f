-- Exposure-weighted benefit utilization per period × service × tier, at two grains (period_grain): 'year',
-- every entitlement year from the first tier interval's to the as-of date's (mart_benefit_utilization), and
-- 'month', the months of the as-of date's year (mart_benefit_utilization_monthly). One computation for both:
-- a month's figures are the year's, over the month.
--
-- Exposure never expands to days: each tier interval [valid_from, valid_to) is intersected with each period
-- and each rulebook's [effective_from, effective_until), clipped at the as-of date (an open interval counts
-- through the as-of date), and measured in days; member_years = days ÷ days in the calendar year, so twelve
-- months add up to the year. entitled_units = quota × member_years. Uses count at the tier of their service
-- date ('none' = out of the programme). Rows: every tier × service entitled in a period with exposure, and
-- every tier × service used.
--
-- Ratios are computed in double precision from the exact day counts and rounded once, by the final cast to
-- decimal(18, 6): decimal division rounds intermediate results differently per engine (Spark caps the scale
-- at 6 digits before the second division, DuckDB does not), double division is IEEE on both.
--
-- In a build by holder only the periods from the first one that can have changed are computed; the earlier
-- periods' rows are this table's own, as the last build left them (macros/changed_from.sql).
{%- set far_future = "cast('9999-12-31' as date)" %}
{%- set year_from = changed_from('year') %}
{%- set month_from = changed_from('month') %}
with

-- the uses, read once per grain (no large CTE is referenced twice)
usage_for_years as (
    select * from {{ ref('fct_benefit_usage') }}
),

usage_for_months as (
    select * from {{ ref('fct_benefit_usage') }}
),

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
    where scenario_id is null
),

entitlement_tiers as (
    select * from {{ ref('int_benefit__entitlement_tiers') }}
    where scenario_id is null
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

month_offsets as (
    {{ dbt.generate_series(12) }}
),

current_year as (
    select
        cast({{ dbt.date_trunc('year', 'valuation.as_of_date') }} as date) as year_start,
        cast({{ dbt.dateadd('year', 1, dbt.date_trunc('year', 'valuation.as_of_date')) }} as date) as next_year_start
    from valuation
),

year_bounds as (
    select
        cast({{ dbt.dateadd('year', 'year_offsets.generated_number - 1', 'history_start.first_year_start') }} as date)
            as period_start,
        cast({{ dbt.dateadd('year', 'year_offsets.generated_number', 'history_start.first_year_start') }} as date)
            as period_end
    from year_offsets
    cross join history_start
),

periods as (
    select
        'year' as period_grain,
        cast(extract(year from year_bounds.period_start) as integer) as entitlement_year,
        year_bounds.period_start,
        year_bounds.period_end,
        {{ dbt.datediff(
            'year_bounds.period_start', 'year_bounds.period_end', 'day'
        ) }} as days_in_year
    from year_bounds
    cross join valuation
    where year_bounds.period_start <= valuation.as_of_date
    {%- if year_from %}
        and year_bounds.period_start >= {{ year_from }}
    {%- endif %}
    union all
    select
        'month' as period_grain,
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
    {%- if month_from %}
    where {{ dbt.dateadd('month', 'month_offsets.generated_number - 1', 'current_year.year_start') }} >= {{ month_from }}
    {%- endif %}
),

period_rulebooks as (
    select
        periods.period_grain,
        periods.entitlement_year,
        periods.period_start,
        periods.days_in_year,
        rulebooks_in_force.rulebook_id,
        greatest(periods.period_start, rulebooks_in_force.effective_from) as segment_start,
        least(
            periods.period_end,
            coalesce(rulebooks_in_force.effective_until, {{ far_future }}),
            cast({{ dbt.dateadd('day', 1, 'valuation.as_of_date') }} as date)
        ) as segment_end
    from periods
    cross join valuation
    inner join rulebooks as rulebooks_in_force
        on
            periods.period_end > rulebooks_in_force.effective_from
            and periods.period_start < coalesce(rulebooks_in_force.effective_until, {{ far_future }})
),

exposure_segments as (
    select
        tier_history.holder_id,
        tier_history.tier_code,
        period_rulebooks.period_grain,
        period_rulebooks.entitlement_year,
        period_rulebooks.period_start,
        period_rulebooks.rulebook_id,
        period_rulebooks.days_in_year,
        {{ dbt.datediff(
            'greatest(tier_history.valid_from, period_rulebooks.segment_start)',
            'least(coalesce(tier_history.valid_to, ' ~ far_future ~ '), period_rulebooks.segment_end)',
            'day'
        ) }} as exposure_days
    from tier_history
    inner join period_rulebooks
        on
            tier_history.valid_from < period_rulebooks.segment_end
            and coalesce(tier_history.valid_to, {{ far_future }}) > period_rulebooks.segment_start
    where period_rulebooks.segment_start < period_rulebooks.segment_end
),

tier_exposure as (
    select
        period_grain,
        entitlement_year,
        period_start,
        tier_code,
        cast(sum(exposure_days) as double) / max(days_in_year) as member_years,
        count(distinct holder_id) as members
    from exposure_segments
    group by
        period_grain,
        entitlement_year,
        period_start,
        tier_code
),

rulebook_exposure as (
    select
        period_grain,
        entitlement_year,
        period_start,
        tier_code,
        rulebook_id,
        max(days_in_year) as days_in_year,
        sum(exposure_days) as exposure_days
    from exposure_segments
    group by
        period_grain,
        entitlement_year,
        period_start,
        tier_code,
        rulebook_id
),

entitled_exposure as (
    select
        rulebook_exposure.period_grain,
        rulebook_exposure.entitlement_year,
        rulebook_exposure.period_start,
        rulebook_exposure.tier_code,
        entitled_tiers.service_code,
        case
            when sum(case when entitled_tiers.tier_quota_kind = 'unlimited' then 1 else 0 end) > 0 then null
            else
                cast(sum(rulebook_exposure.exposure_days * entitled_tiers.tier_quota) as double)
                / max(rulebook_exposure.days_in_year)
        end as entitled_units
    from rulebook_exposure
    inner join entitlement_tiers as entitled_tiers
        on
            rulebook_exposure.rulebook_id = entitled_tiers.rulebook_id
            and rulebook_exposure.tier_code = entitled_tiers.tier_code
    group by
        rulebook_exposure.period_grain,
        rulebook_exposure.entitlement_year,
        rulebook_exposure.period_start,
        rulebook_exposure.tier_code,
        entitled_tiers.service_code
),

-- every use in its year; the uses of the as-of date's year in their month too
usage_periods as (
    select
        'year' as period_grain,
        usage_for_years.entitlement_year,
        cast({{ dbt.date_trunc('year', 'usage_for_years.service_date') }} as date) as period_start,
        usage_for_years.service_code,
        coalesce(usage_for_years.tier_code_at_service, 'none') as tier_code,
        usage_for_years.holder_id,
        usage_for_years.consumed_quantity,
        usage_for_years.is_compliant,
        usage_for_years.cost_amount
    from usage_for_years
    {%- if year_from %}
    where usage_for_years.service_date >= {{ year_from }}
    {%- endif %}
    union all
    select
        'month' as period_grain,
        usage_for_months.entitlement_year,
        cast({{ dbt.date_trunc('month', 'usage_for_months.service_date') }} as date) as period_start,
        usage_for_months.service_code,
        coalesce(usage_for_months.tier_code_at_service, 'none') as tier_code,
        usage_for_months.holder_id,
        usage_for_months.consumed_quantity,
        usage_for_months.is_compliant,
        usage_for_months.cost_amount
    from usage_for_months
    cross join valuation
    where usage_for_months.entitlement_year = cast(extract(year from valuation.as_of_date) as integer)
    {%- if month_from %}
        and usage_for_months.service_date >= {{ month_from }}
    {%- endif %}
),

usage_summary as (
    select
        period_grain,
        entitlement_year,
        period_start,
        service_code,
        tier_code,
        count(distinct case when consumed_quantity > 0 then holder_id end) as users,
        sum(case when consumed_quantity > 0 then 1 else 0 end) as uses,
        sum(consumed_quantity) as consumed_units,
        sum(case when consumed_quantity > 0 and not is_compliant then 1 else 0 end) as non_compliant_uses,
        sum(cost_amount) as cost_amount,
        count(*) as recorded_uses
    from usage_periods
    group by
        period_grain,
        entitlement_year,
        period_start,
        service_code,
        tier_code
),

utilization_keys as (
    select
        period_grain,
        entitlement_year,
        period_start,
        service_code,
        tier_code
    from entitled_exposure
    union
    select
        period_grain,
        entitlement_year,
        period_start,
        service_code,
        tier_code
    from usage_summary
),

final as (
    select
        utilization_keys.period_grain,
        utilization_keys.entitlement_year,
        utilization_keys.period_start,
        utilization_keys.service_code,
        utilization_keys.tier_code,
        cast(coalesce(tier_exposure.member_years, 0) as decimal(18, 6)) as member_years,
        coalesce(tier_exposure.members, 0) as members,
        coalesce(usage_summary.users, 0) as users,
        cast(coalesce(usage_summary.uses, 0) as bigint) as uses,
        cast(coalesce(usage_summary.consumed_units, 0) as decimal(18, 2)) as consumed_units,
        case
            when entitled_exposure.service_code is null then cast(0 as decimal(18, 6))
            else cast(entitled_exposure.entitled_units as decimal(18, 6))
        end as entitled_units,
        cast(
            cast(coalesce(usage_summary.consumed_units, 0) as double) / nullif(entitled_exposure.entitled_units, 0)
            as decimal(18, 6)
        ) as utilization_rate,
        cast(
            cast(coalesce(usage_summary.uses, 0) as double) / nullif(tier_exposure.member_years, 0)
            as decimal(18, 6)
        ) as uses_per_member_year,
        cast(coalesce(usage_summary.non_compliant_uses, 0) as bigint) as non_compliant_uses,
        cast(coalesce(usage_summary.cost_amount, 0) as decimal(18, 2)) as cost_amount,
        coalesce(usage_summary.recorded_uses, 0) as recorded_uses
    from utilization_keys
    left join tier_exposure
        on
            utilization_keys.period_grain = tier_exposure.period_grain
            and utilization_keys.entitlement_year = tier_exposure.entitlement_year
            and utilization_keys.period_start = tier_exposure.period_start
            and utilization_keys.tier_code = tier_exposure.tier_code
    left join entitled_exposure
        on
            utilization_keys.period_grain = entitled_exposure.period_grain
            and utilization_keys.entitlement_year = entitled_exposure.entitlement_year
            and utilization_keys.period_start = entitled_exposure.period_start
            and utilization_keys.tier_code = entitled_exposure.tier_code
            and utilization_keys.service_code = entitled_exposure.service_code
    left join usage_summary
        on
            utilization_keys.period_grain = usage_summary.period_grain
            and utilization_keys.entitlement_year = usage_summary.entitlement_year
            and utilization_keys.period_start = usage_summary.period_start
            and utilization_keys.tier_code = usage_summary.tier_code
            and utilization_keys.service_code = usage_summary.service_code
)

select * from final
{%- if year_from %}
union all
select * from {{ this }}
where
    (period_grain = 'year' and period_start < {{ year_from }})
    or (period_grain = 'month' and period_start < {{ month_from }})
{%- endif %}
