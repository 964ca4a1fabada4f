{#-
  CTEs that turn the entitlement matrix (a CTE or relation named by `entitlements`, columns as the
  `entitlements` seed) and the service catalogue (`services`) into lookup tables. Renders, comma-separated,
  with no leading or trailing comma:

  - entitlement_rows: the matrix with `pool_key`. Rows of one rulebook × service × tier sharing a
    `quota_group` share one quota (a "pool"); a row without a group is its own pool.
  - entitlement_pools: rulebook × service × tier × pool: quota_kind and quota (null = unlimited).
  - entitlement_tiers: rulebook × service × tier that is entitled at all: pool_count, layout_key ('single'
    when one pool, otherwise '<rulebook>|<tier>'), tier_quota_kind, tier_quota (sum of the pools; null when
    any pool is unlimited).
  - entitlement_variant_keys: service × variant key. Keys are the variants named in the matrix plus
    '~none' (the use names no variant) and '~other' (a variant the matrix does not name).
  - entitlement_lookup: rulebook × service × tier × variant key -> the entitlement row a use matches
    (exact variant first, then the tier's any-variant row; a use naming no variant matches the tier's single
    pool unless the service requires a variant), with its pool, quota_kind and quota. No row = not eligible.
  - entitlement_variant_allowed: rulebook × service × variant key allowed at some tier of the rulebook.
  - entitlement_quota_layouts: for services with a limited quota somewhere, every way the matrix groups
    variants into pools ("layouts"), and the pool of each variant key in each: 'single' puts every
    use of the service in one pool '*all*'; a multi-pool tier maps each variant to its pool and a variant
    with no pool there to '*' (counted against every pool of that tier).
-#}
{% macro benefit_entitlement_ctes(entitlements='entitlements', services='services') -%}
entitlement_rows as (
    select
        matrix.rulebook_id,
        matrix.service_code,
        matrix.tier_code,
        matrix.variant,
        matrix.quota_kind,
        matrix.quota,
        matrix.quota_group,
        coalesce(
            matrix.quota_group,
            matrix.service_code || ':' || coalesce(matrix.variant, '*')
        ) as pool_key
    from {{ entitlements }} as matrix
),

entitlement_pools as (
    select
        rulebook_id,
        service_code,
        tier_code,
        pool_key,
        max(quota_kind) as quota_kind,
        max(quota) as quota
    from entitlement_rows
    group by
        rulebook_id,
        service_code,
        tier_code,
        pool_key
),

entitlement_tiers as (
    select
        rulebook_id,
        service_code,
        tier_code,
        count(*) as pool_count,
        case
            when count(*) = 1 then 'single'
            else rulebook_id || '|' || tier_code
        end as layout_key,
        case
            when sum(case when quota_kind = 'unlimited' then 1 else 0 end) > 0 then 'unlimited'
            when sum(case when quota_kind = 'once' then 1 else 0 end) = count(*) then 'once'
            else 'per_year'
        end as tier_quota_kind,
        case
            when sum(case when quota_kind = 'unlimited' then 1 else 0 end) > 0 then null
            else sum(quota)
        end as tier_quota
    from entitlement_pools
    group by
        rulebook_id,
        service_code,
        tier_code
),

entitlement_variant_keys as (
    select distinct
        service_code,
        variant as variant_key
    from entitlement_rows
    where variant is not null
    union all
    select distinct
        service_code,
        '~none' as variant_key
    from entitlement_rows
    union all
    select distinct
        service_code,
        '~other' as variant_key
    from entitlement_rows
),

entitlement_lookup_candidates as (
    select
        entitled_tiers.rulebook_id,
        entitled_tiers.service_code,
        entitled_tiers.tier_code,
        variant_keys.variant_key,
        matrix_rows.variant as entitlement_variant,
        matrix_rows.pool_key,
        row_number() over (
            partition by
                entitled_tiers.rulebook_id,
                entitled_tiers.service_code,
                entitled_tiers.tier_code,
                variant_keys.variant_key
            order by
                case
                    when matrix_rows.variant = variant_keys.variant_key then 1
                    when matrix_rows.variant is null then 2
                    else 3
                end,
                matrix_rows.variant
        ) as match_rank
    from entitlement_tiers as entitled_tiers
    inner join entitlement_variant_keys as variant_keys
        on entitled_tiers.service_code = variant_keys.service_code
    inner join entitlement_rows as matrix_rows
        on entitled_tiers.rulebook_id = matrix_rows.rulebook_id
        and entitled_tiers.service_code = matrix_rows.service_code
        and entitled_tiers.tier_code = matrix_rows.tier_code
    inner join {{ services }} as catalogue
        on entitled_tiers.service_code = catalogue.service_code
    where
        matrix_rows.variant = variant_keys.variant_key
        or matrix_rows.variant is null
        or (
            variant_keys.variant_key = '~none'
            and entitled_tiers.pool_count = 1
            and not catalogue.is_variant_required
        )
),

entitlement_lookup as (
    select
        candidates.rulebook_id,
        candidates.service_code,
        candidates.tier_code,
        candidates.variant_key,
        candidates.entitlement_variant,
        candidates.pool_key,
        pools.quota_kind,
        pools.quota
    from entitlement_lookup_candidates as candidates
    inner join entitlement_pools as pools
        on candidates.rulebook_id = pools.rulebook_id
        and candidates.service_code = pools.service_code
        and candidates.tier_code = pools.tier_code
        and candidates.pool_key = pools.pool_key
    where candidates.match_rank = 1
),

entitlement_variant_allowed as (
    select distinct
        rulebook_id,
        service_code,
        variant_key
    from entitlement_lookup
),

entitlement_quota_services as (
    select distinct service_code
    from entitlement_rows
    where quota_kind <> 'unlimited'
),

entitlement_quota_layouts as (
    select
        variant_keys.service_code,
        'single' as layout_key,
        variant_keys.variant_key,
        '*all*' as pool_key
    from entitlement_variant_keys as variant_keys
    inner join entitlement_quota_services as quota_services
        on variant_keys.service_code = quota_services.service_code
    union all
    select
        entitled_tiers.service_code,
        entitled_tiers.layout_key,
        variant_keys.variant_key,
        coalesce(lookup.pool_key, '*') as pool_key
    from entitlement_tiers as entitled_tiers
    inner join entitlement_quota_services as quota_services
        on entitled_tiers.service_code = quota_services.service_code
    inner join entitlement_variant_keys as variant_keys
        on entitled_tiers.service_code = variant_keys.service_code
    left join entitlement_lookup as lookup
        on entitled_tiers.rulebook_id = lookup.rulebook_id
        and entitled_tiers.service_code = lookup.service_code
        and entitled_tiers.tier_code = lookup.tier_code
        and variant_keys.variant_key = lookup.variant_key
    where entitled_tiers.pool_count > 1
)
{%- endmacro %}
