-- The entitlement matrix per rulebook × service × tier × variant; rows sharing a quota_group share one quota.
with

entitlements as (
    select
        rulebook_id,
        service_code,
        tier_code,
        variant,
        quota_kind,
        quota,
        quota_group
    from {{ ref('entitlements') }}
    union all
    -- the rulebooks adopted with `vipwh rulebook adopt`
    select
        rulebook_id,
        service_code,
        tier_code,
        variant,
        quota_kind,
        quota,
        quota_group
    from {{ source('raw', 'adopted_entitlements') }}
),

final as (
    select
        rulebook_id,
        service_code,
        tier_code,
        variant,
        quota_kind,
        quota,
        quota_group
    from entitlements
)

select * from final
