-- Members and rated premium per tier on the as-of date, under the baseline rulebook and under the proposal.
with

scenario_runs as (
    select * from {{ ref('scenario_runs') }}
),

member_ratings as (
    select * from {{ ref('int_scenario__member_ratings') }}
),

proposal_thresholds as (
    select * from {{ ref('stg_rules__tier_thresholds') }}
    where scenario_id is not null
),

baseline as (
    select
        scenario_id,
        baseline_tier_code as tier_code,
        count(*) as members,
        sum(baseline_rated_premium) as rated_premium
    from member_ratings
    group by
        scenario_id,
        baseline_tier_code
),

proposal as (
    select
        scenario_id,
        proposal_tier_code as tier_code,
        count(*) as members,
        sum(proposal_rated_premium) as rated_premium
    from member_ratings
    group by
        scenario_id,
        proposal_tier_code
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
    inner join scenario_runs
        on tiers.scenario_id = scenario_runs.scenario_id
    left join baseline
        on
            tiers.scenario_id = baseline.scenario_id
            and tiers.tier_code = baseline.tier_code
    left join proposal
        on
            tiers.scenario_id = proposal.scenario_id
            and tiers.tier_code = proposal.tier_code
)

select * from final
