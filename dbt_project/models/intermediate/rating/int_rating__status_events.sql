-- One row per status event and coverage: the log's status events (a whole-policy event, coverage_no
-- null, on every coverage of the policy in effect on its date) plus, for a coverage whose policies.csv
-- status no logged event explains, that status as an implied event at its status_date (source snapshot).
-- known_date = max(effective_date, date(recorded_at)): when the event became known.
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

transactions as (
    select * from {{ ref('int_core__policy_transactions_resolved') }}
),

txn_types as (
    select * from {{ ref('stg_rules__txn_types') }}
),

status_types as (
    select * from txn_types
    where txn_class = 'status'
),

logged as (
    select
        transactions.txn_id || '/' || cast(coverages.coverage_no as {{ dbt.type_string() }}) as status_event_id,
        transactions.txn_id,
        coverages.coverage_id,
        coverages.holder_id,
        coverages.policy_no,
        coverages.coverage_no,
        transactions.txn_type,
        'log' as event_source,
        transactions.coverage_no is null as is_policy_level,
        transactions.effective_date,
        transactions.recorded_at,
        greatest(transactions.effective_date, cast(transactions.recorded_at as date)) as known_date
    from transactions
    inner join status_types
        on transactions.txn_type = status_types.txn_type
    inner join coverages
        on
            transactions.policy_no = coverages.policy_no
            and (
                transactions.coverage_no = coverages.coverage_no
                or (transactions.coverage_no is null and transactions.effective_date >= coverages.effective_date)
            )
),

implied as (
    select
        'snapshot/' || coverages.coverage_id as status_event_id,
        cast(null as {{ dbt.type_string() }}) as txn_id,
        coverages.coverage_id,
        coverages.holder_id,
        coverages.policy_no,
        coverages.coverage_no,
        status_types.txn_type,
        'snapshot' as event_source,
        false as is_policy_level,
        coalesce(coverages.snapshot_status_date, coverages.extract_date) as effective_date,
        cast(coverages.extract_date as timestamp) as recorded_at,
        greatest(coalesce(coverages.snapshot_status_date, coverages.extract_date), coverages.extract_date) as known_date
    from coverages
    inner join status_types
        on coverages.snapshot_status = status_types.status_after
    where
        coverages.snapshot_status <> 'in_force'
        and not exists (
            select 1
            from logged
            inner join status_types as logged_types
                on logged.txn_type = logged_types.txn_type
            where
                logged.coverage_id = coverages.coverage_id
                and logged_types.status_after = coverages.snapshot_status
        )
),

events as (
    select * from logged
    union all
    select * from implied
),

final as (
    select
        events.status_event_id,
        events.txn_id,
        events.coverage_id,
        events.holder_id,
        events.policy_no,
        events.coverage_no,
        events.txn_type,
        events.event_source,
        events.is_policy_level,
        events.effective_date,
        events.recorded_at,
        events.known_date,
        status_types.status_after,
        status_types.is_final,
        status_types.voids_coverage,
        status_types.requires_status_before,
        status_types.is_in_force_after
    from events
    inner join status_types
        on events.txn_type = status_types.txn_type
)

select * from final
