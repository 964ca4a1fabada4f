-- One row per stored scenario and holder in the programme on its as-of date: rated premium and tier under the
-- baseline rulebook (in force that day) and under the proposal. The rating slices counting that day (their bases
-- and windows) are the baseline's; the proposal re-prices each with the coefficient that the proposal's ruleset
-- gives its coverage in int_rating__coverage_rulings - the rating chain's own lookup, run over the proposal's
-- rule rows: a base slice takes its coverage's row of the table, a top-up the single-premium row of its category.
-- Tiers by premium as the rating states find them (in_tier). Why the slices are the baseline's: a proposal changes
-- coefficients, thresholds, entitlements and costs, never the coverage kinds, exclusions or windows (its rows are
-- the base rulebook's for those), so the slices counting on the day are the same under both rulebooks.
with

scenario_runs as (
    select * from {{ ref('scenario_runs') }}
),

policy_rating as (
    select * from {{ ref('fct_policy_rating') }}
),

memberships as (
    select * from {{ ref('int_rating__memberships') }}
    where basis = 'effective'
),

proposal_rulings as (
    select * from {{ ref('int_rating__coverage_rulings') }}
    where scenario_id is not null
),

tier_thresholds as (
    select * from {{ ref('stg_rules__tier_thresholds') }}
),

counting_slices as (
    select
        scenario_runs.scenario_id,
        policy_rating.holder_id,
        policy_rating.policy_no,
        policy_rating.coverage_no,
        policy_rating.top_up_txn_id,
        policy_rating.base_amount,
        policy_rating.rated_amount
    from policy_rating
    inner join scenario_runs
        on
            policy_rating.counts_from <= scenario_runs.as_of_date
            and (policy_rating.counts_until is null or policy_rating.counts_until > scenario_runs.as_of_date)
    where policy_rating.excluded_reason is null
),

members as (
    select distinct
        scenario_runs.scenario_id,
        memberships.holder_id
    from memberships
    inner join scenario_runs
        on
            memberships.valid_from <= scenario_runs.as_of_date
            and (memberships.valid_until is null or memberships.valid_until > scenario_runs.as_of_date)
),

slice_ratings as (
    select
        counting_slices.scenario_id,
        counting_slices.holder_id,
        counting_slices.rated_amount as baseline_rated_amount,
        cast(
            cast(counting_slices.base_amount as decimal(38, 2))
            * case
                when counting_slices.top_up_txn_id is null then proposal_rulings.coefficient
                else proposal_rulings.top_up_coefficient
            end
            as decimal(38, 6)
        ) as proposal_rated_amount
    from counting_slices
    left join proposal_rulings
        on
            counting_slices.scenario_id = proposal_rulings.scenario_id
            and counting_slices.policy_no = proposal_rulings.policy_no
            and counting_slices.coverage_no = proposal_rulings.coverage_no
),

holder_premiums as (
    select
        scenario_id,
        holder_id,
        sum(baseline_rated_amount) as baseline_rated_premium,
        sum(proposal_rated_amount) as proposal_rated_premium
    from slice_ratings
    group by
        scenario_id,
        holder_id
),

ratings as (
    select
        members.scenario_id,
        members.holder_id,
        cast(coalesce(holder_premiums.baseline_rated_premium, 0) as decimal(38, 6)) as baseline_rated_premium,
        cast(coalesce(holder_premiums.proposal_rated_premium, 0) as decimal(38, 6)) as proposal_rated_premium
    from members
    left join holder_premiums
        on
            members.scenario_id = holder_premiums.scenario_id
            and members.holder_id = holder_premiums.holder_id
),

final as (
    select
        ratings.scenario_id,
        ratings.holder_id,
        ratings.baseline_rated_premium,
        baseline_tiers.tier_code as baseline_tier_code,
        baseline_tiers.tier_rank as baseline_tier_rank,
        ratings.proposal_rated_premium,
        proposal_tiers.tier_code as proposal_tier_code,
        proposal_tiers.tier_rank as proposal_tier_rank
    from ratings
    inner join scenario_runs
        on ratings.scenario_id = scenario_runs.scenario_id
    left join tier_thresholds as baseline_tiers
        on
            baseline_tiers.scenario_id is null
            and scenario_runs.baseline_rulebook_id = baseline_tiers.rulebook_id
            and {{ in_tier('ratings.baseline_rated_premium', 'baseline_tiers') }}
    left join tier_thresholds as proposal_tiers
        on
            ratings.scenario_id = proposal_tiers.scenario_id
            and {{ in_tier('ratings.proposal_rated_premium', 'proposal_tiers') }}
)

select * from final
