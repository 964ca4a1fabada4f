-- Tier history: holder × maximal interval of constant tier, with the change that opened it and its reasons
-- (the effective basis of int_member__tier_history: every fact as known now).
with

history as (
    select * from {{ ref('int_member__tier_history') }}
    where basis = 'effective'
),

final as (
    select
        tier_history_id,
        holder_id,
        valid_from,
        valid_until as valid_to,
        tier_code,
        tier_rank,
        rated_premium,
        previous_tier_code,
        change_type,
        change_reason,
        rulebook_id
    from history
)

select * from final
