{#- a view on DuckDB, so the tests always judge the staged log as it is; a table on Spark, whose hand-off to the
    control file reads every relation's Parquet (defs/engine.py) -#}
{{ config(materialized=('view' if target.type == 'duckdb' else 'table')) }}
-- The quality tests' own reading of the status log (RULES §3), independent of the rating models: every status
-- event on every coverage it applies to, in order, with whether it takes effect and the status it leaves.
with

handbook_events as (
    select * from {{ ref('handbook_status_events') }}
),

coverages as (
    select
        policy_no,
        coverage_no,
        effective_date
    from {{ ref('stg_core__policies') }}
),

transactions as (
    select
        txn_id,
        policy_no,
        coverage_no,
        txn_type,
        effective_date,
        recorded_at
    from {{ ref('stg_core__policy_transactions') }}
),

status_events as (
    select
        transactions.txn_id,
        coverages.policy_no,
        coverages.coverage_no,
        transactions.txn_type,
        transactions.effective_date,
        transactions.recorded_at,
        handbook_events.is_final,
        row_number() over (
            partition by coverages.policy_no, coverages.coverage_no
            order by transactions.effective_date, transactions.recorded_at, transactions.txn_id
        ) as event_seq
    from transactions
    inner join handbook_events
        on transactions.txn_type = handbook_events.txn_type
    -- an event naming no coverage applies to every coverage of the policy in effect on its date
    inner join coverages
        on
            transactions.policy_no = coverages.policy_no
            and (
                transactions.coverage_no = coverages.coverage_no
                or (transactions.coverage_no is null and transactions.effective_date >= coverages.effective_date)
            )
),

final_events as (
    select
        policy_no,
        coverage_no,
        min(event_seq) as final_seq
    from status_events
    where is_final
    group by policy_no, coverage_no
),

applied_sequence as (
    select
        status_events.txn_id,
        status_events.policy_no,
        status_events.coverage_no,
        status_events.event_seq,
        max(case when status_events.txn_type <> 'reinstate' then status_events.event_seq end) over (
            partition by status_events.policy_no, status_events.coverage_no
            order by status_events.event_seq
            rows between unbounded preceding and current row
        ) as last_stop_seq,
        lead(status_events.effective_date) over (
            partition by status_events.policy_no, status_events.coverage_no
            order by status_events.event_seq
        ) as next_effective_date
    from status_events
    left join final_events
        on
            status_events.policy_no = final_events.policy_no
            and status_events.coverage_no = final_events.coverage_no
    -- nothing after the first final event takes effect
    where
        final_events.final_seq is null
        or status_events.event_seq <= final_events.final_seq
),

applied_status as (
    select
        applied_sequence.policy_no,
        applied_sequence.coverage_no,
        applied_sequence.event_seq,
        applied_sequence.next_effective_date,
        -- a reinstatement ends a lapse only; after any other stop it changes nothing
        case
            when last_stop.txn_type is null then 'in_force'
            when last_stop.txn_type = 'lapse' and applied_sequence.last_stop_seq < applied_sequence.event_seq
                then 'in_force'
            else stop_events.status_after
        end as status_after
    from applied_sequence
    left join status_events as last_stop
        on
            applied_sequence.policy_no = last_stop.policy_no
            and applied_sequence.coverage_no = last_stop.coverage_no
            and applied_sequence.last_stop_seq = last_stop.event_seq
    left join handbook_events as stop_events
        on last_stop.txn_type = stop_events.txn_type
),

final as (
    select
        status_events.txn_id,
        status_events.policy_no,
        status_events.coverage_no,
        status_events.txn_type,
        status_events.effective_date,
        status_events.recorded_at,
        status_events.event_seq,
        status_events.is_final,
        applied_status.event_seq is not null as is_applied,
        applied_status.status_after,
        applied_status.next_effective_date
    from status_events
    left join applied_status
        on
            status_events.policy_no = applied_status.policy_no
            and status_events.coverage_no = applied_status.coverage_no
            and status_events.event_seq = applied_status.event_seq
)

select * from final
