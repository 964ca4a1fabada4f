{{ config(enabled=var('scenario_run', false) | as_bool, schema='scenario_work', materialized='table') }}
-- Members and rated premium per tier on the as-of date, under the baseline rulebook and under the proposal.
with

scenario_runs as (
    select * from {{ ref('scenario_runs') }}
),

member_ratings as (
    select * from {{ ref('scenario_member_ratings') }}
),

proposal_thresholds as (
    select * from {{ source('scenario_work', 'proposal_tier_thresholds') }}
),

baseline as (
    select
        baseline_tier_code as tier_code,
        count(*) as members,
        sum(baseline_rated_premium) as rated_premium
    from member_ratings
    group by baseline_tier_code
),

proposal as (
    select
        proposal_tier_code as tier_code,
        count(*) as members,
        sum(proposal_rated_premium) as rated_premium
    from member_ratings
    group by proposal_tier_code
),

final as (
    select
        scenario_runs.scenario_id,
        scenario_runs.as_of_date,
        tiers.tier_code,
        tiers.tier_rank,
        tiers.tier_name_zh,
        tiers.lower_bound as proposal_lower_bound,
        coalesce(baseline.members, 0) as baseline_members,
        coalesce(proposal.members, 0) as proposal_members,
        coalesce(proposal.members, 0) - coalesce(baseline.members, 0) as delta_members,
        cast(coalesce(baseline.rated_premium, 0) as decimal(38, 6)) as baseline_rated_premium,
        cast(coalesce(proposal.rated_premium, 0) as decimal(38, 6)) as proposal_rated_premium,
        cast(coalesce(proposal.rated_premium, 0) - coalesce(baseline.rated_premium, 0) as decimal(38, 6))
            as delta_rated_premium
    from proposal_thresholds as tiers
    cross join scenario_runs
    left join baseline
        on tiers.tier_code = baseline.tier_code
    left join proposal
        on tiers.tier_code = proposal.tier_code
)

select * from final
