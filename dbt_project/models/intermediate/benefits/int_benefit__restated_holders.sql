-- The holders whose tier history as recorded at the time (int_member_tier_history_as_recorded) differs from
-- the corrected one (the effective basis of int_member__tier_history, which fct_member_tier_history
-- publishes): the only holders whose uses int_benefit__usage_judged judges on the 'as_recorded' basis too
-- (a holder's verdicts depend on that holder's history alone). Both histories end in valid_until.
with

recorded_history as (
    select * from {{ ref('int_member_tier_history_as_recorded') }}
),

corrected_history as (
    select * from {{ ref('int_member__tier_history') }}
    where basis = 'effective'
),

restated_intervals as (
    select coalesce(recorded_history.holder_id, corrected_history.holder_id) as holder_id
    from recorded_history
    full outer join corrected_history
        on
            recorded_history.holder_id = corrected_history.holder_id
            and recorded_history.valid_from = corrected_history.valid_from
            and coalesce(recorded_history.valid_until, cast('9999-12-31' as date))
            = coalesce(corrected_history.valid_until, cast('9999-12-31' as date))
            and recorded_history.tier_code = corrected_history.tier_code
    where
        recorded_history.holder_id is null
        or corrected_history.holder_id is null
),

final as (
    select distinct holder_id
    from restated_intervals
)

select * from final
