-- One row per rulebook × tier: the tier's [lower_bound, upper_bound) of rated premium, with the rulebook's
-- effective range, for every rulebook (the handbook's and those adopted with `vipwh rulebook adopt`).
with

thresholds as (
    select * from {{ ref('stg_rules__tier_thresholds') }}
    where scenario_id is null
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
    where scenario_id is null
),

final as (
    select
        thresholds.tier_threshold_id,
        thresholds.rulebook_id,
        thresholds.tier_code,
        thresholds.tier_rank,
        thresholds.tier_name_zh,
        thresholds.lower_bound,
        thresholds.upper_bound,
        rulebooks.effective_from as rulebook_effective_from,
        rulebooks.effective_until as rulebook_effective_until
    from thresholds
    inner join rulebooks
        on thresholds.rulebook_id = rulebooks.rulebook_id
)

select * from final
