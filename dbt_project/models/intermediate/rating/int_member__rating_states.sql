-- The event sweep: one row per holder and day on which the holder's rated premium, membership or rulebook
-- changes (up to the as-of date), with the state that holds until the next such day.
with

slices as (
    select * from {{ ref('int_rating__slices') }}
    where basis = 'effective'
),

memberships as (
    select * from {{ ref('int_rating__memberships') }}
    where basis = 'effective'
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

final as (
    {{ member_rating_states(
        'slices', 'memberships', 'rulebooks', 'tier_thresholds', 'change_reasons', cutoff_date=as_of_date()
    ) }}
)

select * from final
