-- The entitlement statement: one row per holder × entitlement year × service, for every service entitled at
-- the tier the holder holds at the year's reference date (31 December, or the as-of date for the current
-- year) and every other service the holder consumed that year. Quota and remaining are those of that tier;
-- a limited quota is counted per pool (RULES.md §6, decisions in docs/decisions_benefits.md).
--
-- Three kinds of rows, computed apart so that the bulk (single-pool, per-year or unlimited entitlements)
-- takes one hash join: simple_rows; special_rows (once quotas and tiers with several pools, e.g. home_care
-- at star4, counted pool by pool); consumed_only_rows (services used but not entitled on the reference date).
with

benefit_usage as (
    select * from {{ ref('fct_benefit_usage') }}
),

-- Read again (no large CTE is referenced twice): per-variant consumption of the services with special
-- quotas, and the first days of history.
benefit_usage_by_variant as (
    select * from {{ ref('fct_benefit_usage') }}
),

first_service as (
    select min(service_date) as first_service_date from {{ ref('fct_benefit_usage') }}
),

first_tier as (
    select min(valid_from) as first_valid_from from {{ ref('fct_member_tier_history') }}
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

entitlement_pools as (
    select * from {{ ref('int_benefit__entitlement_pools') }}
    where scenario_id is null
),

entitlement_variant_keys as (
    select * from {{ ref('int_benefit__entitlement_variant_keys') }}
),

entitlement_lookup as (
    select * from {{ ref('int_benefit__entitlement_lookup') }}
),

valuation as (
    select {{ as_of_date() }} as as_of_date
),

-- The first year is that of the earliest tier or use of the holders computed: in a build by holder, of the
-- touched holders, whose rows start no earlier; so a holder's rows do not depend on which others are computed.
history_start as (
    select
        cast(
            {{ dbt.date_trunc('year', 'least(first_tier.first_valid_from, first_service.first_service_date)') }}
            as date
        ) as first_year_start
    from first_tier
    cross join first_service
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
        on
            entitlement_years.reference_date >= rulebooks_in_force.effective_from
            and (
                rulebooks_in_force.effective_until is null
                or entitlement_years.reference_date < rulebooks_in_force.effective_until
            )
),

reference_tiers as (
    select
        tier_history.holder_id,
        reference_years.entitlement_year,
        reference_years.reference_date,
        reference_years.is_year_closed,
        reference_years.rulebook_id,
        tier_history.tier_code
    from tier_history
    inner join reference_years
        on
            tier_history.valid_from <= reference_years.reference_date
            and reference_years.reference_date < coalesce(tier_history.valid_to, cast('9999-12-31' as date))
),

service_consumption as (
    select
        holder_id,
        entitlement_year,
        service_code,
        sum(consumed_quantity) as consumed
    from benefit_usage
    where consumed_quantity > 0
    group by
        holder_id,
        entitlement_year,
        service_code
),

special_tiers as (
    select
        rulebook_id,
        service_code,
        tier_code,
        tier_quota_kind
    from entitlement_tiers
    where
        pool_count > 1
        or tier_quota_kind = 'once'
),

special_services as (
    select distinct service_code
    from special_tiers
),

simple_rows as (
    select
        reference_tiers.holder_id,
        reference_tiers.entitlement_year,
        entitled_tiers.service_code,
        reference_tiers.tier_code,
        reference_tiers.reference_date,
        reference_tiers.rulebook_id,
        true as is_entitled,
        entitled_tiers.tier_quota_kind as quota_kind,
        entitled_tiers.tier_quota as quota,
        coalesce(service_consumption.consumed, 0) as consumed,
        case
            when entitled_tiers.tier_quota_kind = 'unlimited' then null
            else greatest(entitled_tiers.tier_quota - coalesce(service_consumption.consumed, 0), 0)
        end as remaining,
        case
            when not reference_tiers.is_year_closed then null
            when entitled_tiers.tier_quota_kind = 'unlimited' then null
            else greatest(entitled_tiers.tier_quota - coalesce(service_consumption.consumed, 0), 0)
        end as stranded
    from reference_tiers
    inner join entitlement_tiers as entitled_tiers
        on
            reference_tiers.rulebook_id = entitled_tiers.rulebook_id
            and reference_tiers.tier_code = entitled_tiers.tier_code
    left join special_tiers
        on
            entitled_tiers.rulebook_id = special_tiers.rulebook_id
            and entitled_tiers.service_code = special_tiers.service_code
            and entitled_tiers.tier_code = special_tiers.tier_code
    left join service_consumption
        on
            reference_tiers.holder_id = service_consumption.holder_id
            and reference_tiers.entitlement_year = service_consumption.entitlement_year
            and entitled_tiers.service_code = service_consumption.service_code
    where special_tiers.service_code is null
),

known_variants as (
    select distinct
        service_code,
        variant_key
    from entitlement_variant_keys
    where variant_key not in ('~none', '~other')
),

variant_consumption as (
    select
        usage_rows.holder_id,
        usage_rows.service_code,
        usage_rows.entitlement_year,
        coalesce(
            known_variants.variant_key,
            case when usage_rows.variant is null then '~none' else '~other' end
        ) as variant_key,
        sum(usage_rows.consumed_quantity) as consumed_units
    from benefit_usage_by_variant as usage_rows
    inner join special_services
        on usage_rows.service_code = special_services.service_code
    left join known_variants
        on
            usage_rows.service_code = known_variants.service_code
            and usage_rows.variant = known_variants.variant_key
    where usage_rows.consumed_quantity > 0
    group by
        usage_rows.holder_id,
        usage_rows.service_code,
        usage_rows.entitlement_year,
        coalesce(
            known_variants.variant_key,
            case when usage_rows.variant is null then '~none' else '~other' end
        )
),

special_pools as (
    select
        reference_tiers.holder_id,
        reference_tiers.entitlement_year,
        special_tiers.service_code,
        reference_tiers.tier_code,
        reference_tiers.reference_date,
        reference_tiers.rulebook_id,
        reference_tiers.is_year_closed,
        special_tiers.tier_quota_kind,
        entitled_tiers.pool_count,
        pools.pool_key,
        pools.quota_kind,
        pools.quota
    from reference_tiers
    inner join special_tiers
        on
            reference_tiers.rulebook_id = special_tiers.rulebook_id
            and reference_tiers.tier_code = special_tiers.tier_code
    inner join entitlement_tiers as entitled_tiers
        on
            special_tiers.rulebook_id = entitled_tiers.rulebook_id
            and special_tiers.service_code = entitled_tiers.service_code
            and special_tiers.tier_code = entitled_tiers.tier_code
    inner join entitlement_pools as pools
        on
            special_tiers.rulebook_id = pools.rulebook_id
            and special_tiers.service_code = pools.service_code
            and special_tiers.tier_code = pools.tier_code
),

-- A consumed variant counts against its pool at the reference tier; a variant with no pool there counts
-- against every pool of the tier; with a single pool, everything counts against it.
special_pool_balances as (
    select
        special_pools.holder_id,
        special_pools.entitlement_year,
        special_pools.service_code,
        special_pools.tier_code,
        special_pools.reference_date,
        special_pools.rulebook_id,
        special_pools.is_year_closed,
        special_pools.tier_quota_kind,
        special_pools.pool_key,
        special_pools.quota_kind,
        special_pools.quota,
        sum(
            case
                when variant_consumption.entitlement_year = special_pools.entitlement_year
                    then variant_consumption.consumed_units
                else 0
            end
        ) as consumed_in_year,
        sum(
            case
                when
                    variant_consumption.entitlement_year = special_pools.entitlement_year
                    and (
                        special_pools.pool_count = 1
                        or lookup.pool_key is null
                        or lookup.pool_key = special_pools.pool_key
                    )
                    then variant_consumption.consumed_units
                else 0
            end
        ) as pool_consumed_in_year,
        sum(
            case
                when
                    special_pools.pool_count = 1
                    or lookup.pool_key is null
                    or lookup.pool_key = special_pools.pool_key
                    then coalesce(variant_consumption.consumed_units, 0)
                else 0
            end
        ) as pool_consumed_to_date
    from special_pools
    left join variant_consumption
        on
            special_pools.holder_id = variant_consumption.holder_id
            and special_pools.service_code = variant_consumption.service_code
            and special_pools.entitlement_year >= variant_consumption.entitlement_year
    left join entitlement_lookup as lookup
        on
            special_pools.rulebook_id = lookup.rulebook_id
            and special_pools.service_code = lookup.service_code
            and special_pools.tier_code = lookup.tier_code
            and variant_consumption.variant_key = lookup.variant_key
    group by
        special_pools.holder_id,
        special_pools.entitlement_year,
        special_pools.service_code,
        special_pools.tier_code,
        special_pools.reference_date,
        special_pools.rulebook_id,
        special_pools.is_year_closed,
        special_pools.tier_quota_kind,
        special_pools.pool_key,
        special_pools.quota_kind,
        special_pools.quota
),

special_rows as (
    select
        holder_id,
        entitlement_year,
        service_code,
        tier_code,
        reference_date,
        rulebook_id,
        true as is_entitled,
        tier_quota_kind as quota_kind,
        case
            when sum(case when quota_kind = 'unlimited' then 1 else 0 end) > 0 then null
            else sum(quota)
        end as quota,
        max(consumed_in_year) as consumed,
        case
            when sum(case when quota_kind = 'unlimited' then 1 else 0 end) > 0 then null
            else sum(
                case
                    when quota_kind = 'once' then greatest(quota - pool_consumed_to_date, 0)
                    else greatest(quota - pool_consumed_in_year, 0)
                end
            )
        end as remaining,
        case
            when not is_year_closed then null
            when sum(case when quota_kind = 'unlimited' then 1 else 0 end) > 0 then null
            else sum(
                case
                    when quota_kind = 'per_year' then greatest(quota - pool_consumed_in_year, 0)
                    else 0
                end
            )
        end as stranded
    from special_pool_balances
    group by
        holder_id,
        entitlement_year,
        service_code,
        tier_code,
        reference_date,
        rulebook_id,
        is_year_closed,
        tier_quota_kind
),

consumed_only_rows as (
    select
        service_consumption.holder_id,
        service_consumption.entitlement_year,
        service_consumption.service_code,
        reference_tiers.tier_code,
        reference_years.reference_date,
        reference_years.rulebook_id,
        false as is_entitled,
        cast(null as {{ dbt.type_string() }}) as quota_kind,
        cast(0 as decimal(18, 2)) as quota,
        service_consumption.consumed,
        cast(0 as decimal(18, 2)) as remaining,
        case when reference_years.is_year_closed then cast(0 as decimal(18, 2)) end as stranded
    from service_consumption
    inner join reference_years
        on service_consumption.entitlement_year = reference_years.entitlement_year
    left join reference_tiers
        on
            service_consumption.holder_id = reference_tiers.holder_id
            and service_consumption.entitlement_year = reference_tiers.entitlement_year
    left join entitlement_tiers as entitled_tiers
        on
            reference_years.rulebook_id = entitled_tiers.rulebook_id
            and service_consumption.service_code = entitled_tiers.service_code
            and reference_tiers.tier_code = entitled_tiers.tier_code
    where entitled_tiers.service_code is null
),

statement_rows as (
    select * from simple_rows
    union all
    select * from special_rows
    union all
    select * from consumed_only_rows
),

-- The reference date (31 December, or the valuation date for the open year) is a fact of the year, not of
-- the row: it is not a column, so an untouched holder's rows stay the same when the valuation date moves and
-- builds by holder recompute only the touched holders' statements (docs/decisions.md, "The entitlement
-- statement carries no reference date"). The open year's rows are as of marts.build_info.as_of_date.
final as (
    select
        holder_id,
        entitlement_year,
        service_code,
        tier_code,
        rulebook_id,
        is_entitled,
        quota_kind,
        cast(quota as decimal(18, 2)) as quota,
        cast(consumed as decimal(18, 2)) as consumed,
        cast(remaining as decimal(18, 2)) as remaining,
        cast(stranded as decimal(18, 2)) as stranded
    from statement_rows
)

select * from final
