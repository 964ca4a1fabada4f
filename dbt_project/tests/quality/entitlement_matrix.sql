{{ config(severity='error', meta={'dagster': {'ref': {'name': 'dim_entitlement'}}}) }}
-- RULES §6: dim_entitlement of rulebook handbook_2026 equals the handbook's matrix (seed
-- handbook_fixture/handbook_entitlements) row by row: service × tier × variant, quota kind, quota and
-- shared quota group. Returns the rows missing on either side or differing.
with

entitlements as (
    select
        service_code,
        tier_code,
        coalesce(variant, '*') as variant,
        quota_kind,
        quota,
        quota_group
    from {{ ref('dim_entitlement') }}
    where rulebook_id = 'handbook_2026'
),

handbook as (
    select
        service_code,
        tier_code,
        coalesce(variant, '*') as variant,
        quota_kind,
        quota,
        quota_group
    from {{ ref('handbook_entitlements') }}
),

final as (
    select
        case
            when entitlements.service_code is null then 'handbook entitlement missing'
            when handbook.service_code is null then 'entitlement not in the handbook'
            else 'differs from the handbook'
        end as problem,
        coalesce(entitlements.service_code, handbook.service_code) as service_code,
        coalesce(entitlements.tier_code, handbook.tier_code) as tier_code,
        coalesce(entitlements.variant, handbook.variant) as variant,
        entitlements.quota_kind,
        handbook.quota_kind as handbook_quota_kind,
        entitlements.quota,
        handbook.quota as handbook_quota,
        entitlements.quota_group,
        handbook.quota_group as handbook_quota_group
    from entitlements
    full outer join handbook
        on
            entitlements.service_code = handbook.service_code
            and entitlements.tier_code = handbook.tier_code
            and entitlements.variant = handbook.variant
    where
        entitlements.service_code is null
        or handbook.service_code is null
        or entitlements.quota_kind <> handbook.quota_kind
        or (entitlements.quota is null and handbook.quota is not null)
        or (entitlements.quota is not null and handbook.quota is null)
        or entitlements.quota <> handbook.quota
        or (entitlements.quota_group is null and handbook.quota_group is not null)
        or (entitlements.quota_group is not null and handbook.quota_group is null)
        or entitlements.quota_group <> handbook.quota_group
)

select * from final
