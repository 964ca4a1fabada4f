-- One row per holder in the programme at the as-of date whose tier is scheduled to drop with nothing else
-- changing: the first day after the as-of date on which a slice window (single premium, one-year term,
-- payment period, top-up) or a coverage term ends and the tier falls, with the tier after it ('none' =
-- out of the programme). Known future starts (free look ending) and rulebook changes are part of the schedule.
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

-- slices and memberships that ended before the as-of date add nothing to any day from it on
open_slices as (
    select * from slices
    where counts_until is null or counts_until > {{ as_of_date() }}
),

open_memberships as (
    select * from memberships
    where valid_to is null or valid_to > {{ as_of_date() }}
),

scheduled_states as (
    {{ member_rating_states('open_slices', 'open_memberships', 'rulebooks', 'tier_thresholds', 'change_reasons') }}
),

sequenced as (
    select
        scheduled_states.*,
        lag(scheduled_states.is_member)
            over (partition by scheduled_states.holder_id order by scheduled_states.state_from)
            as previous_is_member,
        lag(scheduled_states.tier_code)
            over (partition by scheduled_states.holder_id order by scheduled_states.state_from)
            as previous_tier_code,
        lag(scheduled_states.tier_rank)
            over (partition by scheduled_states.holder_id order by scheduled_states.state_from)
            as previous_tier_rank
    from scheduled_states
),

current_states as (
    select
        holder_id,
        tier_code,
        rated_premium
    from sequenced
    where
        is_member
        and state_from <= {{ as_of_date() }}
        and (state_until is null or state_until > {{ as_of_date() }})
),

drops as (
    select
        holder_id,
        state_from as drop_date,
        previous_tier_code as tier_code_before_drop,
        case when is_member then tier_code else 'none' end as tier_code_after_drop,
        case when is_member then rated_premium end as rated_premium_after_drop,
        event_reasons as drop_reason,
        row_number() over (partition by holder_id order by state_from) as drop_rank
    from sequenced
    where
        state_from > {{ as_of_date() }}
        and previous_is_member
        and (not is_member or tier_rank < previous_tier_rank)
),

final as (
    select
        current_states.holder_id,
        drops.drop_date,
        current_states.tier_code,
        current_states.rated_premium,
        drops.tier_code_before_drop,
        drops.tier_code_after_drop,
        drops.rated_premium_after_drop,
        drops.drop_reason
    from current_states
    inner join drops
        on
            current_states.holder_id = drops.holder_id
            and drops.drop_rank = 1
)

select * from final
