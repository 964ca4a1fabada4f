-- Tier history "as known when it happened": the same computation as fct_member_tier_history, except that
-- each status event takes effect at max(effective_date, date(recorded_at)), so a back-dated surrender
-- recorded late changes the tier from the day it was recorded. The as_recorded basis of the rating chain
-- (int_rating__coverage_status_timeline → int_rating__slices, int_rating__memberships) holds the holders with a
-- late-recorded event: their slices and memberships are swept into states here; every other holder keeps
-- the swept states of the effective history (int_member__rating_states).
with

recomputed_holders as (
    select distinct holder_id from {{ ref('int_rating__coverage_status_timeline') }}
    where basis = 'as_recorded'
),

slices as (
    select * from {{ ref('int_rating__slices') }}
    where basis = 'as_recorded'
),

memberships as (
    select * from {{ ref('int_rating__memberships') }}
    where basis = 'as_recorded'
),

effective_states as (
    select * from {{ ref('int_member__rating_states') }}
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
),

tier_thresholds as (
    select * from {{ ref('stg_rules__tier_thresholds') }}
),

change_reasons as (
    select * from {{ ref('stg_rules__change_reasons') }}
),

recomputed_states as (
    {{ member_rating_states(
        'slices', 'memberships', 'rulebooks', 'tier_thresholds', 'change_reasons', cutoff_date=as_of_date()
    ) }}
),

states as (
    select * from recomputed_states

    union all

    select effective_states.*
    from effective_states
    where not exists (
        select 1
        from recomputed_holders
        where recomputed_holders.holder_id = effective_states.holder_id
    )
),

final as (
    {{ member_tier_history('states') }}
)

select * from final
