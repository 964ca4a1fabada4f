-- One row per holder in the programme at the as-of date whose tier is scheduled to drop with nothing else
-- changing: the first day after the as-of date on which a slice window (single premium, one-year term,
-- payment period, top-up) or a coverage term ends and the tier falls, with the tier after it ('none' =
-- out of the programme). Known future starts (free look ending) and rulebook changes are part of the schedule.
with

effective_states as (
    select * from {{ ref('int_member__rating_states') }}
    where basis = 'effective'
),

sequenced as (
    select
        effective_states.*,
        lag(effective_states.is_member)
            over (partition by effective_states.holder_id order by effective_states.state_from)
            as previous_is_member,
        lag(effective_states.tier_code)
            over (partition by effective_states.holder_id order by effective_states.state_from)
            as previous_tier_code,
        lag(effective_states.tier_rank)
            over (partition by effective_states.holder_id order by effective_states.state_from)
            as previous_tier_rank
    from effective_states
),

current_states as (
    select
        holder_id,
        tier_code,
        rated_premium
    from sequenced
    where
        is_member
        and not is_scheduled
        and state_until is null
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
        is_scheduled
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
