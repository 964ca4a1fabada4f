{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_policy_rating'}}}) }}
-- RULES §3: no group, under-12-month or free-look-cancelled coverage has a counting slice, and no counting
-- slice overlaps a period after a surrender, lapse (until reinstated), reduced paid-up, premium waiver or
-- termination of its coverage or policy, read from the staged log by int_quality__coverage_status_events
-- (independent of the rating models). Only what starts on or before the valuation date is judged, and
-- snapshot statuses no event explains are not used, except free_look_cancelled (docs/decisions_quality.md).
-- Returns the offending slices with the period they overlap.
with

status_events as (
    select * from {{ ref('int_quality__coverage_status_events') }}
    where is_applied
),

policies as (
    select * from {{ ref('stg_core__policies') }}
),

counting_slices as (
    select
        holder_id,
        policy_no,
        coverage_no,
        slice_kind,
        rulebook_id,
        counts_from,
        counts_until
    from {{ ref('fct_policy_rating') }}
    where excluded_reason is null
),

valuation as (
    select {{ as_of_date() }} as as_of_date
),

stop_periods as (
    select
        policy_no,
        coverage_no,
        txn_id,
        txn_type,
        effective_date as stop_from,
        next_effective_date as stop_until
    from status_events
    where
        status_after <> 'in_force'
        and (next_effective_date is null or next_effective_date > effective_date)
),

final_log_events as (
    select distinct
        policy_no,
        coverage_no
    from status_events
    where is_final
),

never_counting as (
    select
        policy_no,
        coverage_no,
        case when is_group then 'group' else 'term_under_12_months' end as reason
    from policies
    where is_group or coverage_term_months < 12

    union all

    select
        status_events.policy_no,
        status_events.coverage_no,
        'free_look_cancelled' as reason
    from status_events
    cross join valuation
    where
        status_events.txn_type = 'free_look_cancel'
        and status_events.effective_date <= valuation.as_of_date

    union all

    select
        policies.policy_no,
        policies.coverage_no,
        'free_look_cancelled' as reason
    from policies
    cross join valuation
    left join final_log_events
        on
            policies.policy_no = final_log_events.policy_no
            and policies.coverage_no = final_log_events.coverage_no
    where
        policies.status = 'free_look_cancelled'
        and coalesce(policies.status_date, policies.effective_date) <= valuation.as_of_date
        and final_log_events.policy_no is null
),

never_counting_coverages as (
    select distinct
        policy_no,
        coverage_no,
        reason
    from never_counting
),

counted_although_excluded as (
    select
        'counts although ' || never_counting.reason as problem,
        counting_slices.*,
        cast(null as date) as stop_from,
        cast(null as date) as stop_until,
        cast(null as {{ dbt.type_string() }}) as stop_txn_id
    from counting_slices
    inner join never_counting_coverages as never_counting
        on
            counting_slices.policy_no = never_counting.policy_no
            and counting_slices.coverage_no = never_counting.coverage_no
),

counted_while_stopped as (
    select
        'counts after ' || stop_periods.txn_type as problem,
        counting_slices.*,
        stop_periods.stop_from,
        stop_periods.stop_until,
        stop_periods.txn_id as stop_txn_id
    from counting_slices
    inner join stop_periods
        on
            counting_slices.policy_no = stop_periods.policy_no
            and counting_slices.coverage_no = stop_periods.coverage_no
            and counting_slices.counts_from < coalesce(stop_periods.stop_until, cast('9999-12-31' as date))
            and stop_periods.stop_from < coalesce(counting_slices.counts_until, cast('9999-12-31' as date))
    cross join valuation
    where greatest(counting_slices.counts_from, stop_periods.stop_from) <= valuation.as_of_date
),

final as (
    select * from counted_although_excluded

    union all

    select * from counted_while_stopped
)

select * from final
