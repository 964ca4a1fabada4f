{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_member_tier_history'}}}) }}
-- RULES §4: every tier-history row's tier_code and tier_rank are those its rated_premium falls in under its
-- rulebook's thresholds. Returns the rows with no tier for their premium or another tier.
with

history as (
    select
        holder_id,
        valid_from,
        rulebook_id,
        tier_code,
        tier_rank,
        rated_premium
    from {{ ref('fct_member_tier_history') }}
),

thresholds as (
    select * from {{ ref('stg_rules__tier_thresholds') }}
    where scenario_id is null
),

judged as (
    select
        history.holder_id,
        history.valid_from,
        history.rulebook_id,
        history.rated_premium,
        history.tier_code,
        history.tier_rank,
        thresholds.tier_code as expected_tier_code,
        thresholds.tier_rank as expected_tier_rank
    from history
    left join thresholds
        on
            history.rulebook_id = thresholds.rulebook_id
            and history.rated_premium >= thresholds.lower_bound
            and (thresholds.upper_bound is null or history.rated_premium < thresholds.upper_bound)
)

select * from judged
where
    expected_tier_code is null
    or tier_code <> expected_tier_code
    or tier_rank <> expected_tier_rank
