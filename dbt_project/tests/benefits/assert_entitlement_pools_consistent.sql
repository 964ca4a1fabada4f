-- The entitlement matrix is well formed: rows sharing one quota pool (rulebook × service × tier ×
-- quota_group) agree on kind and quota; an unlimited row has no quota, a limited one a positive quota;
-- a pool either names its variants or is open to any variant. Returns the offending pools.
with

entitlement_rows as (
    select
        rulebook_id,
        service_code,
        tier_code,
        variant,
        quota_kind,
        quota,
        coalesce(quota_group, service_code || ':' || coalesce(variant, '*')) as pool_key
    from {{ ref('entitlements') }}
)

select
    rulebook_id,
    service_code,
    tier_code,
    pool_key,
    count(distinct quota_kind) as quota_kinds,
    count(distinct quota) as quotas,
    sum(case when variant is null then 1 else 0 end) as any_variant_rows,
    count(*) as pool_rows
from entitlement_rows
group by
    rulebook_id,
    service_code,
    tier_code,
    pool_key
having
    count(distinct quota_kind) > 1
    or count(distinct quota) > 1
    or sum(case when quota_kind = 'unlimited' and quota is not null then 1 else 0 end) > 0
    or sum(case when quota_kind <> 'unlimited' and (quota is null or quota <= 0) then 1 else 0 end) > 0
    or (sum(case when variant is null then 1 else 0 end) > 0 and count(*) > 1)
