-- The event sweep (RULES §4), on each basis of the rating chain: per holder, +rated_amount at each counting
-- slice's start and -rated_amount at its end, +1 / -1 at each membership interval's start / end, summed per
-- day and run as a cumulative sum. One row per basis, holder and day on which something changes: the state
-- [state_from, state_until) with the rated premium, whether the holder is in the programme, the rulebook in
-- force on state_from and the tier (null out of the programme), and the codes of that day's events.
-- States up to the as-of date are the history (state_until null = still so at the as-of date); states after
-- it are scheduled (is_scheduled: windows, terms and payment periods known to end, known future starts).
-- A day's reason codes are OR-ed as bits and decoded once per distinct mask (a distinct string_agg over
-- millions of groups costs five times more).
with

slices as (
    select * from {{ ref('int_rating__slices') }}
    where excluded_reason is null
),

memberships as (
    select * from {{ ref('int_rating__memberships') }}
),

rulebooks as (
    select * from {{ ref('stg_rules__rulebooks') }}
    where scenario_id is null
),

tier_thresholds as (
    select * from {{ ref('stg_rules__tier_thresholds') }}
    where scenario_id is null
),

change_reasons as (
    select * from {{ ref('stg_rules__change_reasons') }}
),

sweep_events as (
    select
        basis,
        holder_id,
        counts_from as event_date,
        rated_amount as premium_delta,
        0 as membership_delta,
        start_reason as event_reason
    from slices

    union all

    select
        basis,
        holder_id,
        counts_until as event_date,
        -rated_amount as premium_delta,
        0 as membership_delta,
        end_reason as event_reason
    from slices
    where counts_until is not null

    union all

    select
        basis,
        holder_id,
        valid_from as event_date,
        0 as premium_delta,
        1 as membership_delta,
        start_reason as event_reason
    from memberships

    union all

    select
        basis,
        holder_id,
        valid_until as event_date,
        0 as premium_delta,
        -1 as membership_delta,
        end_reason as event_reason
    from memberships
    where valid_until is not null
),

daily as (
    select
        sweep_events.basis,
        sweep_events.holder_id,
        sweep_events.event_date,
        sum(sweep_events.premium_delta) as premium_delta,
        sum(sweep_events.membership_delta) as membership_delta,
        {{ bit_or_agg('reasons.reason_bit') }} as event_reason_mask
    from sweep_events
    left join change_reasons as reasons
        on sweep_events.event_reason = reasons.reason_code
    group by sweep_events.basis, sweep_events.holder_id, sweep_events.event_date
),

running as (
    select
        basis,
        holder_id,
        event_date as state_from,
        lead(event_date) over (partition by basis, holder_id order by event_date) as next_event_date,
        sum(premium_delta) over (
            partition by basis, holder_id order by event_date rows between unbounded preceding and current row
        ) as rated_premium,
        sum(membership_delta) over (
            partition by basis, holder_id order by event_date rows between unbounded preceding and current row
        ) as open_memberships,
        event_reason_mask
    from daily
),

final as (
    select
        running.basis || '/' || running.holder_id || '/' || cast(running.state_from as {{ dbt.type_string() }})
            as state_id,
        running.basis,
        running.holder_id,
        running.state_from,
        case
            when running.state_from <= {{ as_of_date() }} and running.next_event_date > {{ as_of_date() }}
                then null
            else running.next_event_date
        end as state_until,
        running.state_from > {{ as_of_date() }} as is_scheduled,
        running.rated_premium,
        running.open_memberships > 0 as is_member,
        rulebooks.rulebook_id,
        thresholds.tier_code,
        thresholds.tier_rank,
        {{ decode_reasons('running.event_reason_mask', 'change_reasons') }} as event_reasons
    from running
    inner join rulebooks
        on
            running.state_from >= rulebooks.effective_from
            and (rulebooks.effective_until is null or running.state_from < rulebooks.effective_until)
    left join tier_thresholds as thresholds
        on
            rulebooks.rulebook_id = thresholds.rulebook_id
            and running.open_memberships > 0
            and {{ in_tier('running.rated_premium', 'thresholds') }}
)

select * from final
