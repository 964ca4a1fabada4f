-- Every holder whose tier on the as-of date differs between the baseline and the proposal.
with

member_ratings as (
    select * from {{ ref('int_scenario__member_ratings') }}
),

final as (
    select
        scenario_id,
        holder_id,
        baseline_tier_code,
        proposal_tier_code,
        baseline_tier_rank,
        proposal_tier_rank,
        case when proposal_tier_rank > baseline_tier_rank then 'upgrade' else 'downgrade' end as change_type,
        baseline_rated_premium,
        proposal_rated_premium,
        cast(proposal_rated_premium - baseline_rated_premium as decimal(38, 6)) as delta_rated_premium
    from member_ratings
    where baseline_tier_code <> proposal_tier_code
)

select * from final
