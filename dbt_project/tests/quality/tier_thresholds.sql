{{ config(severity='error', meta={'dagster': {'ref': {'name': 'tier_thresholds'}}}) }}
-- RULES §4: per rulebook the tiers' [lower_bound, upper_bound) are contiguous from 0, non-empty and
-- non-overlapping, only the top tier open, tier codes and ranks unique; and rulebook handbook_2026 has the
-- handbook's tiers (seed handbook_fixture/handbook_tiers). Returns the offending threshold rows.
with

thresholds as (
    select
        rulebook_id,
        tier_code,
        tier_rank,
        lower_bound,
        upper_bound
    from {{ ref('tier_thresholds') }}
),

handbook as (
    select * from {{ ref('handbook_tiers') }}
),

ordered as (
    select
        thresholds.*,
        lag(thresholds.upper_bound) over rulebook_tiers as previous_upper_bound,
        lead(thresholds.lower_bound) over rulebook_tiers as next_lower_bound,
        row_number() over rulebook_tiers as tier_position,
        count(*) over (partition by thresholds.rulebook_id, thresholds.tier_rank) as rows_with_rank,
        count(*) over (partition by thresholds.rulebook_id, thresholds.tier_code) as rows_with_code
    from thresholds
    window rulebook_tiers as (partition by rulebook_id order by tier_rank, lower_bound)
),

partition_problems as (
    select
        case
            when lower_bound is null then 'lower bound missing'
            when rows_with_rank > 1 then 'tier rank not unique'
            when rows_with_code > 1 then 'tier code not unique'
            when tier_position = 1 and lower_bound <> 0 then 'lowest tier does not start at 0'
            when tier_position > 1 and (previous_upper_bound is null or lower_bound <> previous_upper_bound)
                then 'does not start where the tier below ends'
            when upper_bound is null and next_lower_bound is not null then 'open tier below the top'
            when upper_bound is not null and next_lower_bound is null then 'top tier closed'
            when upper_bound is not null and upper_bound <> next_lower_bound
                then 'does not end where the tier above starts'
            when upper_bound <= lower_bound then 'empty tier'
        end as problem,
        rulebook_id,
        tier_code,
        tier_rank,
        lower_bound,
        upper_bound
    from ordered
),

handbook_problems as (
    select
        case
            when thresholds.tier_code is null then 'handbook tier missing'
            when handbook.tier_code is null then 'tier not in the handbook'
            else 'differs from the handbook'
        end as problem,
        'handbook_2026' as rulebook_id,
        coalesce(thresholds.tier_code, handbook.tier_code) as tier_code,
        thresholds.tier_rank,
        thresholds.lower_bound,
        thresholds.upper_bound
    from (
        select * from thresholds
        where rulebook_id = 'handbook_2026'
    ) as thresholds
    full outer join handbook
        on thresholds.tier_code = handbook.tier_code
    where
        thresholds.tier_code is null
        or handbook.tier_code is null
        or thresholds.tier_rank <> handbook.tier_rank
        or thresholds.lower_bound <> handbook.lower_bound
        or (thresholds.upper_bound is null and handbook.upper_bound is not null)
        or (thresholds.upper_bound is not null and handbook.upper_bound is null)
        or thresholds.upper_bound <> handbook.upper_bound
),

final as (
    select * from partition_problems
    where problem is not null

    union all

    select * from handbook_problems
)

select * from final
