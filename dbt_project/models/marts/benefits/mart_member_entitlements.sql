-- The entitlement statement: one row per holder × entitlement year × service, for every service entitled at
-- the tier the holder holds at the year's reference date (31 December, or the as-of date for the current
-- year) and every service the holder consumed that year. Quota and remaining are those of that tier; a
-- limited quota is counted per pool (RULES.md §6, decisions in docs/decisions_benefits.md).
with

benefit_usage as (
    select * from {{ ref('fct_benefit_usage') }}
),

tier_history as (
    select * from {{ ref('fct_member_tier_history') }}
),

entitlements as (
    select * from {{ ref('entitlements') }}
),

services as (
    select * from {{ ref('services') }}
),

rulebooks as (
    select * from {{ ref('rulebooks') }}
),

{{ benefit_entitlement_ctes('entitlements', 'services') }},

valuation as (
    select {{ as_of_date() }} as as_of_date
),

history_start as (
    select
        cast({{ dbt.date_trunc('year', 'min(first_date)') }} as date) as first_year_start
    from (
        select min(valid_from) as first_date from tier_history
        union all
        select min(service_date) as first_date from benefit_usage
    ) as first_dates
),

year_offsets as (
    {{ dbt.generate_series(200) }}
),

year_starts as (
    select
        cast({{ dbt.dateadd('year', 'year_offsets.generated_number - 1', 'history_start.first_year_start') }} as date)
            as year_start,
        cast({{ dbt.dateadd('year', 'year_offsets.generated_number', 'history_start.first_year_start') }} as date)
            as next_year_start
    from year_offsets
    cross join history_start
),

entitlement_years as (
    select
        cast(extract(year from year_starts.year_start) as integer) as entitlement_year,
        year_starts.year_start,
        year_starts.next_year_start,
        case
            when cast({{ dbt.dateadd('day', -1, 'year_starts.next_year_start') }} as date) <= valuation.as_of_date
                then cast({{ dbt.dateadd('day', -1, 'year_starts.next_year_start') }} as date)
            else valuation.as_of_date
        end as reference_date,
        cast({{ dbt.dateadd('day', -1, 'year_starts.next_year_start') }} as date) <= valuation.as_of_date
            as is_year_closed
    from year_starts
    cross join valuation
    where year_starts.year_start <= valuation.as_of_date
),

reference_years as (
    select
        entitlement_years.entitlement_year,
        entitlement_years.reference_date,
        entitlement_years.is_year_closed,
        rulebooks_in_force.rulebook_id
    from entitlement_years
    left join rulebooks as rulebooks_in_force
        on entitlement_years.reference_date >= rulebooks_in_force.effective_from
        and (
            rulebooks_in_force.effective_until is null
            or entitlement_years.reference_date < rulebooks_in_force.effective_until
        )
),

reference_tiers as (
    select
        tier_history.holder_id,
        reference_years.entitlement_year,
        tier_history.tier_code
    from tier_history
    inner join reference_years
        on reference_years.reference_date >= tier_history.valid_from
        and reference_years.reference_date < coalesce(tier_history.valid_to, cast('9999-12-31' as date))
),

known_variants as (
    select distinct
        service_code,
        variant_key
    from entitlement_variant_keys
    where variant_key not in ('~none', '~other')
),

consumption as (
    select
        benefit_usage.holder_id,
        benefit_usage.service_code,
        benefit_usage.entitlement_year,
        coalesce(
            known_variants.variant_key,
            case when benefit_usage.variant is null then '~none' else '~other' end
        ) as variant_key,
        sum(benefit_usage.consumed_quantity) as consumed_units
    from benefit_usage
    left join known_variants
        on benefit_usage.service_code = known_variants.service_code
        and benefit_usage.variant = known_variants.variant_key
    where benefit_usage.consumed_quantity > 0
    group by
        benefit_usage.holder_id,
        benefit_usage.service_code,
        benefit_usage.entitlement_year,
        coalesce(
            known_variants.variant_key,
            case when benefit_usage.variant is null then '~none' else '~other' end
        )
),

statement_keys as (
    select
        reference_tiers.holder_id,
        reference_tiers.entitlement_year,
        entitled_tiers.service_code
    from reference_tiers
    inner join reference_years
        on reference_tiers.entitlement_year = reference_years.entitlement_year
    inner join entitlement_tiers as entitled_tiers
        on reference_years.rulebook_id = entitled_tiers.rulebook_id
        and reference_tiers.tier_code = entitled_tiers.tier_code
    union
    select
        consumption.holder_id,
        consumption.entitlement_year,
        consumption.service_code
    from consumption
    inner join reference_years
        on consumption.entitlement_year = reference_years.entitlement_year
),

statement_rows as (
    select
        statement_keys.holder_id,
        statement_keys.entitlement_year,
        statement_keys.service_code,
        reference_years.reference_date,
        reference_years.is_year_closed,
        reference_years.rulebook_id,
        reference_tiers.tier_code,
        entitled_tiers.tier_quota_kind as quota_kind,
        entitled_tiers.pool_count,
        entitled_tiers.service_code is not null as is_entitled
    from statement_keys
    inner join reference_years
        on statement_keys.entitlement_year = reference_years.entitlement_year
    left join reference_tiers
        on statement_keys.holder_id = reference_tiers.holder_id
        and statement_keys.entitlement_year = reference_tiers.entitlement_year
    left join entitlement_tiers as entitled_tiers
        on reference_years.rulebook_id = entitled_tiers.rulebook_id
        and statement_keys.service_code = entitled_tiers.service_code
        and reference_tiers.tier_code = entitled_tiers.tier_code
),

