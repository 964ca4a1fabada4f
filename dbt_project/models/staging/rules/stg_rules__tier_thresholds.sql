-- Tier thresholds per rulebook, with the next tier up (for the distance to the next star).
with

thresholds as (
    {{ rule_rows('tier_thresholds', [
        'rulebook_id', 'tier_code', 'tier_rank', 'tier_name_zh', 'lower_bound', 'upper_bound',
    ]) }}
),

final as (
    select
        coalesce('scenario:' || scenario_id || '/', '') || rulebook_id || '/' || tier_code as tier_threshold_id,
        rulebook_id,
        tier_code,
        tier_rank,
        tier_name_zh,
        lower_bound,
        upper_bound,
        lead(tier_code) over (partition by scenario_id, rulebook_id order by tier_rank) as next_tier_code,
        lead(lower_bound) over (partition by scenario_id, rulebook_id order by tier_rank) as next_tier_lower_bound,
        scenario_id
    from thresholds
)

select * from final
