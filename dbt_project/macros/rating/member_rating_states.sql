{#-
  The event sweep (RULES §4): per holder, +rated_amount at each counting slice's start and −rated_amount at
  its end, +1 / −1 at each membership interval's start / end, summed per day and run as a cumulative sum.
  One row per holder and day on which something changes: the state [state_from, state_until) with the
  rated premium, whether the holder is in the programme, the rulebook in force on state_from, the tier
  (null out of the programme) and the codes of the events taking effect that day.

  `slices` and `memberships` are relations (model or CTE names) shaped as rating_slices / rating_memberships;
  `rulebooks`, `tier_thresholds` and `change_reasons` as the stg_rules__ models. Events after
  `cutoff_date` (a SQL date expression; none = no cutoff) are ignored. A day's reason codes are OR-ed as
  bits and decoded once per distinct mask (a distinct string_agg over millions of groups costs five times more).
-#}
{% macro member_rating_states(slices, memberships, rulebooks, tier_thresholds, change_reasons, cutoff_date=none) -%}
with

sweep_events as (
    select
        holder_id,
        counts_from as event_date,
        rated_amount as premium_delta,
        0 as membership_delta,
        start_reason as event_reason
    from {{ slices }}
    where excluded_reason is null
        {%- if cutoff_date is not none %}
        and counts_from <= {{ cutoff_date }}
        {%- endif %}

    union all

    select
        holder_id,
        counts_until as event_date,
        -rated_amount as premium_delta,
        0 as membership_delta,
        end_reason as event_reason
    from {{ slices }}
    where excluded_reason is null
        and counts_until is not null
        {%- if cutoff_date is not none %}
        and counts_until <= {{ cutoff_date }}
        {%- endif %}

    union all

    select
        holder_id,
        valid_from as event_date,
        0 as premium_delta,
        1 as membership_delta,
        start_reason as event_reason
    from {{ memberships }}
    {%- if cutoff_date is not none %}
    where valid_from <= {{ cutoff_date }}
    {%- endif %}

    union all

    select
        holder_id,
        valid_to as event_date,
        0 as premium_delta,
        -1 as membership_delta,
        end_reason as event_reason
    from {{ memberships }}
    where valid_to is not null
        {%- if cutoff_date is not none %}
        and valid_to <= {{ cutoff_date }}
        {%- endif %}
),

daily as (
    select
        sweep_events.holder_id,
        sweep_events.event_date,
        sum(sweep_events.premium_delta) as premium_delta,
        sum(sweep_events.membership_delta) as membership_delta,
        {{ bit_or_agg('reasons.reason_bit') }} as event_reason_mask
    from sweep_events
    left join {{ change_reasons }} as reasons
        on sweep_events.event_reason = reasons.reason_code
    group by sweep_events.holder_id, sweep_events.event_date
),

running as (
    select
        holder_id,
        event_date as state_from,
        lead(event_date) over (partition by holder_id order by event_date) as state_until,
        sum(premium_delta) over (
            partition by holder_id order by event_date rows between unbounded preceding and current row
        ) as rated_premium,
        sum(membership_delta) over (
            partition by holder_id order by event_date rows between unbounded preceding and current row
        ) as open_memberships,
        event_reason_mask
    from daily
)

select
    running.holder_id || '/' || cast(running.state_from as {{ dbt.type_string() }}) as state_id,
    running.holder_id,
    running.state_from,
    running.state_until,
    running.rated_premium,
    running.open_memberships > 0 as is_member,
    rulebooks.rulebook_id,
    thresholds.tier_code,
    thresholds.tier_rank,
    {{ decode_reasons('running.event_reason_mask', change_reasons) }} as event_reasons
from running
inner join {{ rulebooks }} as rulebooks
    on running.state_from >= rulebooks.effective_from
    and (rulebooks.effective_until is null or running.state_from < rulebooks.effective_until)
left join {{ tier_thresholds }} as thresholds
    on rulebooks.rulebook_id = thresholds.rulebook_id
    and running.open_memberships > 0
    and running.rated_premium >= thresholds.lower_bound
    and (thresholds.upper_bound is null or running.rated_premium < thresholds.upper_bound)
{%- endmacro %}