pool_consumption as (
    select
        statement_rows.holder_id,
        statement_rows.entitlement_year,
        statement_rows.service_code,
        pools.pool_key,
        pools.quota_kind,
        pools.quota,
        sum(
            case
                when consumption.entitlement_year = statement_rows.entitlement_year
                    and (
                        statement_rows.pool_count = 1
                        or lookup.pool_key is null
                        or lookup.pool_key = pools.pool_key
                    )
                    then consumption.consumed_units
                else 0
            end
        ) as consumed_in_year,
        sum(
            case
                when statement_rows.pool_count = 1
                    or lookup.pool_key is null
                    or lookup.pool_key = pools.pool_key
                    then coalesce(consumption.consumed_units, 0)
                else 0
            end
        ) as consumed_to_date
    from statement_rows
    inner join entitlement_pools as pools
        on statement_rows.rulebook_id = pools.rulebook_id
        and statement_rows.service_code = pools.service_code
        and statement_rows.tier_code = pools.tier_code
    left join consumption
        on statement_rows.holder_id = consumption.holder_id
        and statement_rows.service_code = consumption.service_code
        and consumption.entitlement_year <= statement_rows.entitlement_year
    left join entitlement_lookup as lookup
        on statement_rows.rulebook_id = lookup.rulebook_id
        and statement_rows.service_code = lookup.service_code
        and statement_rows.tier_code = lookup.tier_code
        and consumption.variant_key = lookup.variant_key
    group by
        statement_rows.holder_id,
        statement_rows.entitlement_year,
        statement_rows.service_code,
        pools.pool_key,
        pools.quota_kind,
        pools.quota
),

pool_balances as (
    select
        holder_id,
        entitlement_year,
        service_code,
        quota_kind,
        quota,
        case
            when quota_kind = 'unlimited' then null
            when quota_kind = 'once' then greatest(quota - consumed_to_date, 0)
            else greatest(quota - consumed_in_year, 0)
        end as remaining
    from pool_consumption
),

service_balances as (
    select
        holder_id,
        entitlement_year,
        service_code,
        case
            when sum(case when quota_kind = 'unlimited' then 1 else 0 end) > 0 then null
            else sum(quota)
        end as quota,
        case
            when sum(case when quota_kind = 'unlimited' then 1 else 0 end) > 0 then null
            else sum(remaining)
        end as remaining,
        case
            when sum(case when quota_kind = 'unlimited' then 1 else 0 end) > 0 then null
            else sum(case when quota_kind = 'per_year' then remaining else 0 end)
        end as per_year_remaining
    from pool_balances
    group by
        holder_id,
        entitlement_year,
        service_code
),

service_consumption as (
    select
        statement_rows.holder_id,
        statement_rows.entitlement_year,
        statement_rows.service_code,
        sum(
            case
                when consumption.entitlement_year = statement_rows.entitlement_year
                    then consumption.consumed_units
                else 0
            end
        ) as consumed,
        sum(coalesce(consumption.consumed_units, 0)) as consumed_to_date
    from statement_rows
    left join consumption
        on statement_rows.holder_id = consumption.holder_id
        and statement_rows.service_code = consumption.service_code
        and consumption.entitlement_year <= statement_rows.entitlement_year
    group by
        statement_rows.holder_id,
        statement_rows.entitlement_year,
        statement_rows.service_code
),

final as (
    select
        statement_rows.holder_id,
        statement_rows.entitlement_year,
        statement_rows.service_code,
        statement_rows.tier_code,
        statement_rows.reference_date,
        statement_rows.rulebook_id,
        statement_rows.is_entitled,
        statement_rows.quota_kind,
        case
            when statement_rows.is_entitled then service_balances.quota
            else cast(0 as decimal(18, 2))
        end as quota,
        cast(coalesce(service_consumption.consumed, 0) as decimal(18, 2)) as consumed,
        cast(coalesce(service_consumption.consumed_to_date, 0) as decimal(18, 2)) as consumed_to_date,
        case
            when statement_rows.is_entitled then service_balances.remaining
            else cast(0 as decimal(18, 2))
        end as remaining,
        case
            when not statement_rows.is_year_closed then null
            when statement_rows.is_entitled then service_balances.per_year_remaining
            else cast(0 as decimal(18, 2))
        end as stranded
    from statement_rows
    left join service_balances
        on statement_rows.holder_id = service_balances.holder_id
        and statement_rows.entitlement_year = service_balances.entitlement_year
        and statement_rows.service_code = service_balances.service_code
    left join service_consumption
        on statement_rows.holder_id = service_consumption.holder_id
        and statement_rows.entitlement_year = service_consumption.entitlement_year
        and statement_rows.service_code = service_consumption.service_code
)

select * from final
