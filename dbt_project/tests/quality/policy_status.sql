{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_core__policies'}}}) }}
-- CONTRACT §1 (a warning on the input): each coverage's status in policies.csv agrees with the status its
-- transaction log leads to (int_quality__coverage_status_events; no status event = in_force). Returns the
-- coverages that disagree.
with

policies as (
    select
        policy_no,
        coverage_no,
        holder_id,
        status,
        status_date
    from {{ ref('stg_core__policies') }}
),

ranked_events as (
    select
        policy_no,
        coverage_no,
        txn_id,
        status_after,
        row_number() over (partition by policy_no, coverage_no order by event_seq desc) as recency
    from {{ ref('int_quality__coverage_status_events') }}
    where is_applied
),

latest_events as (
    select * from ranked_events
    where recency = 1
),

final as (
    select
        policies.policy_no,
        policies.coverage_no,
        policies.holder_id,
        policies.status,
        policies.status_date,
        coalesce(latest_events.status_after, 'in_force') as log_status,
        latest_events.txn_id as latest_txn_id
    from policies
    left join latest_events
        on
            policies.policy_no = latest_events.policy_no
            and policies.coverage_no = latest_events.coverage_no
    where
        policies.status is null
        or policies.status <> coalesce(latest_events.status_after, 'in_force')
)

select * from final
