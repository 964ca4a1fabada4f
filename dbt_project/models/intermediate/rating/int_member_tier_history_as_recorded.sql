-- Tier history "as known when it happened": each status event takes effect at max(effective_date,
-- date(recorded_at)), so a back-dated surrender recorded late changes the tier from the day it was recorded.
-- The as_recorded basis of the rating chain holds only the holders with a late-recorded event
-- (int_rating__coverage_status_timeline); every other holder keeps the effective history.
with

history as (
    select * from {{ ref('int_member__tier_history') }}
),

recomputed_holders as (
    select distinct holder_id from {{ ref('int_rating__coverage_status_timeline') }}
    where basis = 'as_recorded'
),

kept as (
    select * from history
    where basis = 'as_recorded'

    union all

    select history.*
    from history
    where
        history.basis = 'effective'
        and not exists (
            select 1
            from recomputed_holders
            where recomputed_holders.holder_id = history.holder_id
        )
),

final as (
    select
        tier_history_id,
        holder_id,
        valid_from,
        valid_until,
        tier_code,
        tier_rank,
        rated_premium,
        previous_tier_code,
        change_type,
        change_reason,
        rulebook_id
    from kept
)

select * from final
