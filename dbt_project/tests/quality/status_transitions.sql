{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_core__policy_transactions'}}}) }}
-- RULES §3 (a warning on the input): status events of each coverage follow legal transitions — a
-- reinstatement follows a lapse; nothing follows a free-look cancellation, surrender or termination (final
-- events of seed handbook_fixture/handbook_status_events). Returns the events making an illegal transition.
with

status_events as (
    select * from {{ ref('int_quality__coverage_status_events') }}
),

transitions as (
    select
        txn_id,
        policy_no,
        coverage_no,
        txn_type,
        effective_date,
        lag(txn_type) over coverage_events as previous_txn_type,
        lag(is_final) over coverage_events as previous_is_final
    from status_events
    window coverage_events as (partition by policy_no, coverage_no order by event_seq)
),

final as (
    select
        coalesce(transitions.previous_txn_type, 'none') || ' -> ' || transitions.txn_type as transition,
        transitions.*
    from transitions
    where
        transitions.previous_is_final
        or (
            transitions.txn_type = 'reinstate'
            and (transitions.previous_txn_type is null or transitions.previous_txn_type <> 'lapse')
        )
)

select * from final
