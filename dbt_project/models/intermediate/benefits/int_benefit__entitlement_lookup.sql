-- The entitlement a use matches (RULES.md §6, docs/decisions_benefits.md "is_eligible_variant"): one row per
-- rulebook × service × entitled tier × variant key (int_benefit__entitlement_variant_keys) that matches a
-- row of the matrix, with that row's variant (null = the any-variant row) and its pool's quota_kind and
-- quota. A key matches its exact variant first, else the tier's any-variant row; '~none' (no variant named)
-- also matches the tier's single pool (its first variant) unless the service requires a variant. No row =
-- the variant is not eligible at that tier.
--
-- The rulebooks in force only (scenario_id null). A table: a few hundred rows, read by the judgement (a view
-- read several times), the entitlement statement and the quota layouts, so the ranking runs once.
with

entitlements as (
    select * from {{ ref('stg_rules__entitlements') }}
    where scenario_id is null
),

services as (
    select * from {{ ref('stg_rules__services') }}
),

variant_keys as (
    select * from {{ ref('int_benefit__entitlement_variant_keys') }}
),

entitled_tiers as (
    select * from {{ ref('int_benefit__entitlement_tiers') }}
    where scenario_id is null
),

pools as (
    select * from {{ ref('int_benefit__entitlement_pools') }}
    where scenario_id is null
),

-- each matrix row with its pool, as int_benefit__entitlement_pools keys it
matrix_rows as (
    select
        rulebook_id,
        service_code,
        tier_code,
        variant,
        {{ entitlement_pool_key() }} as pool_key
    from entitlements
),

candidates as (
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
    from entitled_tiers
    inner join variant_keys
        on entitled_tiers.service_code = variant_keys.service_code
    inner join matrix_rows
        on
            entitled_tiers.rulebook_id = matrix_rows.rulebook_id
            and entitled_tiers.service_code = matrix_rows.service_code
            and entitled_tiers.tier_code = matrix_rows.tier_code
    inner join services as catalogue
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

final as (
    select
        candidates.rulebook_id,
        candidates.service_code,
        candidates.tier_code,
        candidates.variant_key,
        candidates.entitlement_variant,
        candidates.pool_key,
        pools.quota_kind,
        pools.quota
    from candidates
    inner join pools
        on
            candidates.rulebook_id = pools.rulebook_id
            and candidates.service_code = pools.service_code
            and candidates.tier_code = pools.tier_code
            and candidates.pool_key = pools.pool_key
    where candidates.match_rank = 1
)

select * from final
