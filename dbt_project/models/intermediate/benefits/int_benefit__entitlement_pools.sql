-- The quota pools of the entitlement matrix (RULES.md §6, docs/decisions_benefits.md "Variants and pools"):
-- rows of one rulebook × service × tier sharing a quota_group share one quota (a pool, pool_key = the group);
-- a row without a group is its own pool (pool_key = '<service>:<variant>', '*' for the any-variant row).
-- quota null = unlimited.
--
-- Every ruleset, keyed by scenario_id (null = the rulebooks in force; a stored proposal's id otherwise), so
-- int_benefit__entitlement_tiers computes a proposal's tiers as it does the ones in force; in-force readers
-- filter `scenario_id is null`. A table: a few hundred rows, read by three models.
with

entitlements as (
    select * from {{ ref('stg_rules__entitlements') }}
),

matrix_rows as (
    select
        scenario_id,
        rulebook_id,
        service_code,
        tier_code,
        quota_kind,
        quota,
        {{ entitlement_pool_key() }} as pool_key
    from entitlements
),

final as (
    select
        scenario_id,
        rulebook_id,
        service_code,
        tier_code,
        pool_key,
        max(quota_kind) as quota_kind,
        max(quota) as quota
    from matrix_rows
    group by
        scenario_id,
        rulebook_id,
        service_code,
        tier_code,
        pool_key
)

select * from final
