-- Coverage status timeline (RULES §3) from the transaction log, on both bases of the rating chain:
-- - basis 'effective': every coverage, each status event taking effect on its effective date (the truth as
--   known now: the corrected tier history);
-- - basis 'as_recorded': each event taking effect on its known date, max(effective_date, date(recorded_at))
--   (the tier as it could be known at the time), for the coverages of holders with a status event recorded
--   after its effective date: only those can differ from the effective basis (the var
--   rating_as_recorded_recompute_all keeps everyone, e.g. to test the chain end to end).
-- Events after the as-of date are ignored. Events apply in order of date, recorded_at, status_event_id. The
-- first final event (surrender, termination, free-look cancellation) ends the timeline: later events are
-- ignored. An event that requires a status before it (reinstate requires lapsed) applies only when the event
-- before it left that status.
-- One row per basis and event (applied or ignored) plus an `initial` row per basis and coverage (in force from
-- its effective date); applied and initial rows carry the status interval [valid_from, valid_until) they open
-- (valid_until null = still so; an interval may be empty when several events fall on one day). Every row of a
-- coverage voided by an applied event (free-look cancellation) carries the status it left it in.
{%- set recompute_all = var('rating_as_recorded_recompute_all', false) %}
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

status_events as (
    select * from {{ ref('int_rating__status_events') }}
),

recorded_late_holders as (
    select distinct status_events.holder_id
    from status_events
    where status_events.known_date > status_events.effective_date
),

recorded_coverages as (
    select coverages.*
    from coverages
    {%- if not recompute_all %}
        where exists (
            select 1
            from recorded_late_holders
            where recorded_late_holders.holder_id = coverages.holder_id
        )
    {%- endif %}
),

coverage_bases as (
    select
        'effective' as basis,
        coverage_id,
        holder_id,
        policy_no,
        coverage_no,
        effective_date
    from coverages

    union all

    select
        'as_recorded' as basis,
        coverage_id,
        holder_id,
        policy_no,
        coverage_no,
        effective_date
    from recorded_coverages
),

dated_events as (
    select
        coverage_bases.basis,
        status_events.status_event_id,
        status_events.coverage_id,
        status_events.txn_id,
        status_events.txn_type,
        status_events.event_source,
        status_events.status_after,
        status_events.is_final,
        status_events.voids_coverage,
        status_events.requires_status_before,
        status_events.is_in_force_after,
        status_events.recorded_at,
        case
            when coverage_bases.basis = 'effective' then status_events.effective_date
            else status_events.known_date
        end as event_date
    from status_events
    inner join coverage_bases
        on status_events.coverage_id = coverage_bases.coverage_id
),

events_to_date as (
    select *
    from dated_events
    where event_date <= {{ as_of_date() }}
),

sequenced as (
    select
        events_to_date.*,
        row_number() over (
            partition by events_to_date.basis, events_to_date.coverage_id
            order by events_to_date.event_date, events_to_date.recorded_at, events_to_date.status_event_id
        ) as event_seq,
        lag(events_to_date.status_after) over (
            partition by events_to_date.basis, events_to_date.coverage_id
            order by events_to_date.event_date, events_to_date.recorded_at, events_to_date.status_event_id
        ) as previous_status_after
    from events_to_date
),

first_finals as (
    select
        basis,
        coverage_id,
        min(event_seq) as final_event_seq
    from sequenced
    where is_final
    group by basis, coverage_id
),

judged as (
    select
        sequenced.*,
        case
            when sequenced.event_seq > first_finals.final_event_seq then 'after_final_status'
            when
                sequenced.requires_status_before is not null
                and (
                    sequenced.previous_status_after is null
                    or sequenced.previous_status_after <> sequenced.requires_status_before
                )
                then 'requires_status_' || sequenced.requires_status_before
        end as ignored_reason
    from sequenced
    left join first_finals
        on
            sequenced.basis = first_finals.basis
            and sequenced.coverage_id = first_finals.coverage_id
),

applied as (
    select
        judged.*,
        lead(judged.event_date)
            over (partition by judged.basis, judged.coverage_id order by judged.event_seq)
            as next_event_date
    from judged
    where judged.ignored_reason is null
),

first_applied as (
    select
        applied.basis,
        applied.coverage_id,
        min(applied.event_date) as first_event_date
    from applied
    group by applied.basis, applied.coverage_id
),

-- Coverages voided by an applied event (free-look cancellation), with the status it left them in.
voided as (
    select
        applied.basis,
        applied.coverage_id,
        min(applied.status_after) as voided_status
    from applied
    where applied.voids_coverage
    group by applied.basis, applied.coverage_id
),

timeline as (
    select
        coverage_bases.basis,
        coverage_bases.coverage_id,
        0 as event_seq,
        cast(null as {{ dbt.type_string() }}) as status_event_id,
        cast(null as {{ dbt.type_string() }}) as txn_id,
        'initial' as txn_type,
        'initial' as event_source,
        coverage_bases.effective_date as event_date,
        cast(null as timestamp) as recorded_at,
        true as is_applied,
        cast(null as {{ dbt.type_string() }}) as ignored_reason,
        'in_force' as status,
        true as is_in_force,
        false as voids_coverage,
        coverage_bases.effective_date as valid_from,
        first_applied.first_event_date as valid_until
    from coverage_bases
    left join first_applied
        on
            coverage_bases.basis = first_applied.basis
            and coverage_bases.coverage_id = first_applied.coverage_id

    union all

    select
        judged.basis,
        judged.coverage_id,
        judged.event_seq,
        judged.status_event_id,
        judged.txn_id,
        judged.txn_type,
        judged.event_source,
        judged.event_date,
        judged.recorded_at,
        judged.ignored_reason is null as is_applied,
        judged.ignored_reason,
        judged.status_after as status,
        judged.is_in_force_after as is_in_force,
        judged.voids_coverage,
        applied.event_date as valid_from,
        applied.next_event_date as valid_until
    from judged
    left join applied
        on
            judged.basis = applied.basis
            and judged.coverage_id = applied.coverage_id
            and judged.event_seq = applied.event_seq
),

final as (
    select
        timeline.basis || '/' || timeline.coverage_id || '/'
        || cast(timeline.event_seq as {{ dbt.type_string() }}) as timeline_row_id,
        timeline.basis,
        timeline.coverage_id,
        coverage_bases.holder_id,
        coverage_bases.policy_no,
        coverage_bases.coverage_no,
        timeline.event_seq,
        timeline.status_event_id,
        timeline.txn_id,
        timeline.txn_type,
        timeline.event_source,
        timeline.event_date,
        timeline.recorded_at,
        timeline.is_applied,
        timeline.ignored_reason,
        timeline.status,
        timeline.is_in_force,
        timeline.voids_coverage,
        timeline.valid_from,
        timeline.valid_until,
        timeline.is_applied
        and (timeline.valid_until is null or timeline.valid_until > timeline.valid_from) as is_nonempty_interval,
        voided.voided_status
    from timeline
    inner join coverage_bases
        on
            timeline.basis = coverage_bases.basis
            and timeline.coverage_id = coverage_bases.coverage_id
    left join voided
        on
            timeline.basis = voided.basis
            and timeline.coverage_id = voided.coverage_id
)

select * from final
