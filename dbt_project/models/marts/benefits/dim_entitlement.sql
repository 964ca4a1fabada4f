-- The entitlement matrix: one row per rulebook × service × tier × variant (variant null = any variant).
-- A tier with no entitlement to a service has no row.
with

entitlements as (
    select * from {{ ref('stg_rules__entitlements') }}
    where scenario_id is null
),

final as (
    select
        rulebook_id || '|' || service_code || '|' || tier_code || '|' || coalesce(variant, '*')
            as entitlement_id,
        rulebook_id,
        service_code,
        tier_code,
        variant,
        quota_kind,
        quota,
        quota_group,
        {{ entitlement_pool_key() }} as quota_pool
    from entitlements
)

select * from final
