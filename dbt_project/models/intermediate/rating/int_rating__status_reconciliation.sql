-- One row per coverage: policies.csv's status against the status the transaction log leads to by the
-- as-of date. The log wins; a snapshot status no logged event explains became an implied event.
with

coverages as (
    select * from {{ ref('int_rating__coverages') }}
),

status_events as (
    select * from {{ ref('int_rating__status_events') }}
),

status_timeline as (
    select * from {{ ref('int_rating__coverage_status_timeline') }}
    where basis = 'effective'
),

latest_statuses as (
    select
        coverage_id,
        status,
        event_date,
        row_number() over (partition by coverage_id order by event_seq desc) as recency_rank
    from status_timeline
    where is_applied
),

implied_events as (
    select distinct coverage_id
    from status_events
    where event_source = 'snapshot'
),

final as (
    select
        coverages.coverage_id,
        coverages.holder_id,
        coverages.policy_no,
        coverages.coverage_no,
        coverages.snapshot_status,
        coverages.snapshot_status_date,
        latest_statuses.status as timeline_status,
        latest_statuses.event_date as timeline_status_date,
        implied_events.coverage_id is not null as has_implied_event,
        case
            when implied_events.coverage_id is not null then 'implied_event'
            when coverages.snapshot_status = latest_statuses.status then 'agrees'
            else 'disagrees'
        end as reconciliation
    from coverages
    inner join latest_statuses
        on
            coverages.coverage_id = latest_statuses.coverage_id
            and latest_statuses.recency_rank = 1
    left join implied_events
        on coverages.coverage_id = implied_events.coverage_id
)

select * from final
