{#-
  Exposure-weighted utilization per period × service × tier. Expects the calling model to define the CTEs
  `benefit_usage` (fct_benefit_usage rows of the periods wanted), `tier_history`, `rulebooks`,
  `entitlements`, `services`, `valuation` (as_of_date) and `periods` (entitlement_year, period_start,
  period_end exclusive, days_in_year). `grain` is the date part of a period ('year' or 'month').
  Renders comma-separated CTEs ending with `utilization`.

  Exposure never expands to days: each tier interval [valid_from, valid_to) is intersected with each
  period and each rulebook's [effective_from, effective_until), clipped at the as-of date (an open interval
  counts through the as-of date), and measured in days; member_years = days ÷ days in the calendar year.

  Ratios are computed in double precision from the exact day counts and rounded once, by the final cast to
  decimal(18, 6): decimal division rounds intermediate results differently per engine (Spark caps the
  scale at 6 digits before the second division, DuckDB does not), double division is IEEE on both.
-#}
{% macro benefit_utilization_ctes(grain) -%}
{%- set far_future = "cast('9999-12-31' as date)" -%}
{{ benefit_entitlement_ctes('entitlements', 'services') }},

period_rulebooks as (
    select
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
        on rulebooks_in_force.effective_from < periods.period_end
        and coalesce(rulebooks_in_force.effective_until, {{ far_future }}) > periods.period_start
),

exposure_segments as (
    select
        tier_history.holder_id,
        tier_history.tier_code,
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
        on tier_history.valid_from < period_rulebooks.segment_end
        and coalesce(tier_history.valid_to, {{ far_future }}) > period_rulebooks.segment_start
    where period_rulebooks.segment_start < period_rulebooks.segment_end
),

tier_exposure as (
    select
        entitlement_year,
        period_start,
        tier_code,
        cast(sum(exposure_days) as double) / max(days_in_year) as member_years,
        count(distinct holder_id) as members
    from exposure_segments
    group by
        entitlement_year,
        period_start,
        tier_code
),

rulebook_exposure as (
    select
        entitlement_year,
        period_start,
        tier_code,
        rulebook_id,
        max(days_in_year) as days_in_year,
        sum(exposure_days) as exposure_days
    from exposure_segments
    group by
        entitlement_year,
        period_start,
        tier_code,
        rulebook_id
),

entitled_exposure as (
    select
        rulebook_exposure.entitlement_year,
        rulebook_exposure.period_start,
        rulebook_exposure.tier_code,
        entitled_tiers.service_code,
        case
            when sum(case when entitled_tiers.tier_quota_kind = 'unlimited' then 1 else 0 end) > 0 then null
            else cast(sum(rulebook_exposure.exposure_days * entitled_tiers.tier_quota) as double)
                / max(rulebook_exposure.days_in_year)
        end as entitled_units
    from rulebook_exposure
    inner join entitlement_tiers as entitled_tiers
        on rulebook_exposure.rulebook_id = entitled_tiers.rulebook_id
        and rulebook_exposure.tier_code = entitled_tiers.tier_code
    group by
        rulebook_exposure.entitlement_year,
        rulebook_exposure.period_start,
        rulebook_exposure.tier_code,
        entitled_tiers.service_code
),

usage_summary as (
    select
        entitlement_year,
        cast({{ dbt.date_trunc(grain, 'service_date') }} as date) as period_start,
        service_code,
        coalesce(tier_code_at_service, 'none') as tier_code,
        count(distinct case when consumed_quantity > 0 then holder_id end) as users,
        sum(case when consumed_quantity > 0 then 1 else 0 end) as uses,
        sum(consumed_quantity) as consumed_units,
        sum(case when consumed_quantity > 0 and not is_compliant then 1 else 0 end) as non_compliant_uses,
        sum(cost_amount) as cost_amount,
        count(*) as recorded_uses
    from benefit_usage
    group by
        entitlement_year,
        cast({{ dbt.date_trunc(grain, 'service_date') }} as date),
        service_code,
        coalesce(tier_code_at_service, 'none')
),

utilization_keys as (
    select
        entitlement_year,
        period_start,
        service_code,
        tier_code
    from entitled_exposure
    union
    select
        entitlement_year,
        period_start,
        service_code,
        tier_code
    from usage_summary
),

utilization as (
    select
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
        on utilization_keys.entitlement_year = tier_exposure.entitlement_year
        and utilization_keys.period_start = tier_exposure.period_start
        and utilization_keys.tier_code = tier_exposure.tier_code
    left join entitled_exposure
        on utilization_keys.entitlement_year = entitled_exposure.entitlement_year
        and utilization_keys.period_start = entitled_exposure.period_start
        and utilization_keys.tier_code = entitled_exposure.tier_code
        and utilization_keys.service_code = entitled_exposure.service_code
    left join usage_summary
        on utilization_keys.entitlement_year = usage_summary.entitlement_year
        and utilization_keys.period_start = usage_summary.period_start
        and utilization_keys.tier_code = usage_summary.tier_code
        and utilization_keys.service_code = usage_summary.service_code
)
{%- endmacro %}
