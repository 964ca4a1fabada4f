-- The quota layouts of the services with a limited quota somewhere in the matrix in force: every way a tier
-- groups the service's uses into pools, and the pool of each variant key in it. 'single' puts every use of
-- the service in one pool '*all*' (the layout of every single-pool tier, and of a tier not entitled); a tier
-- with several pools (layout_key '<rulebook>|<tier>', int_benefit__entitlement_tiers) maps each variant key
-- to its pool (int_benefit__entitlement_lookup) and a key with no pool there to '*' (counted against every
-- pool of the tier). The judgement keeps running quota sums per holder × service × layout × pool.
--
-- The rulebooks in force only (scenario_id null). A table: a few dozen rows, joined to every use of a
-- limited service.
with

entitlements as (
    select * from {{ ref('stg_rules__entitlements') }}
    where scenario_id is null
),

variant_keys as (
    select * from {{ ref('int_benefit__entitlement_variant_keys') }}
),

entitled_tiers as (
    select * from {{ ref('int_benefit__entitlement_tiers') }}
    where scenario_id is null
),

lookup as (
    select * from {{ ref('int_benefit__entitlement_lookup') }}
),

quota_services as (
    select distinct service_code
    from entitlements
    where quota_kind <> 'unlimited'
),

final as (
    select
        variant_keys.service_code,
        'single' as layout_key,
        variant_keys.variant_key,
        '*all*' as pool_key
    from variant_keys
    inner join quota_services
        on variant_keys.service_code = quota_services.service_code
    union all
    select
        entitled_tiers.service_code,
        entitled_tiers.layout_key,
        variant_keys.variant_key,
        coalesce(lookup.pool_key, '*') as pool_key
    from entitled_tiers
    inner join quota_services
        on entitled_tiers.service_code = quota_services.service_code
    inner join variant_keys
        on entitled_tiers.service_code = variant_keys.service_code
    left join lookup
        on
            entitled_tiers.rulebook_id = lookup.rulebook_id
            and entitled_tiers.service_code = lookup.service_code
            and entitled_tiers.tier_code = lookup.tier_code
            and variant_keys.variant_key = lookup.variant_key
    where entitled_tiers.pool_count > 1
)

select * from final
