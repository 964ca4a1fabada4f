-- Data issues the rating met and how it settled them (RULES §2–3 "reported"): one row per issue.
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

status_events as (
    select * from {{ ref('int_rating__status_events') }}
),

status_timeline as (
    select * from {{ ref('int_rating__coverage_status_timeline') }}
    where basis = 'effective'
),

reconciliation as (
    select * from {{ ref('int_rating__status_reconciliation') }}
),

premiums as (
    select * from {{ ref('int_rating__coverage_premiums') }}
),

slices as (
    select * from {{ ref('int_rating__slices') }}
    where basis = 'effective'
),

issues as (
    select
        'implied_status_event' as issue_code,
        status_event_id as issue_key,
        coverage_id,
        txn_id,
        effective_date as issue_date,
        'policies.csv status ' || txn_type || ' (' || status_event_id || ') has no status event in the log: '
        || 'taken as an implied event' as detail
    from status_events
    where event_source = 'snapshot'

    union all

    select
        'status_disagreement' as issue_code,
        coverage_id as issue_key,
        coverage_id,
        cast(null as {{ dbt.type_string() }}) as txn_id,
        snapshot_status_date as issue_date,
        'policies.csv status ' || snapshot_status || ', transaction log ' || timeline_status
        || ': the log wins' as detail
    from reconciliation
    where reconciliation = 'disagrees'

    union all

    select
        'ignored_status_event' as issue_code,
        status_event_id as issue_key,
        coverage_id,
        txn_id,
        event_date as issue_date,
        txn_type || ' ignored: ' || ignored_reason as detail
    from status_timeline
    where not is_applied

    union all

    select
        'free_look_cancel_after_free_look' as issue_code,
        status_timeline.status_event_id as issue_key,
        status_timeline.coverage_id,
        status_timeline.txn_id,
        status_timeline.event_date as issue_date,
        'free-look cancellation dated after the free-look period (ends '
        || cast(coverages.free_look_end_date as {{ dbt.type_string() }}) || '): the coverage is void all the same'
            as detail
    from status_timeline
    inner join coverages
        on status_timeline.coverage_id = coverages.coverage_id
    where
        status_timeline.is_applied
        and status_timeline.voids_coverage
        and status_timeline.event_date > coverages.free_look_end_date

    union all

    select
        case
            when premiums.valid_until is null then 'no_premium_transaction'
            else 'premium_before_first_transaction'
        end as issue_code,
        premiums.coverage_id as issue_key,
        premiums.coverage_id,
        cast(null as {{ dbt.type_string() }}) as txn_id,
        coverages.effective_date as issue_date,
        'policies.csv modal_premium used from the effective date until '
        || coalesce(cast(premiums.valid_until as {{ dbt.type_string() }}), 'the as-of date') as detail
    from premiums
    inner join coverages
        on premiums.coverage_id = coverages.coverage_id
    where
        premiums.valid_from is null
        and (premiums.valid_until is null or premiums.valid_until > coverages.effective_date)

    union all

    select
        case
            when coverages.coverage_id is null then 'no_main_coverage'
            else 'defaulted_to_main_coverage'
        end as issue_code,
        transactions.txn_id as issue_key,
        coverages.coverage_id,
        transactions.txn_id,
        transactions.effective_date as issue_date,
        transactions.txn_type || ' names no coverage: applied to coverage 0' as detail
    from transactions
    inner join txn_types
        on transactions.txn_type = txn_types.txn_type
    left join coverages
        on
            transactions.policy_no = coverages.policy_no
            and coverages.coverage_no = 0
    where
        txn_types.txn_class in ('premium', 'top_up')
        and transactions.coverage_no is null

    union all

    select distinct
        'no_rating_rule' as issue_code,
        policy_no || '/' || cast(coverage_no as {{ dbt.type_string() }}) || '/' || rulebook_id as issue_key,
        policy_no || '/' || cast(coverage_no as {{ dbt.type_string() }}) as coverage_id,
        top_up_txn_id as txn_id,
        counts_from as issue_date,
        'no row of rulebook ' || rulebook_id || ' rates this coverage: it never counts' as detail
    from slices
    where excluded_reason = 'no_rating_rule'
),

final as (
    select
        issues.issue_code || '/' || issues.issue_key as issue_id,
        issues.issue_code,
        coverages.holder_id,
        coverages.policy_no,
        coverages.coverage_no,
        issues.coverage_id,
        issues.txn_id,
        issues.issue_date,
        issues.detail
    from issues
    left join coverages
        on issues.coverage_id = coverages.coverage_id
)

select * from final
