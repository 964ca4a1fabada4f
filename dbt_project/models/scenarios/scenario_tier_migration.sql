-- Baseline tier → proposal tier on the as-of date: members (and their rated premium) per pair, stays included.
with

scenario_runs as (
    select * from {{ ref('scenario_runs') }}
),

member_ratings as (
    select * from {{ ref('int_scenario__member_ratings') }}
),

pairs as (
    select
        scenario_id,
        baseline_tier_code as from_tier_code,
        max(baseline_tier_rank) as from_tier_rank,
        proposal_tier_code as to_tier_code,
        max(proposal_tier_rank) as to_tier_rank,
        count(*) as members,
        sum(baseline_rated_premium) as baseline_rated_premium,
        sum(proposal_rated_premium) as proposal_rated_premium
    from member_ratings
    group by
        scenario_id,
        baseline_tier_code,
        proposal_tier_code
),

final as (
    select
        scenario_runs.scenario_id,
        pairs.from_tier_code,
        pairs.to_tier_code,
        pairs.from_tier_rank,
        pairs.to_tier_rank,
        case
            when pairs.to_tier_rank > pairs.from_tier_rank then 'upgrade'
            when pairs.to_tier_rank < pairs.from_tier_rank then 'downgrade'
            else 'stay'
        end as change_type,
        pairs.members,
        cast(pairs.baseline_rated_premium as decimal(38, 6)) as baseline_rated_premium,
        cast(pairs.proposal_rated_premium as decimal(38, 6)) as proposal_rated_premium
    from pairs
    inner join scenario_runs
        on pairs.scenario_id = scenario_runs.scenario_id
)

select * from final
