-- The entitled tiers: one row per rulebook × service × tier with at least one row in the entitlement matrix
-- (no row = not entitled), summing its pools (int_benefit__entitlement_pools): pool_count; layout_key, how
-- the tier groups the service's uses into pools ('single' for one pool, else '<rulebook>|<tier>', the key of
-- int_benefit__entitlement_quota_layouts); tier_quota_kind (unlimited if any pool is, once if every pool
-- is, else per_year) and tier_quota (the pools' quotas summed; null = unlimited).
--
-- Every ruleset, keyed by scenario_id (null = the rulebooks in force): the benefit models read
-- `where scenario_id is null`, the scenario models their proposal's rows. A table: a few hundred rows, read
-- by every benefit model and the scenarios.
with

pools as (
    select * from {{ ref('int_benefit__entitlement_pools') }}
),

final as (
    select
        scenario_id,
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
    from pools
    group by
        scenario_id,
        rulebook_id,
        service_code,
        tier_code
)

select * from final
