-- The entitlement matrix per rulebook × service × tier × variant; rows sharing a quota_group share one quota.
with

entitlements as (
    {{ rule_rows('entitlements', [
        'rulebook_id', 'service_code', 'tier_code', 'variant', 'quota_kind', 'quota', 'quota_group',
    ]) }}
),

final as (
    select
        rulebook_id,
        service_code,
        tier_code,
        variant,
        quota_kind,
        quota,
        quota_group,
        scenario_id
    from entitlements
)

select * from final
