{{ config(enabled=var('scenario_run', false) | as_bool, schema='scenario_work', materialized='table') }}
-- One row per holder in the programme on the scenario's as-of date: rated premium and tier under the baseline
-- rulebook (in force that day) and under the proposal. The rating slices counting that day (their bases and
-- windows) are the baseline's; the proposal re-prices each with the coefficient its own conversion table gives
-- the coverage - the same lookup the rating models make (rating_coverage_rulings) on the proposal's rule rows.
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

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

tier_thresholds as (
    select * from {{ ref('stg_rules__tier_thresholds') }}
),

coverage_kinds as (
    select * from {{ ref('stg_rules__coverage_kinds') }}
),

rating_exclusions as (
    select * from {{ ref('stg_rules__rating_exclusions') }}
),

proposal_rulebooks as (
    select
        rulebook_id,
        effective_from,
        effective_until,
        description
    from {{ source('scenario_work', 'proposal_rulebooks') }}
),

proposal_coefficients as (
    select * from {{ source('scenario_work', 'proposal_rating_coefficients') }}
),

proposal_thresholds as (
    select * from {{ source('scenario_work', 'proposal_tier_thresholds') }}
),

-- the rule tables a proposal does not change are the base rulebook's, under the proposal's rulebook id
proposal_coverage_kinds as (
    select
        scenario_runs.proposal_rulebook_id as rulebook_id,
        coverage_kinds.coverage_kind,
        coverage_kinds.term_months_lower_bound,
        coverage_kinds.term_months_upper_bound,
        coverage_kinds.includes_whole_life
    from coverage_kinds
    inner join scenario_runs
        on coverage_kinds.rulebook_id = scenario_runs.base_rulebook_id
),

proposal_exclusions as (
    select
        scenario_runs.proposal_rulebook_id as rulebook_id,
        rating_exclusions.excluded_reason,
        rating_exclusions.applies_to,
        rating_exclusions.match_value,
        rating_exclusions.priority
    from rating_exclusions
    inner join scenario_runs
        on rating_exclusions.rulebook_id = scenario_runs.base_rulebook_id
),

counting_slices as (
    select policy_rating.*
    from policy_rating
    cross join scenario_runs
    where
        policy_rating.excluded_reason is null
        and policy_rating.counts_from <= scenario_runs.as_of_date
        and (policy_rating.counts_until is null or policy_rating.counts_until > scenario_runs.as_of_date)
),

members as (
    select distinct memberships.holder_id
    from memberships
    cross join scenario_runs
    where
        memberships.valid_from <= scenario_runs.as_of_date
        and (memberships.valid_until is null or memberships.valid_until > scenario_runs.as_of_date)
),

rated_coverages as (
    select coverages.*
    from coverages
    where exists (
        select 1
        from counting_slices
        where
            counting_slices.policy_no = coverages.policy_no
            and counting_slices.coverage_no = coverages.coverage_no
    )
),

proposal_rulings as (
    {{ rating_coverage_rulings('rated_coverages', 'proposal_rulebooks', 'proposal_coverage_kinds',
                               'proposal_coefficients', 'proposal_exclusions') }}
),

slice_ratings as (
    select
        counting_slices.holder_id,
        counting_slices.rated_amount as baseline_rated_amount,
        -- a base slice takes its coverage's row of the table; a top-up the single-premium row of its category
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
            counting_slices.policy_no = proposal_rulings.policy_no
            and counting_slices.coverage_no = proposal_rulings.coverage_no
),

holder_premiums as (
    select
        holder_id,
        sum(baseline_rated_amount) as baseline_rated_premium,
        sum(proposal_rated_amount) as proposal_rated_premium
    from slice_ratings
    group by holder_id
),

ratings as (
    select
        members.holder_id,
        cast(coalesce(holder_premiums.baseline_rated_premium, 0) as decimal(38, 6)) as baseline_rated_premium,
        cast(coalesce(holder_premiums.proposal_rated_premium, 0) as decimal(38, 6)) as proposal_rated_premium
    from members
    left join holder_premiums
        on members.holder_id = holder_premiums.holder_id
),

final as (
    select
        scenario_runs.scenario_id,
        ratings.holder_id,
        ratings.baseline_rated_premium,
        baseline_tiers.tier_code as baseline_tier_code,
        baseline_tiers.tier_rank as baseline_tier_rank,
        ratings.proposal_rated_premium,
        proposal_tiers.tier_code as proposal_tier_code,
        proposal_tiers.tier_rank as proposal_tier_rank
    from ratings
    cross join scenario_runs
    left join tier_thresholds as baseline_tiers
        on
            scenario_runs.baseline_rulebook_id = baseline_tiers.rulebook_id
            and ratings.baseline_rated_premium >= baseline_tiers.lower_bound
            and (baseline_tiers.upper_bound is null or ratings.baseline_rated_premium < baseline_tiers.upper_bound)
    left join proposal_thresholds as proposal_tiers
        on
            ratings.proposal_rated_premium >= proposal_tiers.lower_bound
            and (proposal_tiers.upper_bound is null or ratings.proposal_rated_premium < proposal_tiers.upper_bound)
)

select * from final
