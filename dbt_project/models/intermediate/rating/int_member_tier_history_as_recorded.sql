-- Tier history "as known when it happened": the same computation as fct_member_tier_history, except that
-- each status event takes effect at max(effective_date, date(recorded_at)), so a back-dated surrender
-- recorded late changes the tier from the day it was recorded. The last step of the as-recorded chain
-- (int_rating_as_recorded__*): the recomputed holders' slices and memberships are swept into states; every
-- other holder keeps the swept states of the effective history (int_member__rating_states).
with

recomputed_coverages as (
    select * from {{ ref('int_rating_as_recorded__coverages') }}
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
        from recomputed_coverages
        where recomputed_coverages.holder_id = effective_states.holder_id
    )
),

final as (
    {{ member_tier_history('states') }}
)

select * from final
